"""Decisions over real HTTP: next steps that rescoring honours exactly, the 90 % outcome
interval, the unfamiliar flag, and fit and engagement; next steps only with ?detail=full."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd

from leadml.modeling.finish import TrainResult
from serve.schemas.response_models import ScoreResponse
from tests.support.servers import lead_payloads


def _score(http: httpx.Client, leads: list[dict[str, Any]], **params: str) -> list[dict]:
    done = http.post("/v1/score", json={"leads": leads}, params=params)
    assert done.status_code == 200, done.text
    ScoreResponse.model_validate(done.json())  # the documented shape
    return done.json()["scores"]


def test_next_steps_rescored_over_http_give_the_promised_score(
    http: httpx.Client, new_leads: pd.DataFrame, trained: TrainResult
) -> None:
    leads = lead_payloads(new_leads.head(300))
    scores = _score(http, leads, detail="full")
    actionable = {f.name for f in trained.model.schema.features if f.is_actionable}
    checked = 0
    for lead, answer in zip(leads, scores, strict=True):
        assert {"interval", "unfamiliar", "next_steps", "fit", "engagement"} <= answer.keys()
        if answer["grade"] == "A":
            assert answer["next_steps"] == []
        for step in answer["next_steps"]:
            assert set(step["change"]) <= actionable
            assert answer["criteria"][step["criterion"]]["met"] is not True
            again = _score(http, [{**lead, **step["change"]}])[0]
            assert (again["probability"], again["score"], again["grade"]) == (
                step["probability"], step["score"], step["grade"],
            )  # fmt: skip
            assert "ABCD".index(again["grade"]) < "ABCD".index(answer["grade"])
            checked += 1
    assert checked >= 30, checked


def test_decisions_only_with_detail_full(http: httpx.Client, new_leads: pd.DataFrame) -> None:
    lead = lead_payloads(new_leads.head(1))
    basic = _score(http, lead)[0]
    assert "next_steps" not in basic and "interval" not in basic
    assert isinstance(basic["fit"], int) and isinstance(basic["engagement"], int)
    numbers = _score(http, lead, explain="false", detail="full")[0]
    assert "next_steps" not in numbers  # next steps need the criteria
    assert numbers["interval"]["level"] == 0.9 and "unfamiliar" in numbers


def test_an_unseen_title_makes_the_lead_unfamiliar_and_says_why(
    http: httpx.Client, new_leads: pd.DataFrame
) -> None:
    lead = {**lead_payloads(new_leads.head(1))[0], "job_title": "Chief Vibes Officer"}
    flag = _score(http, [lead], detail="full")[0]["unfamiliar"]
    assert flag["unfamiliar"] is True
    assert any("Chief Vibes Officer" in r for r in flag["reasons"])


def test_explain_carries_the_decisions(http: httpx.Client, new_leads: pd.DataFrame) -> None:
    lead = lead_payloads(new_leads.head(1))[0]
    done = http.post("/v1/explain", json=lead)
    assert done.status_code == 200, done.text
    body = done.json()
    assert {"next_steps", "interval", "unfamiliar", "fit", "engagement"} <= body.keys()
