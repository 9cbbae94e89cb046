"""Fixtures for the bundle checks: a private copy of the session's bundle to tamper with.

The tampering itself (``tamper``, ``rename_feature``, the keys) lives in tests/support/bundles.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leadml.modeling.finish import TrainResult


@pytest.fixture()
def copied(trained: TrainResult, tmp_path: Path) -> Path:
    """A private copy of the session's trained bundle (unsigned, as the session trains it)."""
    assert trained.bundle is not None
    return Path(shutil.copytree(trained.bundle, tmp_path / "bundle"))
