"""Objections kept in the history, on SQLite and PostgreSQL: recorded once per tenant and lead
(a resent list counts, stores nothing twice), asked about in one indexed query, and what the
history kept of the leads erased (scores and outcomes, served and queued, only theirs); the
CLI import does the same from a file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from leadml.cli import app
from leadml.history.engine import make_engine
from leadml.history.opt_outs import (
    OptOut,
    held,
    objected,
    record_opt_outs,
    record_posted_opt_outs,
)
from leadml.history.outcomes import Outcome, record_outcomes
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory
from leadml.history.tables import OPT_OUTS


def scored(keeper: ScoreHistory, pairs: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    keeper.record(ScoreRecord(t, i, "v1", 0.5, 50, "B", now, None) for t, i in pairs)


def rows(url: str, query: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(sa.text(query)).all())
    finally:
        engine.dispose()


def test_record_ask_and_erase(db_url: str) -> None:
    keeper = ScoreHistory(db_url, days=None)
    keeper.start()
    try:
        scored(keeper, [("a", "L1"), ("a", "L1"), ("a", "L2"), ("a", "L3"), ("b", "L1")])
        assert keeper.flush()
        record_outcomes(keeper.engine, "a", [Outcome("L1", True)])
        scored(keeper, [("a", "L1")])  # still queued when the objection arrives
        sent = [OptOut("L1", datetime(2026, 11, 30, 10, tzinfo=UTC)), OptOut("L2"), OptOut("L1")]
        result = record_posted_opt_outs(keeper, "a", sent)
        assert (result.recorded, result.already) == (2, 0)
        assert (result.scores_erased, result.outcomes_erased) == (4, 1)
        assert keeper.flush()
        # Only tenant a's L1 and L2 went: its L3 and tenant b's L1 (another person) stay.
        assert rows(db_url, "SELECT tenant, lead_id FROM lead_scores") == [("a", "L3"), ("b", "L1")]
        assert rows(db_url, "SELECT tenant, lead_id FROM lead_outcomes") == []
        assert objected(keeper.engine, "a", ["L1", "L2", "L3", "L9"]) == {"L1", "L2"}
        assert objected(keeper.engine, "b", ["L1", "L2"]) == set()
        assert keeper.remembered("a", ["L1"])[0] == {}  # no trend from an erased score
        again = record_posted_opt_outs(keeper, "a", [OptOut("L2"), OptOut("L1"), OptOut("L3")])
        assert (again.recorded, again.already, again.scores_erased) == (1, 2, 1)
        stored = rows(db_url, f"SELECT tenant, lead_id, objected_at FROM {OPT_OUTS}")
        assert [r[:2] for r in stored] == [("a", "L1"), ("a", "L2"), ("a", "L3")]
        first = stored[0][2]
        first = first if isinstance(first, datetime) else datetime.fromisoformat(first)
        assert first.replace(tzinfo=UTC) == datetime(2026, 11, 30, 10, tzinfo=UTC)
    finally:
        keeper.close()


def test_one_indexed_query_per_batch(db_url: str) -> None:
    engine = make_engine(db_url)  # a new SQLite file's folder is made
    try:
        record_opt_outs(engine, "t", [OptOut(f"L{i}") for i in range(0, 3000, 3)])
        statements: list[str] = []
        sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        found = objected(engine, "t", [f"L{i}" for i in range(1000)])
        assert found == {f"L{i}" for i in range(0, 1000, 3)}
        assert len([s for s in statements if OPT_OUTS in s]) == 1
        assert held(engine, "t", ["L0"]) == []
        # The unique key on (tenant, lead_id) is the index the question is answered from.
        keys = sa.inspect(engine).get_unique_constraints(OPT_OUTS)
        assert [k["column_names"] for k in keys] == [["tenant", "lead_id"]]
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN SELECT lead_id FROM {OPT_OUTS} "
                    "WHERE tenant = 't' AND lead_id IN ('L1', 'L2')"
                ).all()
            assert "INDEX" in " ".join(str(r[-1]) for r in plan), plan
    finally:
        engine.dispose()


def test_cli_import(db_url: str, tmp_path: Path) -> None:
    keeper = ScoreHistory(db_url, days=None)
    keeper.start()
    scored(keeper, [("crm", "7"), ("crm", "8"), ("crm", "9")])
    keeper.close()
    listing = tmp_path / "objections.csv"
    listing.write_text("id,when,email\n7,2026-11-30T10:00:00Z,x@y.z\n8,,a@b.c\n7,,x@y.z\n")
    args = ["opt-outs", "import", "--data", str(listing), "--on", "id", "--at-column", "when"]
    env = {"LEADML_HOME": str(tmp_path), "COLUMNS": "200"}
    done = CliRunner().invoke(app, [*args, "--history", db_url], env=env)
    assert done.exit_code == 0, done.output
    assert "Recorded 2 objections (0 already recorded)" in done.output
    assert "erased 2 stored scores" in done.output
    assert "x@y.z" not in done.output and "a@b.c" not in done.output
    assert rows(db_url, "SELECT lead_id FROM lead_scores") == [("9",)]
    again = CliRunner().invoke(app, [*args, "--history", db_url, "--tenant", "crm"], env=env)
    assert "Recorded 0 objections (2 already recorded)" in again.output, again.output
    wrong = CliRunner().invoke(app, [*args[:-1], "nope", "--history", db_url], env=env)
    assert wrong.exit_code != 0 and "--at-column column 'nope' is not in the table" in wrong.output
