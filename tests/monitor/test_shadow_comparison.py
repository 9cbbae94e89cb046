"""A challenger scored in the shadow of the served model: agreement and realized ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadml.monitor.shadow import compare_shadow
from leadml.qualify.grades import GradeBands, score_0_100

BANDS = GradeBands((0.5, 0.2, 0.08))


def pairs(n: int = 2_000, labelled: float = 0.6, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.beta(0.6, 3.0, n)
    served = np.clip(truth + rng.normal(0, 0.08, n), 0, 1)
    shadow = np.clip(truth + rng.normal(0, 0.03, n), 0, 1)  # the better ranker
    converted = pd.array(rng.random(n) < truth, dtype="boolean")
    converted[rng.random(n) >= labelled] = pd.NA
    return pd.DataFrame(
        {
            "served_probability": served,
            "served_score": score_0_100(served),
            "served_grade": BANDS.grade(served),
            "shadow_probability": shadow,
            "shadow_score": score_0_100(shadow),
            "shadow_grade": BANDS.grade(shadow),
            "converted": converted,
        }
    )


def test_agreement_confusion_and_score_moves() -> None:
    frame = pairs()
    out = compare_shadow(frame)
    assert out["n"] == len(frame)
    same = (frame["served_grade"] == frame["shadow_grade"]).mean()
    assert out["grade_agreement"] == pytest.approx(same)
    total = sum(sum(row.values()) for row in out["confusion"].values())
    diagonal = sum(out["confusion"][g][g] for g in "ABCD")
    assert total == len(frame) and diagonal == round(same * len(frame))
    assert out["grade_agreement"] + out["grade_up"] + out["grade_down"] == pytest.approx(1.0)
    delta = frame["shadow_score"] - frame["served_score"]
    assert out["score_delta"]["median"] == pytest.approx(delta.median())
    assert out["score_delta"]["p10"] <= out["score_delta"]["median"] <= out["score_delta"]["p90"]


def test_realized_auc_of_each_on_the_labelled_leads_only() -> None:
    frame = pairs()
    realized = compare_shadow(frame)["realized"]
    known = frame["converted"].notna()
    y = frame.loc[known, "converted"].astype(bool)
    assert realized["n_labelled"] == known.sum()
    for side in ("served", "shadow"):
        expected = roc_auc_score(y, frame.loc[known, f"{side}_probability"])
        assert realized[side]["roc_auc"] == pytest.approx(expected, abs=1e-12)
    assert realized["roc_auc_difference"] > 0  # the less noisy challenger ranks better


def test_without_outcomes_it_says_so() -> None:
    frame = pairs(200, labelled=0.05)
    realized = compare_shadow(frame)["realized"]
    assert "served" not in realized and "at least 30" in realized["reason"]
    assert compare_shadow(frame.head(0)) == {"n": 0, "reason": "no lead was scored by both models"}
    with pytest.raises(ValueError, match="shadow_grade"):
        compare_shadow(frame.drop(columns=["shadow_grade"]))
