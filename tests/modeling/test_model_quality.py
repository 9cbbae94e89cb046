"""Model behaviour on data with known signal: quality floors, calibration, invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.modeling.finish import TrainResult


def test_beats_logistic_regression_and_bant_points(trained: TrainResult) -> None:
    m = trained.metrics
    base = m["baselines"]
    assert m["roc_auc"] >= 0.85
    assert m["roc_auc"] > base["logistic_regression"]["roc_auc"] + 0.005
    assert m["roc_auc"] > base["bant_points"]["roc_auc"] + 0.05
    assert m["log_loss"] < base["logistic_regression"]["log_loss"]
    assert m["pr_auc"] > base["logistic_regression"]["pr_auc"]
    assert m["lift_top_decile"] > 3.0


def test_calibrated_on_the_future(trained: TrainResult) -> None:
    assert trained.metrics["ece"] <= 0.03


def test_grades_fall_strictly_from_a_to_d(trained: TrainResult) -> None:
    conversion = trained.grade_table["conversion"].to_numpy()
    assert np.all(np.diff(conversion) < 0)
    assert trained.metrics["grades_strictly_falling"]


def test_personal_data_never_changes_a_score(trained: TrainResult, leads: pd.DataFrame) -> None:
    sample = leads.tail(500).reset_index(drop=True)
    before = trained.model.score_frame(sample)["probability"].to_numpy()
    other = sample.assign(
        full_name="Someone Else", email="someone@else.example", phone="+1 000 000 0000"
    )
    after = trained.model.score_frame(other)["probability"].to_numpy()
    np.testing.assert_array_equal(before, after)
    assert not set(trained.model.schema.pii) & set(trained.model.feature_names)


def test_obvious_hot_lead_scores_hot_and_cold_lead_cold(trained: TrainResult) -> None:
    hot = {
        "budget_range": "> 250k",
        "decision_role": "Decision maker",
        "stated_need": "Critical",
        "purchase_timeline": "< 3 months",
        "demo_requested": "Yes",
        "pricing_page_views": 6,
        "pages_viewed": 25,
        "days_since_last_activity": 1,
        "employees": 400,
        "industry": "Software",
        "lead_source": "Referral",
        "seniority": "VP",
    }
    cold = {
        "budget_range": "< 10k",
        "decision_role": "End user",
        "stated_need": "No clear need",
        "purchase_timeline": "Just researching",
        "demo_requested": "No",
        "days_since_last_activity": 200,
        "lead_source": "Cold outbound",
    }
    assert trained.model.score_one(hot)["tier"] == "hot"
    assert trained.model.score_one(cold)["grade"] == "D"


def test_bundle_reloads_to_identical_scores(trained: TrainResult, leads: pd.DataFrame) -> None:
    again = LeadModel.load(trained.bundle)
    sample = leads.head(1000)
    np.testing.assert_array_equal(
        trained.model.score_frame(sample)["probability"], again.score_frame(sample)["probability"]
    )
    assert again.version == trained.model.version
    assert {"roc_auc", "pr_auc", "log_loss", "brier", "ece"} <= set(again.metrics)
