"""Paths every test folder names: the project's schemas, the public data beside the project."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The synthetic CRM's schema, as a user passes it to ``--schema``.
SCHEMA = str(ROOT / "data" / "schemas" / "synthetic.toml")
#: The real public data sets in ../shared/data (read in place, never copied into the project).
SHARED_DATA = ROOT.parent / "shared" / "data"
#: Screenshots the browser tests leave for the README.
ARTIFACTS = ROOT / "tests" / "artifacts"


def folder_digest(folder: Path) -> str:
    """One hash of every file's name and bytes under ``folder``: "left untouched" as a value."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()
