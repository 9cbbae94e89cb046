"""The right to object over real HTTP (GDPR Art. 21): a lead scored, then opted out through
``POST /v1/opt-outs``, loses its stored scores and is answered ``scored: false`` from then on,
with nothing added to the history; a lead whose body carries the schema's opt-out flag is
never scored either; other leads of the batch are scored as usual; resending changes nothing;
bad bodies are one-line 422s; tenants are kept apart. The server's in-memory copy of the table:
its own post refused at once, an import elsewhere within the refresh interval, a row committed
late under a lower id caught, a tenant with too many objections asked per batch, the last copy
used while the table cannot be read.

One cheap model of 3,000 synthetic leads with an ``objected`` column serves every test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from leadml.data.synthetic import generate_leads
from leadml.history.opt_outs import OptOut, record_opt_outs, record_opt_outs_at
from leadml.history.store import ScoreHistory
from leadml.history.tables import lead_opt_outs
from leadml.modeling.train import train_leads
from leadml.schema.spec import LeadSchema
from serve.schemas.response_models import ScoreResponse
from serve.scoring import known_objections
from serve.scoring.known_objections import KnownObjections
from tests.support.servers import LiveServer, serve_settings
from tests.support.training import cheap_settings

KEYS = "crm-a:KEYA-0123456789,crm-b:KEYB-0123456789"
A = {"Authorization": "Bearer KEYA-0123456789"}
B = {"Authorization": "Bearer KEYB-0123456789"}
LEAD = {"employees": 120, "budget_range": "50k–100k", "seniority": "Director"}


@pytest.fixture(scope="module")
def objecting_bundle(tmp_path_factory: pytest.TempPathFactory, schema: LeadSchema) -> Path:
    leads = generate_leads(3000, seed=29)
    flags = np.full(len(leads), "no", dtype=object)
    flags[np.random.default_rng(29).choice(len(leads), 137, replace=False)] = "yes"
    leads["objected"] = flags
    home = tmp_path_factory.mktemp("objecting-model")
    train_leads(
        leads,
        schema.model_copy(update={"opt_out": "objected"}),
        cheap_settings(home),
        out=home / "bundle",
        track=False,
    )
    return home / "bundle"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, objecting_bundle: Path
) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("objecting-serve")
    live = LiveServer(serve_settings(home, objecting_bundle, api_keys=KEYS)).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def score(http: httpx.Client, leads: list[dict[str, Any]], headers: dict) -> list[dict]:
    response = http.post("/v1/score", json={"leads": leads}, headers=headers)
    assert response.status_code == 200, response.text
    ScoreResponse.model_validate(response.json())  # the documented answer, both shapes
    return response.json()["scores"]


def history_of(http: httpx.Client, lead_id: str, headers: dict) -> list[dict]:
    response = http.get(f"/v1/history/{lead_id}", headers=headers)
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return response.json()["scores"]


def opt_out(http: httpx.Client, body: Any, headers: dict) -> httpx.Response:
    return http.post("/v1/opt-outs", json=body, headers=headers)


def test_scored_then_opted_out(server: LiveServer, http: httpx.Client) -> None:
    for _ in range(2):
        (first,) = score(http, [{"lead_id": "P-1", **LEAD}], A)
        assert first["scored"] is True and first["grade"] in "ABCD"
    score(http, [{"lead_id": "P-1", **LEAD}], B)  # crm-b's P-1 is another person
    assert len(history_of(http, "P-1", A)) == 2
    posted = opt_out(http, {"opt_outs": [{"lead_id": "P-1", "at": "2026-12-01T09:00:00Z"}]}, A)
    assert posted.status_code == 200, posted.text
    assert posted.json() == {
        "recorded": 1,
        "already_recorded": 0,
        "scores_erased": 2,
        "outcomes_erased": 0,
    }
    assert history_of(http, "P-1", A) == []
    assert len(history_of(http, "P-1", B)) == 1  # tenants apart
    batch = score(http, [{"lead_id": "P-2", **LEAD}, {"lead_id": "P-1", **LEAD}], A)
    assert [s["lead_id"] for s in batch] == ["P-2", "P-1"]
    assert batch[0]["scored"] is True and "probability" in batch[0]
    assert set(batch[1]) == {"lead_id", "scored", "reason", "model_version"}
    assert batch[1]["scored"] is False and "objected to profiling" in batch[1]["reason"]
    (alone,) = score(http, [{"lead_id": "P-1", **LEAD}], A)
    assert alone["scored"] is False
    assert server.history.flush()
    assert history_of(http, "P-1", A) == []  # nothing added by the refused scorings
    assert len(history_of(http, "P-2", A)) == 1
    (other,) = score(http, [{"lead_id": "P-1", **LEAD}], B)
    assert other["scored"] is True
    explained = http.post("/v1/explain", json={"lead_id": "P-1", **LEAD}, headers=A)
    assert explained.status_code == 409, explained.text
    assert explained.json()["detail"] == (
        "lead 'P-1' objected to profiling (GDPR Art. 21): not scored, not explained"
    )
    resent = opt_out(http, {"opt_outs": [{"lead_id": "P-1"}, {"lead_id": "P-1"}]}, A)
    assert resent.status_code == 200, resent.text
    assert resent.json()["recorded"] == 0 and resent.json()["already_recorded"] == 1
    assert resent.json()["scores_erased"] == 0


def test_the_flag_in_the_lead(server: LiveServer, http: httpx.Client) -> None:
    leads = [
        {"lead_id": "F-1", "objected": "Yes", **LEAD},
        {"lead_id": "F-2", "objected": "no", **LEAD},
        {"lead_id": "F-3", "objected": True, **LEAD},
        {"objected": "opted out", **LEAD},
    ]
    answers = score(http, leads, A)
    assert [s["scored"] for s in answers] == [False, True, False, False]
    assert answers[3]["lead_id"] is None
    assert server.history.flush()
    assert history_of(http, "F-1", A) == [] and len(history_of(http, "F-2", A)) == 1
    explained = http.post("/v1/explain", json={"objected": "yes", **LEAD}, headers=A)
    assert explained.status_code == 409
    assert explained.json()["detail"].startswith("this lead objected to profiling")
    odd = http.post("/v1/score", json={"leads": [{"objected": {"x": 1}, **LEAD}]}, headers=A)
    assert odd.status_code == 422, odd.text


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"opt_outs": []}, "send at least one opt-out"),
        ({"opt_outs": [{"lead_id": f"L{i}"} for i in range(1001)]}, "at most 1000"),
        ({"opt_outs": [{"lead_id": "  "}]}, "must not be blank"),
        ({"opt_outs": [{"lead_id": "L1", "at": 1700000000}]}, "ISO 8601"),
        ({"opt_outs": [{"lead_id": "L1", "at": "yesterday"}]}, "opt_outs[0].at"),
        ({"opt_outs": [{"lead_id": "L1", "email": "a@b.c"}]}, "email"),
        ({"leads": []}, "unknown field 'leads'"),
        ([{"lead_id": "L1"}], "body"),
    ],
)
def test_bad_bodies(http: httpx.Client, body: Any, says: str) -> None:
    response = opt_out(http, body, A)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert says in detail and "\n" not in detail, detail


def test_keys_and_no_history(http: httpx.Client, tmp_path: Path, objecting_bundle: Path) -> None:
    assert opt_out(http, {"opt_outs": [{"lead_id": "L1"}]}, {}).status_code == 401
    home = tmp_path / "off"
    off = LiveServer(serve_settings(home, objecting_bundle, history_url="none")).start()
    try:
        with off.client() as client:
            refused = opt_out(client, {"opt_outs": [{"lead_id": "L1"}]}, {})
            assert refused.status_code == 409 and "turned off" in refused.json()["detail"]
            (flagged,) = score(client, [{"lead_id": "L1", "objected": "yes", **LEAD}], {})
            assert flagged["scored"] is False
    finally:
        off.stop()


def test_own_post_refused_at_once(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    # The copy never goes stale in this test: only the post itself can make O-1 refused.
    monkeypatch.setattr(known_objections, "REFRESH_S", 3600.0)
    (before,) = score(http, [{"lead_id": "O-1", **LEAD}], A)
    assert before["scored"] is True
    assert opt_out(http, {"opt_outs": [{"lead_id": "O-1"}]}, A).status_code == 200
    (after,) = score(http, [{"lead_id": "O-1", **LEAD}], A)
    assert after["scored"] is False
    assert http.post("/v1/explain", json={"lead_id": "O-1", **LEAD}, headers=A).status_code == 409


def test_import_elsewhere_honoured_within_the_refresh(
    server: LiveServer, http: httpx.Client
) -> None:
    (before,) = score(http, [{"lead_id": "I-1", **LEAD}], A)
    assert before["scored"] is True  # the copy is read and fresh now
    # As `leadml opt-outs import` (or another server) does: straight into the database.
    result = record_opt_outs_at(server.history.url, "crm-a", [OptOut("I-1")])
    assert result.recorded == 1
    written = time.monotonic()
    while score(http, [{"lead_id": "I-1", **LEAD}], A)[0]["scored"]:
        assert time.monotonic() - written < known_objections.REFRESH_S + 2.0, "never honoured"
        time.sleep(0.05)
    assert score(http, [{"lead_id": "I-2", **LEAD}], A)[0]["scored"] is True


def _among(known: KnownObjections, tenant: str, ids: list[str]) -> set[str]:
    return anyio.run(known.among, tenant, ids)


def test_copy_catches_late_rows_and_big_tenants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = ScoreHistory(f"sqlite:///{tmp_path / 'h.db'}", days=None)
    keeper.start()
    try:
        monkeypatch.setattr(known_objections, "REFRESH_S", 0.0)  # every lookup catches up
        known = KnownObjections(keeper)
        with keeper.engine.begin() as conn:  # row 10 first, then row 5 committed late
            conn.execute(sa.insert(lead_opt_outs), [_row(10, "L10")])
        assert _among(known, "t", ["L5", "L10"]) == {"L10"}
        with keeper.engine.begin() as conn:
            conn.execute(sa.insert(lead_opt_outs), [_row(5, "L5")])
        assert _among(known, "t", ["L5", "L10", "L7"]) == {"L5", "L10"}
        with pytest.raises(RuntimeError), known.recording("t", ["L8"]):
            assert _among(known, "t", ["L8", "L7"]) == {"L8"}  # refused while being recorded
            raise RuntimeError("the database refused the post")
        assert _among(known, "t", ["L8"]) == set()  # the post failed: the table decides
        # Too many to keep: asked per batch, and still right.
        monkeypatch.setattr(known_objections, "MAX_IDS", 2)
        record_opt_outs(keeper.engine, "t", [OptOut("L1")])
        assert _among(known, "t", ["L1", "L5", "L7"]) == {"L1", "L5"}
        assert known._tenants["t"].ids is None
        # The table cannot be read: the last copy still refuses what it knew.
        monkeypatch.setattr(known_objections, "MAX_IDS", 200_000)
        other = KnownObjections(keeper)
        assert _among(other, "t", ["L1", "L7"]) == {"L1"}

        def broken(*_: Any) -> Any:
            raise OperationalError("SELECT", {}, Exception("database is away"))

        monkeypatch.setattr(known_objections, "objections_since", broken)
        assert _among(other, "t", ["L1", "L5", "L7"]) == {"L1", "L5"}
        assert other._paused_until > time.monotonic()
    finally:
        keeper.close()


def _row(row: int, lead_id: str) -> dict[str, Any]:
    return {"id": row, "tenant": "t", "lead_id": lead_id, "recorded_at": datetime.now(UTC)}
