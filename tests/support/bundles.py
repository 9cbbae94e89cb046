"""Bundles changed the way someone who can write the folder would change them.

Whoever writes a bundle can also rewrite the checksum beside the model file, so ``tamper``
always recomputes it: only the metadata checks, the signature (without the key) and the child
process stand between such a bundle and the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from leadml.bundle.files import META_FILE, MODEL_FILE, file_sha256
from leadml.bundle.signing import sign_bundle

KEY = SecretStr("bundle-key-for-tests-0123456789")
OTHER_KEY = SecretStr("someone-elses-key-9876543210")


def tamper(
    folder: Path,
    edit: Callable[[dict[str, Any]], None] | None = None,
    *,
    model_text: str | None = None,
    key: SecretStr | None = None,
) -> Path:
    """Edit ``leadml.json`` and/or replace ``model.txt``, recompute the checksum, and re-sign
    with ``key`` when given (what a holder of the key could do)."""
    meta = json.loads((folder / META_FILE).read_text())
    if model_text is not None:
        (folder / MODEL_FILE).write_text(model_text)
    meta["model_sha256"] = file_sha256(folder / MODEL_FILE)
    if edit is not None:
        edit(meta)
    (folder / META_FILE).write_text(json.dumps(meta))
    if key is not None:
        sign_bundle(folder, key)
    return folder


def rename_feature(meta: dict[str, Any], old: str, new: str, *, schema: bool) -> None:
    """Rename a feature in the encoder (and in the schema too when ``schema``)."""
    encoder = meta["encoder"]
    encoder["names"] = [new if n == old else n for n in encoder["names"]]
    if old in encoder["levels"]:
        encoder["levels"] = {(new if k == old else k): v for k, v in encoder["levels"].items()}
    if schema:
        features = meta["schema"]["features"]
        meta["schema"]["features"] = {(new if k == old else k): v for k, v in features.items()}
