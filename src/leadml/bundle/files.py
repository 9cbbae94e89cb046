"""A bundle folder on disk: plain files written atomically and checked before they are trusted.

``model.txt`` is LightGBM's own text format, ``leadml.json`` the schema, frozen encodings,
calibrator, grade bands and metadata, ``metrics.json`` the evaluation. Nothing is pickled, so
loading a model never runs code from the file; a folder is swapped in whole or not at all.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from leadml.errors import ModelLoadError

BUNDLE_FORMAT = 1
MODEL_FILE = "model.txt"
META_FILE = "leadml.json"
METRICS_FILE = "metrics.json"


def replace_folder(source: Path, target: Path) -> None:
    """Copy a finished folder into place beside ``target``, then swap it in (see ``swap_in``)."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    shutil.rmtree(staging)
    shutil.copytree(source, staging)
    swap_in(staging, target)


def swap_in(staging: Path, target: Path) -> None:
    """Rename a finished folder into place; the previous one goes only once the new one is.

    Both renames stay on one filesystem (staging is made beside the target), so a reader sees
    either the old folder or the new one, never a half-written one.
    """
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def checked_model_text(folder: Path, meta: dict[str, Any]) -> str:
    """``model.txt``, checked against the bundle's checksum before LightGBM parses it.

    LightGBM 4.7 does not raise on a damaged model file: a truncated copy crashes the process
    (segfault) and a garbled number aborts it, which would take a serving process down on a
    hot reload. Bundles written before the checksum existed are passed through unchecked.
    """
    data = (folder / MODEL_FILE).read_bytes()
    expected = meta.get("model_sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise ModelLoadError(
            f"{folder}: corrupt bundle ({MODEL_FILE} does not match the checksum in "
            f"{META_FILE}: truncated or damaged)"
        )
    return data.decode()


def json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
