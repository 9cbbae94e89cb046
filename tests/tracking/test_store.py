"""An unreachable MLflow store stops training before any work, with nothing half-written."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import generate_leads
from tests.support.paths import SCHEMA


def test_unreachable_store_fails_fast_and_writes_nothing(tmp_path: Path) -> None:
    generate_leads(2000, seed=3).to_csv(tmp_path / "leads.csv", index=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    started = time.monotonic()
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused.
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(tmp_path / "leads.csv"),
            "--schema",
            SCHEMA,
            "--out",
            str(tmp_path / "models" / "leadml"),
        ],
        env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9", "LEADML_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"Project home: {tmp_path}")  # said first, on every run
    assert len(lines) == 2 and "MLflow store http://127.0.0.1:9 is not reachable" in lines[1]
    assert time.monotonic() - started < 60  # no retry storm before the verdict
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no models/, no store
