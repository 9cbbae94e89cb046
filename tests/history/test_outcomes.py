"""Outcomes beside the scores on SQLite and PostgreSQL: only scored leads are kept, the same
outcome twice changes nothing, a changed one is counted, tenants stay apart (a purge taking
the outcomes of leads it left without a score: test_retention.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history import outcomes as outcomes_module
from leadml.history.engine import make_engine
from leadml.history.outcomes import (
    Outcome,
    OutcomeResult,
    outcomes_mark,
    record_outcomes,
    record_outcomes_at,
    stored_time,
)
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory

NOW = datetime.now(UTC)
WON_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def score(lead_id: str, tenant: str = "crm-a", days: float = 0, shadow: bool = False):
    return ScoreRecord(
        tenant, lead_id, "v1", 0.5, 50, "B", NOW - timedelta(days=days), None, shadow=shadow
    )


def write(url: str, records: list[ScoreRecord]) -> None:
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(records)
    assert keeper.flush()
    keeper.close()


def stored(engine: sa.Engine) -> dict[tuple[str, str], tuple[bool, datetime | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT tenant, lead_id, converted, outcome_at FROM lead_outcomes")
        ).all()
    return {(r[0], r[1]): (bool(r[2]), stored_time(r[3])) for r in rows}


def recorded_at(engine: sa.Engine, lead_id: str) -> datetime | None:
    with engine.connect() as conn:
        value = conn.execute(
            sa.text("SELECT recorded_at FROM lead_outcomes WHERE lead_id = :l"), {"l": lead_id}
        ).scalar()
    return stored_time(value)


@pytest.fixture()
def engine(db_url: str):
    write(db_url, [score("L1"), score("L2"), score("L3"), score("B1", tenant="crm-b")])
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_new_outcomes_are_stored_and_unknown_leads_reported_not_stored(engine) -> None:
    result = record_outcomes(
        engine,
        "crm-a",
        [Outcome("L1", True, WON_AT), Outcome("NOPE", True), Outcome("L2", False)],
    )
    assert result == OutcomeResult(2, ["NOPE"], 0)
    assert stored(engine) == {("crm-a", "L1"): (True, WON_AT), ("crm-a", "L2"): (False, None)}


def test_the_same_outcome_again_changes_nothing_a_changed_one_counts(engine) -> None:
    first = [Outcome("L1", True, WON_AT), Outcome("L2", False)]
    assert record_outcomes(engine, "crm-a", first).recorded == 2
    stamp = recorded_at(engine, "L1")
    again = record_outcomes(engine, "crm-a", first)
    assert (again.recorded, again.unchanged, again.unknown_leads) == (0, 2, [])
    assert recorded_at(engine, "L1") == stamp  # untouched
    # The same instant written in another zone is the same outcome.
    plus_two = WON_AT.astimezone(timezone(timedelta(hours=2)))
    assert record_outcomes(engine, "crm-a", [Outcome("L1", True, plus_two)]).recorded == 0
    # A reopened deal that was lost after all; a time given where there was none.
    changed = record_outcomes(
        engine, "crm-a", [Outcome("L1", False, WON_AT), Outcome("L2", False, WON_AT)]
    )
    assert (changed.recorded, changed.unchanged) == (2, 0)
    assert stored(engine) == {("crm-a", "L1"): (False, WON_AT), ("crm-a", "L2"): (False, WON_AT)}
    assert recorded_at(engine, "L1") >= stamp


def test_a_time_without_a_zone_is_utc(engine) -> None:
    record_outcomes(engine, "crm-a", [Outcome("L1", True, datetime(2026, 11, 30, 10, 0))])
    assert stored(engine)[("crm-a", "L1")] == (True, WON_AT)


def test_duplicates_in_one_batch_the_last_wins_counted_once(engine) -> None:
    batch = [
        Outcome("L1", False),
        Outcome("X", True),
        Outcome("L1", True, WON_AT),
        Outcome("X", False),
    ]
    assert record_outcomes(engine, "crm-a", batch) == OutcomeResult(1, ["X"], 0)
    assert stored(engine) == {("crm-a", "L1"): (True, WON_AT)}


def test_tenants_are_apart(engine) -> None:
    # crm-b scored B1 only: crm-a's leads are unknown to it, and the other way round.
    result = record_outcomes(engine, "crm-b", [Outcome("L1", True), Outcome("B1", True)])
    assert result == OutcomeResult(1, ["L1"], 0)
    assert record_outcomes(engine, "crm-a", [Outcome("B1", False)]).unknown_leads == ["B1"]
    assert stored(engine) == {("crm-b", "B1"): (True, None)}


def test_only_a_served_score_makes_a_lead_known(db_url: str) -> None:
    write(db_url, [score("SHADOW-ONLY", shadow=True), score("BOTH"), score("BOTH", shadow=True)])
    engine = make_engine(db_url)
    try:
        result = record_outcomes(
            engine, "crm-a", [Outcome("SHADOW-ONLY", True), Outcome("BOTH", True)]
        )
        assert result == OutcomeResult(1, ["SHADOW-ONLY"], 0)
    finally:
        engine.dispose()


def test_a_fresh_database_is_upgraded_first_and_an_empty_batch_is_nothing(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert record_outcomes(engine, "crm-a", []) == OutcomeResult(0)
        assert record_outcomes(engine, "crm-a", [Outcome("L1", True)]) == OutcomeResult(0, ["L1"])
        assert stored(engine) == {}
    finally:
        engine.dispose()


def test_many_leads_in_chunks_in_one_transaction(engine, monkeypatch) -> None:
    monkeypatch.setattr(outcomes_module, "CHUNK_IDS", 2)
    batch = [Outcome(f"L{i}", i % 2 == 0) for i in (1, 2, 3)] + [Outcome("Z1", True)]
    assert record_outcomes(engine, "crm-a", batch) == OutcomeResult(3, ["Z1"], 0)
    assert len(stored(engine)) == 3


def test_concurrent_batches_of_the_same_new_leads_both_succeed(db_url: str) -> None:
    write(db_url, [score(f"C{i}") for i in range(200)])
    engine = make_engine(db_url)
    results: list[OutcomeResult] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            batch = [Outcome(f"C{i}", True, WON_AT) for i in range(200)]
            results.append(record_outcomes(engine, "crm-a", batch))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        # Each lead is stored once; counted by whichever batch stored it.
        assert sum(r.recorded for r in results) == 200
        assert len(stored(engine)) == 200
    finally:
        engine.dispose()


def test_record_outcomes_at_refuses_a_missing_sqlite_file(tmp_path) -> None:
    missing = tmp_path / "nowhere.db"
    with pytest.raises(LeadMLError, match="no score history at"):
        record_outcomes_at(f"sqlite:///{missing}", "crm-a", [Outcome("L1", True)])
    assert not missing.exists()


def test_a_stored_time_that_cannot_be_read_is_replaced(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    write(url, [score("L1")])
    engine = make_engine(url)
    try:
        record_outcomes(engine, "crm-a", [Outcome("L1", True, WON_AT)])
        with engine.begin() as conn:  # what a hand edit may leave
            conn.execute(sa.text("UPDATE lead_outcomes SET outcome_at = 'never'"))
        assert record_outcomes(engine, "crm-a", [Outcome("L1", True, WON_AT)]).recorded == 1
        assert stored(engine)[("crm-a", "L1")] == (True, WON_AT)
    finally:
        engine.dispose()
    with pytest.raises(ValueError):
        stored_time("never")


def test_the_outcomes_mark_moves_with_every_change_and_per_tenant(engine, db_url: str) -> None:
    """What a monitor answer is keyed on: stored, changed, or imported by another process."""
    assert outcomes_mark(engine, "crm-a") == (0, None)
    record_outcomes(engine, "crm-a", [Outcome("L1", True)])
    first = outcomes_mark(engine, "crm-a")
    assert first[0] == 1 and first[1] is not None
    record_outcomes(engine, "crm-a", [Outcome("L1", True)])  # sent again: nothing changed
    assert outcomes_mark(engine, "crm-a") == first
    record_outcomes(engine, "crm-a", [Outcome("L1", False)])  # a changed outcome, same count
    changed = outcomes_mark(engine, "crm-a")
    assert changed[0] == 1 and changed != first
    record_outcomes_at(db_url, "crm-a", [Outcome("L2", True)])  # `leadml outcomes import`
    assert outcomes_mark(engine, "crm-a")[0] == 2
    assert outcomes_mark(engine, "crm-b") == (0, None)  # another tenant's are not its own
