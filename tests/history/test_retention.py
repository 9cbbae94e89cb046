"""Retention: old scores are deleted, only old ones, at start and then on a timer, counted;
the outcomes of leads left without a score go with them."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history import retention, upkeep
from leadml.history.engine import make_engine
from leadml.history.outcomes import Outcome, record_outcomes
from leadml.history.retention import parse_before, purge
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory

NOW = datetime.now(UTC)


def aged(lead_id: str, days: float) -> ScoreRecord:
    return ScoreRecord("crm-a", lead_id, "v1", 0.5, 50, "B", NOW - timedelta(days=days), None)


def stored_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.text("SELECT lead_id FROM lead_scores")).scalars())


def write(url: str, records: list[ScoreRecord]) -> None:
    """Rows as a store without retention writes them."""
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(records)
    assert keeper.flush()
    keeper.close()


def test_purge_deletes_only_what_is_older_in_chunks(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK_ROWS", 7)  # 3 full chunks and a partial one
    old = [aged(f"OLD{i}", 400 + i) for i in range(25)]
    new = [aged(f"NEW{i}", i) for i in range(5)] + [aged("EDGE", 99.9)]
    write(db_url, old + new)
    engine = make_engine(db_url)
    try:
        assert purge(engine, NOW - timedelta(days=100)) == 25
        assert stored_ids(engine) == sorted(r.lead_id for r in new)
        assert purge(engine, NOW - timedelta(days=100)) == 0
        # A cutoff in another zone means the same instant (SQLite keeps UTC text).
        plus_two = (NOW - timedelta(days=2, hours=12)).astimezone(timezone(timedelta(hours=2)))
        assert purge(engine, plus_two) == 3  # NEW3, NEW4 and EDGE
    finally:
        engine.dispose()


def test_purge_takes_the_outcomes_of_leads_left_without_a_score(db_url: str) -> None:
    write(
        db_url,
        [
            aged("OLD", 400),
            aged("MIXED", 400),
            aged("MIXED", 1),
            aged("NEW", 1),
            ScoreRecord("crm-b", "OLD", "v1", 0.5, 50, "B", NOW, None),  # another tenant's
        ],
    )
    engine = make_engine(db_url)
    try:
        for tenant, leads in (("crm-a", ["OLD", "MIXED", "NEW"]), ("crm-b", ["OLD"])):
            assert record_outcomes(engine, tenant, [Outcome(i, True) for i in leads]).recorded
        assert purge(engine, NOW - timedelta(days=100)) == 2  # scores, as before
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT tenant, lead_id FROM lead_outcomes")).all()
        assert sorted(map(tuple, kept)) == [("crm-a", "MIXED"), ("crm-a", "NEW"), ("crm-b", "OLD")]
        assert purge(engine, NOW - timedelta(days=100)) == 0
    finally:
        engine.dispose()


def test_purge_refuses_a_database_without_a_history(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(LeadMLError, match="no score history here"):
            purge(engine, NOW)
    finally:
        engine.dispose()


def test_the_store_purges_at_start_then_on_its_timer(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="leadml.history")
    write(db_url, [aged("OLD1", 40), aged("OLD2", 31), aged("KEEP", 29)])
    monkeypatch.setattr(upkeep, "PURGE_EVERY_S", 0.5)  # "daily", sped up
    history = ScoreHistory(db_url, days=30)
    history.start()
    try:
        deadline = time.monotonic() + 10
        while history.status()["purged"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert history.status()["purged"] == 2
        assert stored_ids(history.engine) == ["KEEP"]
        # A row that is already too old when it arrives (a replay) goes at the next round.
        history.record([aged("LATE", 45), aged("NOW", 0)])
        assert history.flush()
        deadline = time.monotonic() + 10
        while history.status()["purged"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored_ids(history.engine) == ["KEEP", "NOW"]
        assert history.status()["purged"] == 3
    finally:
        history.close()
    counts = [m for m in caplog.messages if "deleted (history_days=30)" in m]
    assert counts[0].startswith("score history: 2 scores from before")
    assert any(m.startswith("score history: 1 scores from before") for m in counts[1:])


def test_parse_before() -> None:
    assert parse_before("2026-01-31") == datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_before(" 2026-01-31T12:30 ") == datetime(2026, 1, 31, 12, 30, tzinfo=UTC)
    stamp = parse_before("2026-01-31T12:30+02:00")
    assert stamp == datetime(2026, 1, 31, 10, 30, tzinfo=UTC)
    for text in ("yesterday", "31/01/2026", "", "2026-13-01"):
        with pytest.raises(LeadMLError, match="is not a date"):
            parse_before(text)


def test_the_start_up_purge_never_holds_new_scores_back(tmp_path) -> None:
    """A big purge at start runs beside the writer in small chunks: a score recorded meanwhile
    is written in a fraction of the purge's time (it used to wait for the whole purge)."""
    url = f"sqlite:///{tmp_path / 'big.db'}"
    write(url, [aged("SEED", 1)])
    old = (NOW - timedelta(days=400)).replace(tzinfo=None).isoformat(sep=" ")
    engine = make_engine(url)
    with engine.begin() as conn:  # a bulk insert: 200,000 scores older than a year
        conn.exec_driver_sql(
            "INSERT INTO lead_scores (lead_id, model_version, probability, score, grade, "
            "scored_at, tenant, shadow) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
            f"SELECT 'OLD' || i, 'v1', 0.5, 50, 'B', '{old}', 'crm-a', 0 FROM n"
        )
    engine.dispose()
    history = ScoreHistory(url, days=30)
    started = time.monotonic()
    history.start()
    try:
        history.record([aged("NEW", 0)])
        assert history.flush(60)
        wrote = time.monotonic() - started
        while history.status()["purged"] < 200_000:
            assert time.monotonic() - started < 120
            time.sleep(0.05)
        purged = time.monotonic() - started
        print(f"\nstart-up purge of 200,000 rows: {purged:.2f} s; new score written: {wrote:.3f} s")
        assert wrote < purged / 4
        assert stored_ids(history.engine) == ["NEW", "SEED"]
    finally:
        history.close()
