"""``leadml history purge``: deletes what is older, says how many, refuses what it cannot do
in one line, and works on the history the service writes by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from leadml.cli import app
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory


def history_with(url: str, days_ago: list[int]) -> None:
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    now = datetime.now(UTC)
    keeper.record(
        ScoreRecord("crm-a", f"L{d}", "v1", 0.5, 50, "B", now - timedelta(days=d), None)
        for d in days_ago
    )
    assert keeper.flush()
    keeper.close()


def lead_ids(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text("SELECT lead_id FROM lead_scores")).scalars())
    finally:
        engine.dispose()


def purge(*args: str, home: Path, **env: str):
    return CliRunner().invoke(
        app, ["history", "purge", *args], env={"LEADML_HOME": str(home), "COLUMNS": "200", **env}
    )


def test_purge_deletes_what_is_older_and_says_how_many(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    history_with(url, [400, 200, 10, 1])
    cutoff = (datetime.now(UTC) - timedelta(days=100)).date().isoformat()
    done = purge("--before", cutoff, "--history", url, home=tmp_path)
    assert done.exit_code == 0, done.output
    assert f"Deleted 2 scores made before {cutoff}T00:00:00+00:00" in done.output
    assert lead_ids(url) == ["L1", "L10"]
    again = purge("--before", cutoff, "--history", url, home=tmp_path)
    assert again.exit_code == 0 and "Deleted 0 scores" in again.output


def test_purge_uses_the_history_the_service_writes(tmp_path: Path) -> None:
    default = f"sqlite:///{tmp_path / 'data' / 'score_history.db'}"
    history_with(default, [30, 3])
    done = purge("--before", (datetime.now(UTC) - timedelta(days=10)).isoformat(), home=tmp_path)
    assert done.exit_code == 0, done.output
    assert "Deleted 1 scores" in done.output and lead_ids(default) == ["L3"]
    # LEADML_HISTORY_URL, as the service reads it.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    history_with(other, [30])
    done = purge("--before", "2999-01-01", home=tmp_path, LEADML_HISTORY_URL=other)
    assert done.exit_code == 0 and lead_ids(other) == [] and lead_ids(default) == ["L3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--before", "last tuesday"], "--before 'last tuesday' is not a date"),
        (["--before", "2026-01-01", "--history", "none"], "score history is turned off"),
        (["--before", "2026-01-01", "--history", "not a url"], "is not a SQLAlchemy URL"),
    ],
)
def test_purge_refuses_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = purge(*args, home=tmp_path)
    assert done.exit_code == 2
    errors = [line for line in done.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], done.output
    assert "Traceback" not in done.output


def test_purge_never_creates_a_history(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "histroy.db"
    done = purge("--before", "2026-01-01", "--history", f"sqlite:///{missing}", home=tmp_path)
    assert done.exit_code == 2 and f"no score history at {missing}" in done.output
    assert not missing.exists() and not missing.parent.exists()


def test_a_date_that_does_not_parse_touches_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    history_with(url, [400])
    done = purge("--before", "everything", "--history", url, home=tmp_path)
    assert done.exit_code == 2 and lead_ids(url) == ["L400"]
