"""``POST /v1/outcomes`` over real HTTP: a lead scored a moment ago is known, unknown ids come
back unstored, the same outcome twice counts once, 422s name the row, keys and tenants hold,
and a history that is off or down says so."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from tests.support.processes import free_port
from tests.support.servers import lead_payloads

KEYS = "crm-a:KEYA-0123456789,crm-b:KEYB-0123456789"
A = {"Authorization": "Bearer KEYA-0123456789"}
B = {"Authorization": "Bearer KEYB-0123456789"}
AONLY = {"lead_id": "A-ONLY", "converted": True}
BONLY = {"lead_id": "B-ONLY", "converted": True}


def score(client: httpx.Client, lead_ids: list[Any], headers: dict | None = None) -> None:
    leads = [{"lead_id": i, "budget_range": "< 10k"} for i in lead_ids]
    response = client.post("/v1/score", json={"leads": leads}, headers=headers or {})
    assert response.status_code == 200, response.text


def post(client: httpx.Client, outcomes: list[dict], headers: dict | None = None):
    return client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=headers or {})


def stored(url: str) -> dict[tuple[str, str], bool]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tenant, lead_id, converted FROM lead_outcomes")
            ).all()
    finally:
        engine.dispose()
    return {(r[0], r[1]): bool(r[2]) for r in rows}


def test_score_then_post_the_outcome(start_server) -> None:
    server = start_server()
    with server.client() as client:
        score(client, ["L1", "L2", 42])
        # No flush here: the route lets the queued scores through itself.
        first = post(
            client,
            [
                {"lead_id": "L1", "converted": True, "at": "2026-11-30T10:00:00Z"},
                {"lead_id": "L2", "converted": False},
                {"lead_id": 42, "converted": True, "at": "2026-11-30T11:00:00"},
                {"lead_id": "NEVER-SCORED", "converted": True},
            ],
        )
        assert first.status_code == 200, first.text
        assert first.json() == {"recorded": 3, "unknown_leads": ["NEVER-SCORED"]}
        again = post(client, [{"lead_id": "L1", "converted": True, "at": "2026-11-30T12:00+02:00"}])
        assert again.json() == {"recorded": 0, "unknown_leads": []}  # the same instant
        changed = post(client, [{"lead_id": "L2", "converted": True}, {"lead_id": "L2"}])
        assert changed.status_code == 422  # the second row has no "converted"
        changed = post(client, [{"lead_id": "L2", "converted": True}])
        assert changed.json() == {"recorded": 1, "unknown_leads": []}
    assert stored(server.settings.history_database) == {
        ("default", "L1"): True,
        ("default", "L2"): True,
        ("default", "42"): True,
    }


def test_422_names_the_row_and_the_field(start_server) -> None:
    server = start_server()
    good = {"lead_id": "L1", "converted": True}
    cases = [
        ([good, good, good, {"lead_id": "L1", "converted": "yes"}], "outcomes[3].converted"),
        ([{"lead_id": "L1", "converted": 1}], "outcomes[0].converted"),
        ([good, {"lead_id": "   ", "converted": False}], "outcomes[1].lead_id"),
        ([{"lead_id": "x" * 501, "converted": False}], "outcomes[0].lead_id"),
        ([good, {"lead_id": "L1", "converted": True, "at": "last week"}], "outcomes[1].at"),
        ([{"lead_id": "L1", "converted": True, "at": 1764496800}], "outcomes[0].at"),
        ([{"lead_id": "L1", "converted": True, "won": True}], "outcomes[0]"),
        ([], "outcomes"),
    ]
    with server.client() as client:
        for outcomes, field in cases:
            response = post(client, outcomes)
            assert response.status_code == 422, (outcomes, response.text)
            body = response.json()
            assert body["detail"].startswith(field) or field in body["detail"], body
            assert "yes" not in body["detail"]  # values are never echoed
        too_many = post(client, [good] * 10_001)
        assert too_many.status_code == 422
        assert "10001 outcomes in one request; at most 10000" in too_many.json()["detail"]
        assert len(too_many.json()["errors"]) == 1
        assert post(client, [good] * 10_000).status_code == 200  # the most one may send
        bare = client.post("/v1/outcomes", content=b"lead_id,converted\nL1,1", headers={})
        assert bare.status_code == 415


def test_keys_and_tenants(start_server) -> None:
    server = start_server(api_keys=KEYS)
    with server.client() as client:
        assert post(client, [{"lead_id": "L1", "converted": True}]).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert post(client, [{"lead_id": "L1", "converted": True}], wrong).status_code == 401
        score(client, ["SHARED", "A-ONLY"], A)
        score(client, ["SHARED"], B)
        a = post(client, [{"lead_id": "SHARED", "converted": True}, BONLY], A)
        assert a.json() == {"recorded": 1, "unknown_leads": ["B-ONLY"]}
        b = post(client, [{"lead_id": "SHARED", "converted": False}, AONLY], B)
        assert b.json() == {"recorded": 1, "unknown_leads": ["A-ONLY"]}
    assert stored(server.settings.history_database) == {
        ("crm-a", "SHARED"): True,
        ("crm-b", "SHARED"): False,
    }


def test_history_off_is_409_and_down_is_503_with_retry_after(start_server) -> None:
    off = start_server(history_url="none")
    with off.client() as client:
        response = post(client, [{"lead_id": "L1", "converted": True}])
        assert response.status_code == 409
        assert "score history is turned off" in response.json()["detail"]

    dead = f"postgresql+psycopg://leadml:secret-pw@127.0.0.1:{free_port()}/nowhere"
    down = start_server(history_url=dead, history_flush_s=0.5)
    with down.client() as client:
        started = time.perf_counter()
        response = post(client, [{"lead_id": "L1", "converted": True}])
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "10"
        assert "nothing was stored" in response.json()["detail"]
        assert "secret-pw" not in response.text
        assert time.perf_counter() - started < 10


def test_outcomes_against_postgres(start_server, postgres_url: str) -> None:
    server = start_server(history_url=postgres_url)
    with server.client() as client:
        score(client, ["PG-1"])
        response = post(
            client, [{"lead_id": "PG-1", "converted": True, "at": "0001-01-01T00:00:00+05:00"}]
        )
        assert response.json() == {"recorded": 1, "unknown_leads": []}  # kept at year 1, UTC
    assert stored(postgres_url) == {("default", "PG-1"): True}


def test_the_monitor_counts_outcomes_the_moment_they_arrive(start_server, new_leads) -> None:
    """1,500 outcomes posted a second after a monitor answer are counted in the next one (not
    a minute later), each answer says when it was computed, and two tenants scoring the same
    lead ids each see their own 1,500 leads."""
    server = start_server(api_keys=KEYS)
    leads = lead_payloads(new_leads)
    with server.client() as client:
        for headers in (A, B):
            for i in range(0, len(leads), 500):
                batch = {"leads": leads[i : i + 500]}
                r = client.post("/v1/score?explain=false", json=batch, headers=headers)
                assert r.status_code == 200, r.text
        before = client.get("/v1/monitor?since=1d", headers=A)
        assert before.status_code == 200, before.text
        assert (before.json()["leads"], before.json()["labelled"]) == (len(leads), 0)
        computed = datetime.fromisoformat(before.json()["computed_at"])
        assert computed.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - computed) < timedelta(minutes=2)
        assert before.json()["newest_score_at"] and before.json()["age_s"] == 0
        assert any(line.startswith("Computed ") for line in before.json()["summary"])

        outcomes = [{"lead_id": lead["lead_id"], "converted": i % 5 == 0} for i, lead in
                    enumerate(leads)]  # fmt: skip
        posted = post(client, outcomes, A)
        assert posted.json() == {"recorded": len(leads), "unknown_leads": []}
        after = client.get("/v1/monitor?since=1d", headers=A).json()
        assert (after["leads"], after["labelled"]) == (len(leads), len(leads))
        assert after["performance"]["realized"]["n"] == len(leads)
        assert after["computed_at"] >= before.json()["computed_at"]
        reused = client.get("/v1/monitor?since=1d", headers=A).json()
        assert reused["computed_at"] == after["computed_at"] and reused["age_s"] >= 0
        assert reused["labelled"] == len(leads)
        other = client.get("/v1/monitor?since=1d", headers=B).json()
        assert (other["leads"], other["labelled"]) == (len(leads), 0)  # B posted none
