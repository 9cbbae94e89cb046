"""The score history through the API: trends on PostgreSQL, scoring while the database is
down, tenants kept apart, only what the model read is stored, and reads that never 500."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.support.processes import free_port

KEYS = "crm-a:KEYA-0123456789,crm-b:KEYB-0123456789"
A = {"Authorization": "Bearer KEYA-0123456789"}
B = {"Authorization": "Bearer KEYB-0123456789"}
FREE_TEXT = "Jane Doe jane.doe@example.com +1 555 0100"


def score_one(client: httpx.Client, lead: dict, headers: dict | None = None) -> dict:
    response = client.post("/v1/score", json={"leads": [lead]}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["scores"][0]


def all_rows_as_text(url: str) -> str:
    """Every stored value of every row, as the database gives it back."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM lead_scores")).all()
    finally:
        engine.dispose()
    return "\n".join(repr(tuple(r)) for r in rows)


def test_api_trend_against_postgres(start_server, postgres_url: str) -> None:
    server = start_server(history_url=postgres_url)
    lead = {"lead_id": "PG-1", "budget_range": "< 10k"}
    with server.client() as client:
        first = score_one(client, lead)
        second = score_one(client, lead)
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
        tenants = conn.execute(sa.text("SELECT DISTINCT tenant FROM lead_scores")).scalars()
        assert list(tenants) == ["default"]  # an open server's tenant
    engine.dispose()
    assert count == 2


def test_scoring_answers_while_the_database_is_down(start_server, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="leadml.history")
    dead = f"postgresql+psycopg://leadml:secret-pw@127.0.0.1:{free_port()}/nowhere"
    server = start_server(history_url=dead, history_flush_s=0.5)
    with server.client() as client:
        started = time.perf_counter()
        for i in range(5):
            response = client.post("/v1/score", json={"leads": [{"lead_id": f"D{i}"}]})
            assert response.status_code == 200
            assert response.json()["scores"][0]["trend"] is None
        assert time.perf_counter() - started < 10
        ready = client.get("/ready").json()
        assert ready["status"] == "degraded" and ready["history"]["ok"] is False
        assert ready["history"]["dropped"] == 0 and ready["history"]["pending"] == 5
        assert "secret-pw" not in str(ready)  # the password never leaves the server
        assert client.get("/v1/history").status_code == 503
    logged = [r.getMessage() for r in caplog.records if r.name == "leadml.history"]
    assert logged, "the outage must be logged"
    assert all("secret-pw" not in m for m in logged)
    assert len(logged) <= 3, "an outage is logged once, not once per request"


def test_one_tenant_never_sees_another(start_server, tmp_path: Path) -> None:
    history = f"sqlite:///{tmp_path / 'shared-history.db'}"
    server = start_server(api_keys=KEYS, history_url=history)
    shared = {"lead_id": "SHARED-1", "budget_range": "< 10k", "employees": 20}
    with server.client() as client:
        a_first = score_one(client, shared, A)
        a_second = score_one(client, shared, A)
        score_one(client, {"lead_id": "A-ONLY", "employees": 5000}, A)
        b_first = score_one(client, {**shared, "budget_range": "> 250k"}, B)
        assert (a_first["trend"], a_second["trend"]) == (None, "steady")
        assert (b_first["trend"], b_first["previous_score"]) == (None, None)  # not A's score
        assert server.history.flush()

        b_recent = client.get("/v1/history", headers=B).json()["leads"]
        assert [(r["lead_id"], r["score"]) for r in b_recent] == [("SHARED-1", b_first["score"])]
        b_shared = client.get("/v1/history/SHARED-1", headers=B).json()["scores"]
        assert [r["score"] for r in b_shared] == [b_first["score"]]
        assert client.get("/v1/history/A-ONLY", headers=B).status_code == 404
        a_shared = client.get("/v1/history/SHARED-1", headers=A).json()["scores"]
        assert [r["score"] for r in a_shared] == [a_first["score"], a_second["score"]]
        a_recent = client.get("/v1/history", headers=A).json()["leads"]
        assert {r["lead_id"] for r in a_recent} == {"SHARED-1", "A-ONLY"}
    server.stop()

    # A new process knows nothing in memory: the trends come from the database, per tenant.
    again = start_server(api_keys=KEYS, history_url=history)
    with again.client() as client:
        assert score_one(client, {"lead_id": "A-ONLY"}, B)["previous_score"] is None
        back = score_one(client, {"lead_id": "A-ONLY", "employees": 5000}, A)
        assert back["trend"] == "steady"
    assert again.history.flush()  # the writer gathers rows for a moment before writing
    engine = sa.create_engine(history)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(sa.text("SELECT tenant, count(*) FROM lead_scores GROUP BY tenant")).all()
        )
    engine.dispose()
    assert counts == {"crm-a": 4, "crm-b": 2}


def test_free_text_in_a_category_is_never_stored(start_server, tmp_path: Path) -> None:
    history = f"sqlite:///{tmp_path / 'history.db'}"
    server = start_server(history_url=history)
    with server.client() as client:
        model = client.get("/v1/model").json()
        levels = {f["name"]: f["levels"] for f in model["features"]}
        known_title = levels["job_title"][0]
        base = {
            "budget_range": "> 250k",
            "demo_requested": True,
            "employees": 120,
            "department": levels["department"][0],
            "lead_source": "   ",  # blank: missing
        }
        leaky = score_one(client, {"lead_id": "PII-1", **base, "job_title": FREE_TEXT})
        plain = score_one(client, {"lead_id": "PII-2", **base})
        known = score_one(client, {"lead_id": "PII-3", **base, "job_title": known_title})
        # The model read the free text as missing: the same score as no job title at all.
        assert leaky["probability"] == plain["probability"]
        assert server.history.flush()

        stored = client.get("/v1/history/PII-1").json()["scores"][0]["features"]
        assert stored == {
            "budget_range": "> 250k",
            "demo_requested": True,
            "employees": 120.0,
            "department": levels["department"][0],
        }
        assert client.get("/v1/history/PII-3").json()["scores"][0]["features"]["job_title"] == (
            known_title
        )
        listing = client.get("/v1/history").text
        for part in ("Jane", "jane.doe", "555 0100"):
            assert part not in listing
            assert part not in all_rows_as_text(history)

        # The sales-ops page explains a past lead from its stored values: the same numbers.
        for lead_id, scored in (("PII-1", leaky), ("PII-3", known)):
            row = client.get(f"/v1/history/{lead_id}").json()["scores"][0]
            again = client.post("/v1/explain", json={**row["features"], "lead_id": lead_id})
            assert again.status_code == 200, again.text
            assert again.json()["probability"] == scored["probability"]


def test_history_reads_never_answer_500_for_an_odd_stored_value(start_server, tmp_path) -> None:
    history = f"sqlite:///{tmp_path / 'history.db'}"
    server = start_server(history_url=history)
    with server.client() as client:
        score_one(client, {"lead_id": "OK-1", "employees": 10})
        assert server.history.flush()
        engine = sa.create_engine(history)
        with engine.begin() as conn:  # what an older release, or a hand edit, left behind
            conn.execute(
                sa.text(
                    "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, score, "
                    "grade, scored_at, features) VALUES ('default', 'ODD-1', 'v1', 0.5, 50, 'B', "
                    "'2026-01-02 00:00:00', :features)"
                ),
                {"features": '{"job_title": "x\\ud800"}'},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, score, "
                    "grade, scored_at) VALUES ('default', 'ODD-2', 'v1', 0.5, 50, 'B', 'never')"
                )
            )
        engine.dispose()
        recent = client.get("/v1/history")
        assert recent.status_code == 200, recent.text
        leads = {r["lead_id"]: r for r in recent.json()["leads"]}
        assert leads["ODD-1"]["features"] == {"job_title": "x\ufffd"}
        assert "OK-1" in leads and "ODD-2" not in leads  # an unreadable time: skipped
        one = client.get("/v1/history/ODD-1")
        assert one.status_code == 200 and one.json()["scores"][0]["features"]["job_title"] == (
            "x\ufffd"
        )
        assert client.get("/v1/history/ODD-2").status_code == 404
