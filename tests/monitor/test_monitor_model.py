"""Monitoring a real model: the profile it keeps, a quiet month and a drifted one.

Uses the session's trained model (20,000 synthetic leads over 24 months), whose bundle now
carries a reference profile. "The month after the data" is ``generate_leads(start=
"2026-11-01", months=1)``: the same process, trends continued; the drifted month also has
budget answers pushed toward "< 10k" and 30 % of leads from a lead source never seen.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadml.bundle.model import LeadModel
from leadml.data.synthetic import NEW_SOURCE, Drift, generate_leads
from leadml.errors import SchemaError
from leadml.modeling.finish import TrainResult
from leadml.monitor import MonitorResult, monitor_model, write_monitor_html
from leadml.monitor.profile import reference_profile
from leadml.schema.criteria import FRAMEWORKS

MONTH = {"start": "2026-11-01", "months": 1}
DRIFTED = {"budget_range", "lead_source"}
ROWS = 1_500


def month(seed: int, drift: Drift | None = None) -> tuple[pd.DataFrame, pd.Series]:
    leads = generate_leads(ROWS, seed=seed, drift=drift, **MONTH)
    return leads.drop(columns=["converted"]), leads["converted"].astype("boolean")


@pytest.fixture(scope="module")
def quiet(trained: TrainResult) -> tuple[MonitorResult, pd.DataFrame, pd.Series]:
    leads, converted = month(2027)
    return (
        monitor_model(trained.model, leads, converted=converted, window="Nov 2026"),
        leads,
        converted,
    )


@pytest.fixture(scope="module")
def drifted(trained: TrainResult) -> MonitorResult:
    leads, converted = month(2027, Drift(budget_shift=0.8, new_source=0.3))
    converted[: ROWS // 3] = pd.NA  # a third of the outcomes have not arrived
    return monitor_model(trained.model, leads, converted=converted)


def psi_of(result: MonitorResult) -> tuple[dict[str, float], dict[str, float]]:
    assert result.drift is not None
    features = {f["feature"]: f["psi"] for f in result.drift["features"]}
    criteria = {c["criterion"]: c["psi"] for c in result.drift["criteria"]}
    return features, criteria


# -- the profile ---------------------------------------------------------------------------------
def test_training_keeps_a_small_profile_of_numbers_only(
    trained: TrainResult, leads: pd.DataFrame
) -> None:
    model = trained.model
    profile = model.meta["reference"]
    text = json.dumps(profile, allow_nan=False)
    assert len(text.encode()) < 200_000
    assert set(profile["features"]) == set(model.feature_names)
    assert set(profile["pushes"]) == set(FRAMEWORKS)
    assert profile["pushes"]["bant"]["budget"]["counts"]
    assert sum(profile["score"]["counts"]) == profile["rows"] == sum(profile["grades"].values())
    # No lead's personal data: no email, no name, no phone, no identifier.
    assert "@" not in text
    for column in ("full_name", "email", "phone", "lead_id"):
        assert not any(str(v) in text for v in leads[column].head(300)), column
    # And the bundle on disk carries the same profile through every load check.
    assert trained.bundle is not None
    assert LeadModel.load(trained.bundle).meta["reference"] == json.loads(text)


def test_the_profile_is_the_same_for_the_same_leads(trained: TrainResult) -> None:
    model = trained.model
    x = model.matrix(generate_leads(1_200, seed=5))
    small = reference_profile(model, x, seed=1, max_rows=500)
    assert small == reference_profile(model, x, seed=1, max_rows=500)
    assert small["rows"] == small["push_rows"] == 500 and small["sampled_from"] == 1_200


# -- a quiet month and a drifted one -------------------------------------------------------------
def test_a_month_from_the_same_process_shows_no_drift(quiet) -> None:
    result, _, _ = quiet
    features, criteria = psi_of(result)
    assert max(features.values()) < 0.1, features
    assert max(criteria.values()) < 0.1, criteria
    assert result.drift["score"]["psi"] < 0.1
    assert not result.drift_alarm
    assert all("no shift" in c["sentence"] for c in result.drift["criteria"])


def test_realized_performance_is_the_offline_evaluation_of_the_same_leads(
    trained: TrainResult, quiet
) -> None:
    result, leads, converted = quiet
    model = trained.model
    offline = roc_auc_score(converted.astype(bool), model.score_frame(leads)["probability"])
    realized = result.realized
    assert realized["n"] == ROWS and result.labelled == ROWS
    assert realized["roc_auc"]["value"] == pytest.approx(offline, abs=1e-9)
    low, high = realized["roc_auc"]["interval"]
    assert low < offline < high
    assert [g["grade"] for g in realized["grades"]] == ["A", "B", "C", "D"]
    assert all(g["promised"] is not None for g in realized["grades"])
    assert not result.performance_alarm, result.performance_findings
    assert result.estimated["unlabelled"]["available"] is False  # every outcome is known


def test_a_drifted_month_flags_exactly_the_shifted_fields(drifted: MonitorResult) -> None:
    features, criteria = psi_of(drifted)
    for name in DRIFTED:
        assert features[name] > 0.25, (name, features[name])
    others = {k: v for k, v in features.items() if k not in DRIFTED}
    assert max(others.values()) < 0.1, others
    assert criteria["budget"] > 0.25
    assert max(criteria[c] for c in ("authority", "need", "timing")) < 0.1, criteria
    assert drifted.drift_alarm
    by_field = {f["feature"]: f for f in drifted.drift["features"]}
    assert by_field["lead_source"]["moved"]["bin"] == "other"
    assert by_field["lead_source"]["unseen_examples"] == [NEW_SOURCE]
    budget = next(c for c in drifted.drift["criteria"] if c["criterion"] == "budget")
    assert budget["sentence"].startswith("Budget answers shifted: ")
    assert "of recent leads say '< 10k'" in budget["sentence"]
    lines = "\n".join(drifted.summary_lines())
    assert f"values never seen in training (e.g. '{NEW_SOURCE}')" in lines
    assert "Drift alarm" in lines


def test_outcomes_not_yet_known_are_estimated_apart(drifted: MonitorResult) -> None:
    unlabelled, everyone = drifted.estimated["unlabelled"], drifted.estimated["all"]
    assert unlabelled["n"] == ROWS // 3 and everyone["n"] == ROWS
    assert drifted.realized["n"] == ROWS - ROWS // 3 == drifted.labelled
    assert 0.5 < unlabelled["roc_auc"] < 1.0
    assert sum(g["n"] for g in unlabelled["grades"]) == ROWS // 3
    realized = drifted.realized["conversion"]["rate"]
    assert everyone["conversion"]["rate"] == pytest.approx(realized, abs=0.05)


# -- the result's forms --------------------------------------------------------------------------
def test_the_result_is_json_and_a_page(drifted: MonitorResult, tmp_path: Path) -> None:
    data = drifted.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert data["alarms"]["drift"] is True and "@" not in text
    page = write_monitor_html(drifted, tmp_path / "monitor.html").read_text()
    assert page.count("data:image/png;base64,") >= 3
    assert "Estimated: leads whose outcome has not arrived" in page and "@" not in page


def test_a_model_trained_before_profiles_still_gets_its_performance(
    trained: TrainResult, quiet
) -> None:
    _, leads, converted = quiet
    meta = {k: v for k, v in trained.model.meta.items() if k != "reference"}
    older = dataclasses.replace(trained.model, meta=meta)
    result = monitor_model(older, leads.head(400), converted=converted.head(400))
    assert result.drift is None and not result.drift_alarm
    assert len(result.notes) == 1
    assert "has no reference profile" in result.notes[0]
    assert "retrain it to monitor drift" in result.notes[0]
    assert result.realized["available"] and result.realized["n"] == 400
    assert result.notes[0] in result.summary_lines()
    json.dumps(result.to_dict(), allow_nan=False)


def test_served_probabilities_are_used_as_given(trained: TrainResult, quiet) -> None:
    _, leads, converted = quiet
    few = leads.head(200)
    served = np.full(len(few), 0.3)
    result = monitor_model(trained.model, few, probability=served, converted=converted.head(200))
    assert result.estimated["all"]["conversion"]["rate"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="expected 200 probabilities"):
        monitor_model(trained.model, few, probability=served[:10])
    with pytest.raises(ValueError, match="expected 200 outcomes"):
        monitor_model(trained.model, few, converted=converted.head(5))
    with pytest.raises(SchemaError, match="unknown qualification framework"):
        monitor_model(trained.model, few, framework="spin")
    empty = monitor_model(trained.model, few.head(0))
    json.dumps(empty.to_dict(), allow_nan=False)


def test_features_the_source_cannot_give_are_left_out(trained: TrainResult, quiet) -> None:
    """The score history keeps no date features: a source says which features it lacks, and
    they are left out rather than reported as all missing."""
    _, leads, _ = quiet
    blank = leads.head(300).assign(employees=None)
    result = monitor_model(trained.model, blank, unmeasured=["employees"])
    assert result.drift is not None and result.drift["unmeasured"] == ["employees"]
    assert "employees" not in {f["feature"] for f in result.drift["features"]}
    shown = monitor_model(trained.model, blank)
    assert next(f for f in shown.drift["features"] if f["feature"] == "employees")["band"] == "act"
