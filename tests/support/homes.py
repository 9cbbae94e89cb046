"""Copies of a trained project home, so a test that changes a store changes only its own.

Training a project takes seconds; copying its folder takes milliseconds. A module trains once
and every test that promotes, retrains or deletes works on a copy: no test sees what another
did, in any order. The runs a copy logs still point at the original's artifact folders (MLflow
stores them as absolute paths), which no test changes.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_home(home: Path, into: Path) -> Path:
    """``home`` (its MLflow store, registry, bundle folders and data) copied to ``into/home``."""
    return Path(shutil.copytree(home, into / "home"))
