"""Settings: the MLflow store is fixed when the settings are made, not by whoever ran last."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadml.config import Settings
from leadml.tracking.store import connect


def test_a_second_home_does_not_inherit_the_first_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MLflow's set_tracking_uri writes MLFLOW_TRACKING_URI into this process's environment;
    # a later Settings for another folder must still get its own store
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    first = Settings(home=tmp_path / "a")
    connect(first)
    second = Settings(home=tmp_path / "b")
    assert second.tracking_uri.endswith(str(tmp_path / "b" / "mlflow.db"))
    assert first.tracking_uri != second.tracking_uri


def test_the_standard_variable_wins_and_empty_means_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert Settings(home=tmp_path).tracking_uri == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    assert Settings(home=tmp_path).tracking_uri.startswith("sqlite:///")
    explicit = Settings(home=tmp_path, mlflow_tracking_uri="sqlite:////tmp/x.db")
    assert explicit.tracking_uri == "sqlite:////tmp/x.db"
