"""The store on SQLite and a real PostgreSQL: rows, trends and tenants, outages, a full queue,
rows a database refuses, and reads that no stored value can break."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history.rows import ScoreRecord, trend
from leadml.history.store import RETRY_DOWN_S, HistoryBusy, ScoreHistory
from leadml.history.tables import head_revision
from tests.support.processes import free_port


def record(
    lead_id: str, score: int, version: str = "v1", minutes: int = 0, tenant: str = "crm-a"
) -> ScoreRecord:
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    grade = "A" if score >= 60 else "D"
    return ScoreRecord(
        tenant, lead_id, version, score / 100, score, grade, stamp, {"employees": 5.0}
    )


def as_starlette_sends(rows: list[dict]) -> bytes:
    """What ``JSONResponse`` does with a body: strict JSON, UTF-8."""
    body = [{**r, "scored_at": r["scored_at"].isoformat()} for r in rows]
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_trend_rule() -> None:
    assert trend(50, None) is None
    assert trend(52, 50) == "improving"
    assert trend(48, 50) == "declining"
    assert trend(51, 50) == "steady" and trend(49, 50) == "steady" and trend(50, 50) == "steady"


def test_rows_round_trip_and_previous_scores_come_from_the_database(db_url: str) -> None:
    store = ScoreHistory(db_url)
    store.start()
    try:
        store.record([record("A", 40, minutes=0), record("B", 70, minutes=1)])
        store.record([record("A", 41, minutes=2), record("A", 45, "v2", minutes=3)])
        assert store.flush()
        timeline = store.lead("crm-a", "A")
        assert [r["score"] for r in timeline] == [40, 41, 45]
        assert [r["model_version"] for r in timeline] == ["v1", "v1", "v2"]
        assert timeline[-1]["scored_at"] == datetime(2026, 1, 1, 0, 3, tzinfo=UTC)
        assert timeline[0]["features"] == {"employees": 5.0}
        assert "tenant" not in timeline[0]  # the caller knows its own
        recent = store.recent("crm-a", 10)
        assert [(r["lead_id"], r["score"]) for r in recent] == [("A", 45), ("B", 70)]
        assert store.status()["written"] == 4 and store.healthy
    finally:
        store.close()
    # A new process has an empty memory: the previous scores must come from the database.
    fresh = ScoreHistory(db_url)
    fresh.start()
    try:
        assert fresh.previous_scores("crm-a", ["A", "B", "C"]) == {"A": 45, "B": 70}
    finally:
        fresh.close()


def test_tenants_never_see_each_other(db_url: str) -> None:
    store = ScoreHistory(db_url)
    store.start()
    try:
        store.record([record("SAME", 20, tenant="crm-a"), record("A-ONLY", 30, tenant="crm-a")])
        store.record([record("SAME", 90, tenant="crm-b", minutes=1)])
        assert store.flush()
        # In memory, as the scoring route asks first.
        assert store.remembered("crm-b", ["SAME", "A-ONLY"]) == ({"SAME": 90}, ["A-ONLY"])
        assert store.look_up("crm-b", ["A-ONLY"]) == {}
        assert [r["lead_id"] for r in store.recent("crm-b")] == ["SAME"]
        assert [r["score"] for r in store.lead("crm-b", "SAME")] == [90]
        assert store.lead("crm-b", "A-ONLY") == []
        assert [r["score"] for r in store.lead("crm-a", "SAME")] == [20]
        assert store.recent("admin:ops") == []
    finally:
        store.close()
    fresh = ScoreHistory(db_url)  # and from the database alone
    fresh.start()
    try:
        assert fresh.previous_scores("crm-a", ["SAME", "A-ONLY"]) == {"SAME": 20, "A-ONLY": 30}
        assert fresh.previous_scores("crm-b", ["SAME", "A-ONLY"]) == {"SAME": 90}
        assert fresh.previous_scores("crm-c", ["SAME"]) == {}
    finally:
        fresh.close()


@pytest.mark.postgres
def test_rows_queued_during_an_outage_are_written_when_it_ends(postgres_url: str) -> None:
    """Down at start too: the table is created (upgraded) by the writer once it is back."""
    # search_path names a schema that does not exist yet: every write fails until it does.
    missing = f"s_{int(time.time() * 1000)}"
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={missing}"})
    store = ScoreHistory(url.render_as_string(hide_password=False))
    store.start()
    admin = sa.create_engine(postgres_url)
    try:
        store.record([record("Q1", 30), record("Q2", 35)])
        assert not store.flush(timeout=1.0)
        assert store.status()["pending"] == 2 and not store.healthy
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{missing}"'))
        assert store.flush(timeout=30.0), store.status()
        assert store.healthy and store.status()["written"] == 2
        assert [r["lead_id"] for r in store.recent("crm-a")] == ["Q2", "Q1"]
        with admin.connect() as conn:
            version = conn.execute(
                sa.text(f'SELECT version_num FROM "{missing}".lead_scores_version')
            ).scalar()
        assert version == head_revision()
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{missing}" CASCADE'))
        admin.dispose()


def test_a_full_queue_refuses_new_scores_and_drops_none(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="leadml.history")
    store = ScoreHistory(f"postgresql+psycopg://x:y@127.0.0.1:{free_port()}/none", queue=5)
    store.start()
    store.admit(8)  # an empty queue takes any request, however large
    store.record([record(f"L{i}", 50) for i in range(8)])
    deadline = time.monotonic() + 5
    while store.healthy and time.monotonic() < deadline:  # until the writer has tried
        time.sleep(0.02)
    with pytest.raises(HistoryBusy, match="8 scores waiting") as busy:
        store.admit(1)
    assert busy.value.retry_after == RETRY_DOWN_S
    store.admit(0)  # leads without an id are never refused
    status = store.status()
    assert (status["pending"], status["dropped"], status["queue_limit"]) == (8, 0, 5)
    # Trends still work for leads scored in this process (kept in memory).
    assert store.previous_scores("crm-a", ["L7"]) == {"L7": 50}

    # The database stays away past the flush timeout at shutdown: the loss is counted, logged.
    store.close(timeout=0.5)
    assert store.status()["dropped"] == 8 and store.status()["pending"] == 0
    lost = [r for r in caplog.records if "not written before shutdown" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.ERROR
    assert " 8 scores" in lost[0].getMessage() and ":y@" not in lost[0].getMessage()


def test_rows_the_database_refuses_are_counted_and_never_stall_the_rest(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A value a database cannot take must not block the queue behind it forever."""
    caplog.set_level(logging.WARNING, logger="leadml.history")
    bad = ["lone\ud800"]  # no driver can encode a lone surrogate
    if db_url.startswith("postgresql"):
        bad.append("nul\x00byte")  # PostgreSQL text holds no NUL
    store = ScoreHistory(db_url)
    store.start()
    try:
        store.record([record("GOOD-1", 10), *[record(b, 20) for b in bad], record("GOOD-2", 30)])
        assert store.flush(timeout=15), store.status()
        status = store.status()
        assert (status["written"], status["dropped"], status["pending"]) == (2, len(bad), 0)
        assert store.healthy  # the database is fine; the rows were not
        assert sorted(r["lead_id"] for r in store.recent("crm-a")) == ["GOOD-1", "GOOD-2"]
        store.record([record("GOOD-3", 40)])  # and the writer goes on
        assert store.flush() and store.status()["written"] == 3
    finally:
        store.close()
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and f"refused {len(bad)} scores" in refused[0]


def test_reads_never_fail_on_an_odd_stored_value(db_url: str) -> None:
    """Whatever the table holds, a read answers with JSON-safe rows (odd text replaced, rows
    whose numbers or time cannot be read skipped)."""
    store = ScoreHistory(db_url)
    store.start()
    try:
        store.record([record("FINE", 50)])
        assert store.flush()
        odd = [
            ("SURROGATE", "'2026-01-02 00:00:00+00'", "50", '{"job_title": "x\\ud800y"}'),
            ("PAIR", "'2026-01-02 00:00:00+00'", "50", '{"job_title": "\\ud83d\\ude00"}'),
        ]
        if db_url.startswith("sqlite"):  # SQLite stores anything in any column
            odd += [
                ("NAN", "'2026-01-02 00:00:00'", "50", '{"employees": NaN}'),
                ("NOT-JSON", "'2026-01-02 00:00:00'", "50", "{not json"),
                ("BAD-TIME", "'yesterday'", "50", "{}"),
                ("BAD-SCORE", "'2026-01-02 00:00:00'", "'high'", "{}"),
            ]
        with store.engine.begin() as conn:
            for lead_id, stamp, score, features in odd:
                conn.execute(
                    sa.text(
                        "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, "
                        f"score, grade, scored_at, features) VALUES ('crm-a', :id, 'v1', 0.5, "
                        f"{score}, 'B', {stamp}, :features)"
                    ),
                    {"id": lead_id, "features": features},
                )
            if db_url.startswith("sqlite"):  # bytes that are not UTF-8 at all
                conn.execute(
                    sa.text(
                        "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, "
                        "score, grade, scored_at) VALUES ('crm-a', CAST(x'4142ff43' AS TEXT), "
                        "'v1', 0.5, 50, 'B', '2026-01-02 00:00:00')"
                    )
                )
        rows = store.recent("crm-a", 100)
        as_starlette_sends(rows)  # would raise where the old store answered 500
        by_id = {r["lead_id"]: r for r in rows}
        assert by_id["SURROGATE"]["features"] == {"job_title": "x\ufffdy"}
        assert by_id["PAIR"]["features"] == {"job_title": "\N{GRINNING FACE}"}
        assert by_id["FINE"]["features"] == {"employees": 5.0}
        if db_url.startswith("sqlite"):
            assert by_id["NAN"]["features"] == {"employees": None}
            assert by_id["NOT-JSON"]["features"] is None
            assert "AB\ufffdC" in by_id
            assert "BAD-TIME" not in by_id and "BAD-SCORE" not in by_id  # skipped, not fatal
            assert store.lead("crm-a", "BAD-TIME") == []
        for lead_id in by_id:
            as_starlette_sends(store.lead("crm-a", lead_id))
    finally:
        store.close()


def test_a_bad_url_is_a_clear_error() -> None:
    with pytest.raises(LeadMLError, match="not a SQLAlchemy URL"):
        ScoreHistory("definitely not a url")
    with pytest.raises(LeadMLError, match="history URL"):
        ScoreHistory("nosuchdb://x")
