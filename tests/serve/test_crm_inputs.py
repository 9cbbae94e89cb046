"""Leads as CRMs really send them, over real HTTP: tolerant values, warnings per lead, 422s
naming the field for impossible values and for leads that give too few fields."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd
import pytest

from leadml.features.inputs import input_fields
from leadml.modeling.finish import TrainResult
from tests.support.servers import LiveServer, lead_payloads, serve_settings


@pytest.fixture(scope="module")
def http(bundle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server with the production default: sparse leads refused."""
    settings = serve_settings(tmp_path_factory.mktemp("crm"), bundle, allow_sparse=False)
    server = LiveServer(settings).start()
    try:
        with server.client() as client:
            yield client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def lead(new_leads: pd.DataFrame) -> dict:
    """One full lead with clean values to vary."""
    full = next(p for p in lead_payloads(new_leads) if len(p) == len(new_leads.columns))
    return {
        **full,
        "budget_range": "100k–250k",
        "seniority": "VP",
        "employees": 1200,
        "annual_revenue": 50000,
        "industry": "Software",
    }


def _score(http: httpx.Client, *leads: dict, query: str = "") -> httpx.Response:
    return http.post(f"/v1/score{query}", json={"leads": list(leads)})


def test_crm_spellings_score_as_the_clean_values(http: httpx.Client, lead: dict) -> None:
    messy = {
        **lead,
        "budget_range": "100k-250k",  # ASCII hyphen for the en dash
        "seniority": "vp",
        "employees": "1,200",
        "annual_revenue": "$50,000",
        "decision_role": "--None--",  # Salesforce's empty picklist
    }
    clean = {**lead, "decision_role": None}
    got, want = _score(http, messy), _score(http, clean)
    assert got.status_code == want.status_code == 200, got.text
    a, b = got.json()["scores"][0], want.json()["scores"][0]
    assert a["probability"] == b["probability"]
    assert a["criteria"] == b["criteria"] and a["questions"] == b["questions"]
    assert "Ask about authority: decision role not stated" in [q["text"] for q in a["questions"]]
    upper = _score(http, {**messy, "seniority": "VP"}).json()["scores"][0]
    assert upper["probability"] == a["probability"]


def test_an_unseen_category_is_a_warning_naming_field_and_value(
    http: httpx.Client, lead: dict
) -> None:
    body = _score(http, {**lead, "job_title": "CFO"}).json()["scores"][0]
    unseen = [w for w in body["warnings"] if w["kind"] == "unseen"]
    assert len(unseen) == 1
    assert (unseen[0]["field"], unseen[0]["value"]) == ("job_title", "CFO")
    assert "CFO" in unseen[0]["message"]
    assert all("Job title" not in r["text"] for r in body["reasons"] + body["concerns"])
    clean = _score(http, lead).json()["scores"][0]
    assert clean["warnings"] == []


def test_a_negative_count_is_a_422_naming_the_field(http: httpx.Client, lead: dict) -> None:
    response = _score(http, lead, {**lead, "pricing_page_views": -3})
    assert response.status_code == 422
    body = response.json()
    assert "leads[1].pricing_page_views" in body["detail"]
    assert "negative" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["leads[1].pricing_page_views"]
    words = _score(http, {**lead, "employees": "a dozen"})
    assert words.status_code == 422 and "leads[0].employees" in words.json()["detail"]


def test_sparse_leads_are_refused_unless_allowed(
    http: httpx.Client, start_server, trained: TrainResult, lead: dict
) -> None:
    empty = _score(http, {})
    assert empty.status_code == 422
    detail = empty.json()["detail"]
    fields = input_fields(trained.model)
    assert detail.startswith(f"leads[0]: 0 of the model's {len(fields)} fields given")
    assert "--allow-sparse" in detail and "\n" not in detail
    three = {k: lead[k] for k in fields[:3]}
    several = _score(http, lead, three, {})
    assert several.status_code == 422
    assert [e["field"] for e in several.json()["errors"]] == ["leads[1]", "leads[2]"]
    assert http.post("/v1/explain", json={}).status_code == 422

    sparse: LiveServer = start_server(allow_sparse=True)
    with sparse.client() as client:
        allowed = _score(client, {}, three)
        assert allowed.status_code == 200, allowed.text
        nothing = allowed.json()["scores"][0]
        assert nothing["qualified"] is None  # nothing known: cannot judge, not "not qualified"
        assert nothing["reasons"] == [] and nothing["concerns"] == []
        assert len(nothing["questions"]) == 4
        left_out = next(w for w in nothing["warnings"] if w["kind"] == "left_out")
        assert left_out["fields"] == fields
