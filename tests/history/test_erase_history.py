"""``leadml history erase``: a tenant's, or one lead's, scores and outcomes go, on SQLite and
PostgreSQL; a lead id held by two tenants is refused until one is named; counts are printed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from leadml.cli import app
from leadml.history.outcomes import Outcome, record_outcomes
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory


def fill(url: str) -> None:
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    now = datetime.now(UTC)
    keeper.record(
        ScoreRecord(tenant, lead, "v1", 0.5, 50, "B", now, None)
        for tenant, lead in [("a", "L1"), ("a", "L1"), ("a", "L2"), ("b", "L1"), ("b", "L9")]
    )
    assert keeper.flush()
    for tenant, leads in (("a", ["L1", "L2"]), ("b", ["L1"])):
        record_outcomes(keeper.engine, tenant, [Outcome(i, True, None) for i in leads])
    keeper.close()


def left(url: str, table: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT tenant, lead_id FROM {table}")).all()
    finally:
        engine.dispose()
    return sorted(set((r[0], r[1]) for r in rows))


def erase(url: str, *args: str, home: Path):
    return CliRunner().invoke(
        app,
        ["history", "erase", *args, "--history", url],
        env={"LEADML_HOME": str(home), "COLUMNS": "200"},
    )


def test_erase_a_lead_then_a_tenant(db_url: str, tmp_path: Path) -> None:
    fill(db_url)
    shared = erase(db_url, "--lead", "L1", home=tmp_path)
    assert shared.exit_code == 2 and "in 2 tenants' histories (a, b)" in shared.output
    assert "--tenant" in shared.output and len(left(db_url, "lead_scores")) == 4

    done = erase(db_url, "--lead", "L1", "--tenant", "a", home=tmp_path)
    assert done.exit_code == 0, done.output
    assert "Erased 2 scores and 1 outcomes of lead 'L1' of tenant 'a'" in done.output
    assert left(db_url, "lead_scores") == [("a", "L2"), ("b", "L1"), ("b", "L9")]
    assert left(db_url, "lead_outcomes") == [("a", "L2"), ("b", "L1")]

    alone = erase(db_url, "--lead", "L9", home=tmp_path)  # one tenant holds it: that one
    assert alone.exit_code == 0 and "of lead 'L9' of tenant 'b'" in alone.output

    tenant = erase(db_url, "--tenant", "b", home=tmp_path)
    assert "Erased 1 scores and 1 outcomes of tenant 'b'" in tenant.output
    assert left(db_url, "lead_scores") == [("a", "L2")]
    assert left(db_url, "lead_outcomes") == [("a", "L2")]


def test_erase_says_what_it_needs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    nothing = erase(url, "--tenant", "a", home=tmp_path)
    assert nothing.exit_code == 2 and "no score history at" in nothing.output
    fill(url)
    neither = erase(url, home=tmp_path)
    assert neither.exit_code == 2 and "--tenant NAME, --lead ID" in neither.output
    unknown = erase(url, "--lead", "NOPE", home=tmp_path)
    assert unknown.exit_code == 2 and "in no tenant's history" in unknown.output
