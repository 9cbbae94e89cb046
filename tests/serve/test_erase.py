"""``POST /v1/admin/erase``: one tenant's, or one lead's, scores and outcomes go; nothing else.

Over real HTTP against a real server with two CRMs (tenants ``crm-a`` and ``crm-b``) that
share a lead id: erasing A's lead leaves B's lead of the same id, and A's other leads, alone;
the trend of a lead scored again after its erasure starts afresh (the server forgot it in
memory too); only admin keys may erase.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
import sqlalchemy as sa

A = {"Authorization": "Bearer erase-key-a-0123456789"}
B = {"Authorization": "Bearer erase-key-b-0123456789"}
ADMIN = {"Authorization": "Bearer erase-admin-0123456789"}
KEYS = "crm-a:erase-key-a-0123456789,crm-b:erase-key-b-0123456789"


def score(client: httpx.Client, ids: list[str], headers: dict) -> list[dict]:
    leads = [{"lead_id": i, "budget_range": "< 10k"} for i in ids]
    answer = client.post("/v1/score", json={"leads": leads}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["scores"]


def outcomes(client: httpx.Client, ids: list[str], headers: dict) -> None:
    rows = [{"lead_id": i, "converted": True} for i in ids]
    answer = client.post("/v1/outcomes", json={"outcomes": rows}, headers=headers)
    assert answer.status_code == 200, answer.text


def rows(url: str, table: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(f"SELECT tenant, lead_id FROM {table}")).all()
    finally:
        engine.dispose()
    return sorted((r[0], r[1]) for r in found)


def test_erase_one_lead_then_one_tenant(start_server) -> None:
    server = start_server(api_keys=KEYS, admin_keys="ops:erase-admin-0123456789")
    url = server.settings.history_database
    with server.client() as client:
        score(client, ["L1", "L2", "L1"], A)  # L1 twice: two rows
        score(client, ["L1", "L3"], B)
        outcomes(client, ["L1", "L2"], A)
        outcomes(client, ["L1"], B)
        erase = {"tenant": "crm-a", "lead_id": "L1"}
        for who in (A, B, {}):
            refused = client.post("/v1/admin/erase", json=erase, headers=who)
            assert refused.status_code in (401, 403), refused.text
        done = client.post("/v1/admin/erase", json=erase, headers=ADMIN)
        assert done.status_code == 200, done.text
        assert done.json() == {"tenant": "crm-a", "lead_id": "L1", "scores": 2, "outcomes": 1}
        assert rows(url, "lead_scores") == [("crm-a", "L2"), ("crm-b", "L1"), ("crm-b", "L3")]
        assert rows(url, "lead_outcomes") == [("crm-a", "L2"), ("crm-b", "L1")]
        # Forgotten in memory too: scored again, A's L1 has no previous score; B's still has.
        (again,) = score(client, ["L1"], A)
        assert again["previous_score"] is None
        (b_again,) = score(client, ["L1"], B)
        assert b_again["previous_score"] is not None

        done = client.post("/v1/admin/erase", json={"tenant": "crm-a"}, headers=ADMIN)
        assert done.json() == {"tenant": "crm-a", "lead_id": None, "scores": 2, "outcomes": 1}
        assert {t for t, _ in rows(url, "lead_scores")} == {"crm-b"}
        assert rows(url, "lead_outcomes") == [("crm-b", "L1")]
        bad = client.post("/v1/admin/erase", json={"lead_id": "L1"}, headers=ADMIN)
        assert bad.status_code == 422 and "tenant" in bad.text


def test_scores_still_queued_are_erased_too(start_server) -> None:
    """A lead erased while its scores wait for a locked database is not written afterwards."""
    server = start_server(api_keys=KEYS, admin_keys="ops:erase-admin-0123456789")
    url = server.settings.history_database
    history = server.history
    with server.client() as client:
        score(client, ["Q0"], A)
        assert history.flush()
        locker = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # the writer's batch waits for this lock
        try:
            score(client, ["Q1"], A)
            while history.status()["pending"] and not history._hanging:
                time.sleep(0.02)  # the writer took that batch and waits on the lock
            score(client, ["Q1", "Q2"], A)  # these stay queued behind it
            score(client, ["Q1"], B)
            answer: list[httpx.Response] = []
            eraser = threading.Thread(
                target=lambda: answer.append(
                    client.post("/v1/admin/erase", json={"tenant": "crm-a", "lead_id": "Q1"},
                                headers=ADMIN)
                )
            )  # fmt: skip
            eraser.start()
            time.sleep(3)  # the erasure's flush gives up; it marks the queued rows
        finally:
            locker.rollback()
            locker.close()
        eraser.join(30)
        (done,) = answer
        assert done.status_code == 200, done.text
        assert done.json()["scores"] == 2  # one queued, one written by the batch in flight
        assert history.flush(15)
        assert rows(url, "lead_scores") == [("crm-a", "Q0"), ("crm-a", "Q2"), ("crm-b", "Q1")]
