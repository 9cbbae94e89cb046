"""The HTTP API against a real uvicorn server on a loopback port, over real HTTP (httpx)."""

from __future__ import annotations

import json
import math

import httpx
import numpy as np
import pandas as pd
import pytest

from leadml.modeling.finish import TrainResult
from leadml.schema import BANT
from serve.schemas.response_models import ExplainResponse, ScoreResponse
from tests.support.servers import LiveServer, lead_payloads


@pytest.fixture(scope="module")
def payloads(new_leads: pd.DataFrame) -> list[dict]:
    return lead_payloads(new_leads)


def test_health_and_ready(http: httpx.Client, trained: TrainResult) -> None:
    assert http.get("/health").json() == {"status": "ok"}
    ready = http.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["model_version"] == trained.model.version
    assert ready.json()["history"]["ok"] is True


def test_openapi_shows_types_levels_and_descriptions(http: httpx.Client, trained: TrainResult):
    doc = http.get("/openapi.json").json()
    lead = doc["components"]["schemas"]["Lead"]
    props = lead["properties"]
    assert lead.get("additionalProperties") is False
    budget = trained.model.schema.feature("budget_range")
    enum = next(v["enum"] for v in props["budget_range"]["anyOf"] if "enum" in v)
    assert enum == budget.levels
    assert "BANT budget" in props["budget_range"]["description"]
    assert any(v.get("type") == "number" for v in props["employees"]["anyOf"])
    assert any(v.get("type") == "boolean" for v in props["demo_requested"]["anyOf"])
    for name in trained.model.encoder.names:
        assert name in props and props[name]["description"]
    assert "/v1/score" in doc["paths"] and "/v1/explain" in doc["paths"]
    assert "explain" in {p["name"] for p in doc["paths"]["/v1/score"]["post"]["parameters"]}
    docs = http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_model_info(http: httpx.Client, trained: TrainResult) -> None:
    body = http.get("/v1/model").json()
    model = trained.model
    assert body["model_version"] == model.version
    assert body["trained_at"] == model.meta["trained_at"]
    assert [f["name"] for f in body["features"]] == model.encoder.names
    budget = next(f for f in body["features"] if f["name"] == "budget_range")
    assert (budget["group"], budget["criterion"]) == ("qualification", "budget")
    assert body["thresholds"]["grades"]["A"] == pytest.approx(model.bands.cutoffs[0])
    assert body["metrics"]["roc_auc"] == pytest.approx(model.metrics["roc_auc"])
    assert body["criteria"] == list(BANT)


def test_one_lead_matches_the_library(
    http: httpx.Client, trained: TrainResult, new_leads: pd.DataFrame, payloads: list[dict]
) -> None:
    response = http.post("/v1/score", json={"leads": payloads[:1]})
    assert response.status_code == 200
    body = ScoreResponse.model_validate(response.json())
    expected = trained.model.score_frame(new_leads.head(1)).iloc[0]
    (score,) = body.scores
    assert score.lead_id == payloads[0]["lead_id"]
    assert score.probability == pytest.approx(expected["probability"], abs=1e-12)
    assert (score.grade, score.score, score.tier) == (
        expected["grade"],
        expected["score"],
        expected["tier"],
    )
    assert body.model_version == score.model_version == trained.model.version
    assert set(score.criteria) == set(BANT)
    assert score.framework == "bant" and score.qualified in (True, False, None)
    assert score.reasons is not None and score.concerns is not None
    assert all(r.contribution > 0 and r.points > 0 for r in score.reasons)
    assert all(r.contribution < 0 and r.points < 0 for r in score.concerns)
    assert score.questions is not None and score.warnings is not None


def test_explain_false_gives_the_numbers_only(http: httpx.Client, payloads: list[dict]) -> None:
    full = http.post("/v1/score", json={"leads": payloads[1:2]}).json()["scores"][0]
    fast = http.post("/v1/score?explain=false", json={"leads": payloads[1:2]}).json()["scores"][0]
    assert fast["probability"] == full["probability"]
    assert "criteria" not in fast and "reasons" not in fast and "qualified" not in fast
    assert fast["warnings"] == full["warnings"]
    assert full["criteria"] and full["reasons"] is not None


def test_batch_of_1000_in_order(
    http: httpx.Client, trained: TrainResult, new_leads: pd.DataFrame, payloads: list[dict]
) -> None:
    response = http.post("/v1/score", json={"leads": payloads[:1000]})
    assert response.status_code == 200
    body = ScoreResponse.model_validate(response.json())
    assert [s.lead_id for s in body.scores] == [p["lead_id"] for p in payloads[:1000]]
    expected = trained.model.score_frame(new_leads.head(1000))
    got = np.array([s.probability for s in body.scores])
    np.testing.assert_allclose(got, expected["probability"].to_numpy(), rtol=0, atol=1e-12)
    assert [s.grade for s in body.scores] == expected["grade"].tolist()
    assert {s.grade for s in body.scores} == {"A", "B", "C", "D"}


def test_1001_leads_is_a_clear_422(http: httpx.Client, payloads: list[dict]) -> None:
    response = http.post("/v1/score", json={"leads": payloads[:1001]})
    assert response.status_code == 422
    assert "1001 leads" in response.json()["detail"] and "1000" in response.json()["detail"]


def test_no_leads_is_422(http: httpx.Client) -> None:
    response = http.post("/v1/score", json={"leads": []})
    assert response.status_code == 422
    assert "at least one lead" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [b'{"leads": [', b"{'leads': []}", b'{"leads": [{"employees": 1,}]}', b"\xff\xfe"],
)
def test_malformed_json_is_400(http: httpx.Client, body: bytes) -> None:
    response = http.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "malformed JSON" in response.json()["detail"]


def test_wrong_types_name_the_field_and_the_lead(http: httpx.Client) -> None:
    leads = [{"employees": 10}, {"employees": "a lot", "budget_range": "huge", "demo_requested": 7}]
    response = http.post("/v1/score", json={"leads": leads})
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"leads[1].employees", "leads[1].budget_range", "leads[1].demo_requested"}
    assert body["detail"].startswith("leads[1].employees")
    budget = next(e for e in body["errors"] if e["field"] == "leads[1].budget_range")
    assert "'> 250k'" in budget["message"]  # says which answers are allowed
    assert "a lot" not in response.text  # input values are never echoed


def test_not_a_number_and_infinity_are_rejected(http: httpx.Client) -> None:
    body = b'{"leads": [{"employees": NaN}, {"employees": Infinity}]}'
    response = http.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {
        "leads[0].employees",
        "leads[1].employees",
    }


def test_unknown_fields_are_rejected_by_name(http: httpx.Client) -> None:
    leads = [{"budget_range": "> 250k", "budgett": "x"}, {"favourite_colour": "red"}]
    response = http.post("/v1/score", json={"leads": leads})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "'budgett'" in detail and "'favourite_colour'" in detail
    assert "leads[0]" in detail and "leads[1]" in detail
    top = http.post("/v1/score", json={"leads": [{}], "extra": 1})
    assert top.status_code == 422 and "'extra'" in top.json()["detail"]


def test_missing_optional_fields_are_scored_as_missing(
    http: httpx.Client, trained: TrainResult
) -> None:
    model = trained.model
    k = len(model.encoder.names)
    partial = {"budget_range": "> 250k", "demo_requested": True}
    row = np.full((2, k), np.nan)
    row[1, model.encoder.names.index("budget_range")] = 4  # rank of "> 250k"
    row[1, model.encoder.names.index("demo_requested")] = 1.0
    expected = model.predict_proba(row)
    leads = [{}, partial, {**partial, "decision_role": "Select", "employees": None}]
    scores = http.post("/v1/score", json={"leads": leads}).json()["scores"]
    assert scores[0]["probability"] == pytest.approx(expected[0], abs=1e-12)
    assert scores[1]["probability"] == pytest.approx(expected[1], abs=1e-12)
    # "Select" (a CRM placeholder) and null mean missing too.
    assert scores[2]["probability"] == scores[1]["probability"]
    assert scores[0]["lead_id"] is None and scores[0]["trend"] is None


def test_numbers_and_ids_sent_as_strings_or_numbers(http: httpx.Client) -> None:
    a = {"lead_id": 123, "employees": "250", "demo_requested": "Yes"}
    b = {"lead_id": "123", "employees": 250, "demo_requested": True}
    first, second = http.post("/v1/score", json={"leads": [a, b]}).json()["scores"]
    assert first["lead_id"] == second["lead_id"] == "123"
    assert first["probability"] == second["probability"]


def test_body_over_the_limit_is_413(http: httpx.Client, api: LiveServer) -> None:
    limit = api.settings.max_body_bytes
    padding = "x" * (limit + 10)
    body = json.dumps({"leads": [{"lead_id": padding}]})
    response = http.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_wrong_content_type_is_415(http: httpx.Client) -> None:
    response = http.post("/v1/score", content=b"leads=1", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_explain_route(http: httpx.Client, trained: TrainResult, payloads: list[dict]) -> None:
    response = http.post("/v1/explain", json=payloads[2])
    assert response.status_code == 200
    body = ExplainResponse.model_validate(response.json())
    assert [f.name for f in body.features] != []
    assert {f.name for f in body.features} == set(trained.model.encoder.names)
    total = body.base_value + sum(f.contribution for f in body.features)
    assert total == pytest.approx(body.raw_log_odds, abs=1e-9)
    rollup = sum(c.contribution for c in body.criteria.values()) + sum(
        g.contribution for g in body.groups.values()
    )
    assert rollup == pytest.approx(body.raw_log_odds - body.base_value, abs=1e-9)
    assert set(body.criteria) == set(BANT)
    scored = http.post("/v1/score", json={"leads": [payloads[2]]}).json()["scores"][0]
    assert body.probability == scored["probability"]
    assert body.lead_id == payloads[2]["lead_id"]
    contributions = [abs(f.contribution) for f in body.features]
    assert contributions == sorted(contributions, reverse=True)
    assert math.isclose(body.probability, scored["probability"])


def test_pii_is_accepted_but_never_returned_or_stored(
    http: httpx.Client, api: LiveServer, payloads: list[dict]
) -> None:
    sent = payloads[10:20]
    assert all("email" in p for p in sent)
    response = http.post("/v1/score", json={"leads": sent})
    assert response.status_code == 200
    emails = [p["email"] for p in sent]
    assert not any(e in response.text for e in emails)
    assert api.history.flush()
    stored = http.get("/v1/history?limit=500").text
    assert any(p["lead_id"] in stored for p in sent)
    assert not any(e in stored for e in emails)
    db = (api.settings.home / "history.db").read_bytes().decode("utf-8", errors="ignore")
    assert not any(e in db for e in emails)


def test_history_routes_and_trend(http: httpx.Client, api: LiveServer) -> None:
    lead = {"lead_id": "TREND-1", "budget_range": "< 10k", "purchase_timeline": "12+ months"}
    hot = {**lead, "budget_range": "> 250k", "purchase_timeline": "< 3 months"}
    hot["demo_requested"] = True
    first = http.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
    same = http.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
    up = http.post("/v1/score", json={"leads": [hot]}).json()["scores"][0]
    down = http.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
    assert first["trend"] is None
    assert (same["trend"], same["previous_score"]) == ("steady", first["score"])
    assert up["score"] >= first["score"] + 2, "the hot answers must raise the score"
    assert (up["trend"], down["trend"]) == ("improving", "declining")
    assert api.history.flush()
    timeline = http.get("/v1/history/TREND-1").json()["scores"]
    assert [row["score"] for row in timeline] == [
        first["score"],
        same["score"],
        up["score"],
        down["score"],
    ]
    assert timeline[-1]["features"]["budget_range"] == "< 10k"
    recent = http.get("/v1/history?limit=5").json()["leads"]
    assert recent[0]["lead_id"] == "TREND-1" and recent[0]["score"] == down["score"]
    assert http.get("/v1/history/NOPE-404").status_code == 404


def test_page_and_static_files(http: httpx.Client, trained: TrainResult) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert trained.model.version in page.text
    assert http.get("/static/app.js").status_code == 200
    assert http.get("/static/nope.js").status_code == 404


def test_unknown_route_and_method(http: httpx.Client) -> None:
    assert http.get("/v1/nothing").status_code == 404
    assert http.get("/v1/score").status_code == 405


def test_serves_a_registry_alias(start_server, trained: TrainResult, trained_settings) -> None:
    ref = "models:/synthetic-crm@champion"  # the schema's name is the registered model
    server = start_server(ref, mlflow_tracking_uri=trained_settings.tracking_uri)
    with server.client() as client:
        info = client.get("/v1/model").json()
        label = f"synthetic-crm-v{trained.version}-{trained.run_id[:8]}"
        assert info["model_version"] == trained.model.version == label
        assert info["ref"] == ref
        score = client.post("/v1/score", json={"leads": [{"employees": 50}]})
        assert score.status_code == 200
