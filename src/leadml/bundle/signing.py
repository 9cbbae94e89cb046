"""Signed bundles: an HMAC-SHA256 over every file of a bundle, made with a key only the team's
training and serving hold (``LEADML_BUNDLE_KEY``).

The checksum in ``leadml.json`` catches damage, not a person: whoever can write a bundle folder
can recompute it, and so serve a model with every cut-off at 0 (every lead an A). A MAC can only
be made by who holds the key, so a server holding it serves only bundles that training wrote.

The MAC covers every file (each relative path with its SHA-256, sorted), so no file can be
changed, added or dropped, while a byte-for-byte copy anywhere (MLflow's artifact store, another
disk) still verifies. It is kept in ``leadml.sig`` beside the files, with the list it covers, so
a refusal can say which file changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from pydantic import SecretStr

from leadml.bundle.files import bundle_files, file_sha256
from leadml.errors import ModelLoadError

SIGNATURE_FILE = "leadml.sig"
ALGORITHM = "hmac-sha256"
#: Bound into every MAC, so a MAC made for anything else never passes for a bundle's.
DOMAIN = b"leadml bundle v1\n"

Key = SecretStr | str | bytes


def _key_bytes(key: Key) -> bytes:
    if isinstance(key, SecretStr):
        key = key.get_secret_value()
    data = key.encode() if isinstance(key, str) else bytes(key)
    if not data:
        raise ValueError("the bundle key is empty")
    return data


def file_digests(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file of the bundle but the signature itself."""
    return {
        relative: file_sha256(path)
        for relative, path in bundle_files(folder)
        if relative != SIGNATURE_FILE
    }


def bundle_mac(digests: dict[str, str], key: Key) -> str:
    """The MAC over sorted (path, SHA-256) pairs; a NUL and a newline keep the pairs apart."""
    message = DOMAIN + b"".join(
        f"{relative}\0{digests[relative]}\n".encode() for relative in sorted(digests)
    )
    return hmac.new(_key_bytes(key), message, hashlib.sha256).hexdigest()


def sign_bundle(folder: str | Path, key: Key) -> Path:
    """Write ``leadml.sig`` for the folder as it is now: call it once every file is written."""
    folder = Path(folder)
    digests = file_digests(folder)
    record = {"algorithm": ALGORITHM, "files": digests, "mac": bundle_mac(digests, key)}
    path = folder / SIGNATURE_FILE
    path.write_text(json.dumps(record, indent=2, sort_keys=True))
    return path


def _changed(folder: Path, digests: dict[str, str]) -> str:
    """Which files differ from the list in ``leadml.sig`` (a hint: that list is unsigned)."""
    try:
        listed = json.loads((folder / SIGNATURE_FILE).read_text()).get("files", {})
    except (OSError, ValueError, AttributeError):
        return ""
    if not isinstance(listed, dict):
        return ""
    changed = sorted(p for p in digests.keys() & listed.keys() if digests[p] != listed[p])
    parts = [
        f"{label} {', '.join(names[:5])}"
        for label, names in (
            ("changed:", changed),
            ("added:", sorted(digests.keys() - listed.keys())),
            ("removed:", sorted(listed.keys() - digests.keys())),
        )
        if names
    ]
    return f"; {'; '.join(parts)}" if parts else ""


def verify_bundle(folder: str | Path, key: Key) -> None:
    """Refuse a bundle that is unsigned, or not signed with ``key`` as it is now."""
    folder = Path(folder)
    signature = folder / SIGNATURE_FILE
    if not signature.is_file() or signature.is_symlink():
        raise ModelLoadError(
            f"{folder}: unsigned bundle: this process holds a bundle key (LEADML_BUNDLE_KEY) "
            f"and loads only bundles signed with it ({SIGNATURE_FILE} is missing); "
            "retrain with the key set"
        )
    try:
        record = json.loads(signature.read_text())
        mac = record["mac"] if record.get("algorithm") == ALGORITHM else None
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        mac = None
    if not isinstance(mac, str):
        raise ModelLoadError(f"{folder}: bundle signature is unreadable ({SIGNATURE_FILE})")
    digests = file_digests(folder)
    if not hmac.compare_digest(bundle_mac(digests, key), mac):
        raise ModelLoadError(
            f"{folder}: bundle signature does not match: files changed since signing, or "
            f"signed with another key{_changed(folder, digests)}"
        )
