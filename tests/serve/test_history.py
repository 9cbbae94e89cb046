"""Score history on SQLite and on a real PostgreSQL server, and scoring while it is down."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

import serve.history as history_module
from bench.common import free_port
from serve.history import ScoreHistory, ScoreRecord, trend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sub' / 'history.db'}"
    return request.getfixturevalue("postgres_url")


def record(lead_id: str, score: int, version: str = "v1", minutes: int = 0) -> ScoreRecord:
    stamp = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    grade = "A" if score >= 60 else "D"
    return ScoreRecord(lead_id, version, score / 100, score, grade, stamp, {"employees": 5.0})


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
        timeline = store.lead("A")
        assert [r["score"] for r in timeline] == [40, 41, 45]
        assert [r["model_version"] for r in timeline] == ["v1", "v1", "v2"]
        assert timeline[-1]["scored_at"] == datetime(2026, 1, 1, 0, 3, tzinfo=UTC)
        assert timeline[0]["features"] == {"employees": 5.0}
        recent = store.recent(10)
        assert [(r["lead_id"], r["score"]) for r in recent] == [("A", 45), ("B", 70)]
        assert store.status()["written"] == 4 and store.healthy
    finally:
        store.close()
    # A new process has an empty memory: the previous scores must come from the database.
    fresh = ScoreHistory(db_url)
    fresh.start()
    try:
        assert fresh.previous_scores(["A", "B", "C"]) == {"A": 45, "B": 70}
    finally:
        fresh.close()


def test_api_trend_against_postgres(start_server, postgres_url: str) -> None:
    server = start_server(history_url=postgres_url)
    lead = {"lead_id": "PG-1", "budget_range": "< 10k"}
    with server.client() as client:
        first = client.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
        second = client.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
        assert server.history.flush()
        assert client.get("/ready").json()["history"]["database"].startswith("postgresql")
        assert [r["score"] for r in client.get("/v1/history/PG-1").json()["scores"]] == [
            first["score"],
            second["score"],
        ]
    assert (first["trend"], second["trend"]) == (None, "steady")
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM lead_scores")).scalar()
    engine.dispose()
    assert count == 2


def test_scoring_answers_while_the_database_is_down(start_server, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="serve.history")
    dead = f"postgresql+psycopg://leadml:secret-pw@127.0.0.1:{free_port()}/nowhere"
    server = start_server(history_url=dead)
    with server.client() as client:
        started = time.perf_counter()
        for i in range(5):
            response = client.post("/v1/score", json={"leads": [{"lead_id": f"D{i}"}]})
            assert response.status_code == 200
            assert response.json()["scores"][0]["trend"] is None
        assert time.perf_counter() - started < 10
        ready = client.get("/ready").json()
        assert ready["status"] == "ready" and ready["history"]["ok"] is False
        assert "secret-pw" not in str(ready)  # the password never leaves the server
        assert client.get("/v1/history").status_code == 503
    logged = [r.getMessage() for r in caplog.records if r.name == "serve.history"]
    assert logged, "the outage must be logged"
    assert all("secret-pw" not in m for m in logged)
    assert len(logged) <= 3, "an outage is logged once, not once per request"


@pytest.mark.postgres
def test_rows_queued_during_an_outage_are_written_when_it_ends(postgres_url: str) -> None:
    # search_path names a schema that does not exist yet: every write fails until it does.
    missing = f"s_{int(time.time() * 1000)}"
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={missing}"})
    store = ScoreHistory(url.render_as_string(hide_password=False))
    store.start()
    try:
        store.record([record("Q1", 30), record("Q2", 35)])
        assert not store.flush(timeout=1.0)
        assert store.status()["pending"] == 2 and not store.healthy
        admin = sa.create_engine(postgres_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{missing}"'))
        try:
            assert store.flush(timeout=30.0), store.status()
            assert store.healthy and store.status()["written"] == 2
            assert [r["lead_id"] for r in store.recent()] == ["Q2", "Q1"]
        finally:
            store.close()
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{missing}" CASCADE'))
            admin.dispose()
    finally:
        store.close()


def test_queue_is_bounded_while_the_database_is_down(monkeypatch) -> None:
    monkeypatch.setattr(history_module, "MAX_PENDING", 5)
    store = ScoreHistory(f"postgresql+psycopg://x:y@127.0.0.1:{free_port()}/none")
    store.start()
    try:
        store.record([record(f"L{i}", 50) for i in range(8)])
        deadline = time.monotonic() + 5
        while store.healthy and time.monotonic() < deadline:  # until the writer has tried
            time.sleep(0.02)
        with store._cond:  # a consistent view, not mid-retry
            status = store.status()
        assert status["dropped"] == 3 and status["pending"] == 5
        # Trends still work for leads scored in this process (kept in memory).
        assert store.previous_scores(["L7"]) == {"L7": 50}
    finally:
        store.close(timeout=0.5)


def test_a_bad_url_is_a_clear_error() -> None:
    from leadml.errors import LeadMLError

    with pytest.raises(LeadMLError, match="not a SQLAlchemy URL"):
        ScoreHistory("definitely not a url")
    with pytest.raises(LeadMLError, match="history URL"):
        ScoreHistory("nosuchdb://x")
