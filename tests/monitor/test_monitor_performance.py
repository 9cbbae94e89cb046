"""Realized and estimated performance: the numbers agree with their definitions and with
scikit-learn, and the estimates land on the truth when outcomes follow the probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from leadml.monitor.performance import (
    MIN_LABELLED,
    estimated_performance,
    expected_roc_auc,
    performance_findings,
    promised_rates,
    realized_performance,
    roc_auc_delong,
    wilson_interval,
)
from leadml.qualify.grades import GradeBands

BANDS = GradeBands((0.5, 0.2, 0.08))


def calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities shaped like lead scores, and outcomes drawn from them."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.6, 3.0, n)
    return p, (rng.random(n) < p).astype(int)


def expected_auc_by_definition(p: np.ndarray, s: np.ndarray) -> float:
    """CBPE's expected AUC straight from its O(n^2) definition."""
    weights = np.outer(p, 1 - p)
    np.fill_diagonal(weights, 0.0)
    wins = (s[:, None] > s[None, :]) + 0.5 * (s[:, None] == s[None, :])
    return float((weights * wins).sum() / weights.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_auc_is_its_definition_computed_by_sorting(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.round(rng.beta(0.8, 3.0, 80), 2)  # rounded: many ties, as isotonic scores have
    assert expected_roc_auc(p) == pytest.approx(expected_auc_by_definition(p, p), abs=1e-12)
    other = np.round(p + rng.normal(0, 0.1, len(p)), 1)  # ranking by another score
    assert expected_roc_auc(p, other) == pytest.approx(
        expected_auc_by_definition(p, other), abs=1e-12
    )
    assert np.isnan(expected_roc_auc(np.array([0.3])))


def test_estimates_land_on_realized_figures_when_outcomes_follow_the_probabilities() -> None:
    p, y = calibrated(20_000, seed=3)
    estimated = estimated_performance(p, BANDS)
    realized = realized_performance(y, p, BANDS, {})
    assert estimated["n"] == realized["n"] == 20_000
    assert estimated["roc_auc"] == pytest.approx(realized["roc_auc"]["value"], abs=0.01)
    assert estimated["conversion"]["rate"] == pytest.approx(y.mean(), abs=0.01)
    for guess, truth in zip(estimated["grades"], realized["grades"], strict=True):
        assert guess["grade"] == truth["grade"] and guess["n"] == truth["n"]
        assert guess["rate"] == pytest.approx(truth["rate"], abs=0.03), guess["grade"]
    low, high = estimated["conversion"]["interval"]
    assert low < estimated["conversion"]["rate"] < high


def test_realized_auc_is_sklearns_with_a_delong_interval() -> None:
    p, y = calibrated(2_000, seed=4)
    realized = realized_performance(y, p, BANDS, {})
    auc = realized["roc_auc"]
    assert auc["value"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    low, high = auc["interval"]
    assert low < auc["value"] < high
    # DeLong's standard error agrees with the bootstrap's.
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(200):
        i = rng.integers(0, len(y), len(y))
        draws.append(roc_auc_score(y[i], p[i]))
    assert (high - low) / (2 * 1.96) == pytest.approx(np.std(draws), rel=0.25)
    ties = np.round(p, 1)  # ties count half, as in scikit-learn
    assert roc_auc_delong(y, ties)[0] == pytest.approx(roc_auc_score(y, ties), abs=1e-12)


def test_conversion_per_grade_carries_counts_intervals_and_promises() -> None:
    p, y = calibrated(3_000, seed=5)
    promised = {"A": 0.6, "B": 0.3, "C": 0.12, "D": 0.03}
    realized = realized_performance(y, p, BANDS, promised)
    assert sum(r["n"] for r in realized["grades"]) == 3_000
    for row in realized["grades"]:
        assert row["promised"] == promised[row["grade"]]
        assert row["rate"] == pytest.approx(row["converted"] / row["n"])
        ci = binomtest(row["converted"], row["n"]).proportion_ci(method="wilson")
        assert row["interval"] == pytest.approx([ci.low, ci.high])
    assert wilson_interval(0, 0) is None


def test_reliability_bins_are_calibration_curves_with_their_counts() -> None:
    p, y = calibrated(3_000, seed=6)
    bins = realized_performance(y, p, BANDS, {})["reliability"]
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert [b["observed"] for b in bins] == pytest.approx(observed.tolist())
    assert [b["predicted"] for b in bins] == pytest.approx(predicted.tolist())
    assert sum(b["n"] for b in bins) == 3_000
    assert all(b["interval"][0] <= b["observed"] <= b["interval"][1] for b in bins)


def test_too_few_or_one_sided_outcomes_give_a_reason_not_a_number() -> None:
    p, y = calibrated(MIN_LABELLED - 1, seed=7)
    few = realized_performance(y, p, BANDS, {})
    assert few["available"] is False and "at least 30" in few["reason"]
    one_class = realized_performance(np.zeros(200, dtype=int), np.full(200, 0.1), BANDS, {})
    assert one_class["roc_auc"] is None and "did not convert" in one_class["reason"]
    assert estimated_performance(np.zeros(0), BANDS)["available"] is False


def test_promises_come_from_the_training_grade_table() -> None:
    metrics = {
        "grades": [
            {"grade": "A", "conversion": 0.7, "mean_probability": 0.65},
            {"grade": "B", "conversion": float("nan"), "mean_probability": 0.3},
        ]
    }
    assert promised_rates(metrics) == {"A": 0.7, "B": 0.3}
    assert promised_rates({}) == {}


def test_the_alarm_needs_evidence_beyond_noise() -> None:
    p, y = calibrated(3_000, seed=8)
    realized = realized_performance(y, p, BANDS, {"A": 0.62, "B": 0.33, "C": 0.13, "D": 0.03})
    auc = realized["roc_auc"]["value"]
    assert performance_findings(realized, auc) == []
    worse = performance_findings(realized, auc + 0.2)
    assert len(worse) == 1 and "realized ROC AUC" in worse[0]
    broken = realized_performance(y, p, BANDS, {"A": 0.99})
    assert any(f.startswith("grade A converted") for f in performance_findings(broken, auc))
    assert performance_findings({"available": False}, 0.9) == []
