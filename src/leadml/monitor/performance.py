"""Performance: does the model still do what it promised, and what can be said before the
outcomes are in?

**Realized** figures need leads whose outcome is known: ROC AUC with a 95 % DeLong interval
(exact variance from the ranks, no resampling, so the same leads always give the same
interval), conversion per grade beside what the grade promised at training (the conversion the
grade showed on the held-out leads, ``metrics["grades"]``) with a Wilson interval
(:func:`scipy.stats.binomtest`), a reliability curve (:func:`sklearn.calibration.
calibration_curve` on probability deciles, each bin with its count and interval) and the Brier
score. Below ``MIN_LABELLED`` labelled leads, or with one class only, a figure would be noise:
the result says so instead of giving one.

**Estimated** figures need no outcome (confidence-based performance estimation, the method of
NannyML's CBPE): when probabilities are calibrated, a lead with probability p converts with
probability p, so expected conversion is the mean of p, per grade and overall, and the expected
ROC AUC is the share of (converter, non-converter) pairs ranked right, each pair weighted by
how likely it is to be such a pair::

    E[AUC] = sum_{i != j} p_i (1 - p_j) [s_i > s_j]  (ties count half)
             / sum_{i != j} p_i (1 - p_j)

computed in O(n log n) over the leads sorted by score. It holds only while the model stays
calibrated on the new leads, which is why it is shown apart from realized figures, and why a
drift alarm weakens it.

**Alarm** (``performance_alarm``): the realized AUC's interval lies wholly more than
``AUC_DROP`` (0.05) below the AUC training reported, or a grade's realized conversion interval
misses its promised rate by more than ``GRADE_MISS`` (5 points). Both ask for evidence beyond
noise: a small month widens the intervals rather than raising false alarms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import binomtest, rankdata
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from leadml.counts import plural
from leadml.qualify.grades import GRADES, GradeBands

#: Fewest labelled leads a realized figure is given on.
MIN_LABELLED = 30
#: Reliability bins: deciles of probability, or fewer so each holds ~30 leads.
RELIABILITY_BINS = 10
AUC_DROP = 0.05
GRADE_MISS = 0.05
Z95 = 1.959963984540054


# -- intervals -----------------------------------------------------------------------------------
def wilson_interval(converted: int, leads: int) -> list[float] | None:
    """95 % Wilson interval of a conversion rate (None without leads)."""
    if leads <= 0:
        return None
    ci = binomtest(int(converted), int(leads)).proportion_ci(0.95, method="wilson")
    return [float(ci.low), float(ci.high)]


def roc_auc_delong(y: np.ndarray, score: np.ndarray) -> tuple[float, list[float]]:
    """ROC AUC and its 95 % DeLong interval (DeLong, DeLong & Clarke-Pearson, 1988).

    The AUC is the Mann–Whitney statistic from mid-ranks (ties count half), the same number
    as :func:`sklearn.metrics.roc_auc_score`; its variance comes from each lead's share of
    pairs won (the structural components), so no resampling is needed.
    """
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    pos, neg = score[y], score[~y]
    m, n = len(pos), len(neg)
    ranks = rankdata(np.concatenate([pos, neg]))
    v10 = (ranks[:m] - rankdata(pos)) / n  # per converter: share of non-converters below
    v01 = 1.0 - (ranks[m:] - rankdata(neg)) / m  # per non-converter: share of converters above
    auc = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    half = Z95 * float(np.sqrt(var))
    return auc, [max(0.0, auc - half), min(1.0, auc + half)]


# -- estimation ----------------------------------------------------------------------------------
def expected_roc_auc(probability: np.ndarray, score: np.ndarray | None = None) -> float:
    """CBPE's expected ROC AUC of ``score`` (default: the probability itself) when each lead
    converts with its calibrated ``probability`` (see the module's docstring); NaN for fewer
    than two leads."""
    p = np.asarray(probability, dtype=np.float64)
    s = p if score is None else np.asarray(score, dtype=np.float64)
    if len(p) < 2:
        return float("nan")
    order = np.argsort(s, kind="stable")
    ps, ss = p[order], s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ss)) + 1]  # runs of equal scores
    pos = np.add.reduceat(ps, starts)
    neg = np.add.reduceat(1.0 - ps, starts)
    own = np.add.reduceat(ps * (1.0 - ps), starts)  # a lead is never paired with itself
    below = np.cumsum(neg) - neg  # expected non-converters scored strictly lower
    numerator = float(np.sum(pos * below) + 0.5 * np.sum(pos * neg - own))
    denominator = float(p.sum() * (1.0 - p).sum() - np.sum(p * (1.0 - p)))
    return numerator / denominator if denominator > 0 else float("nan")


def estimated_performance(probability: np.ndarray, bands: GradeBands) -> dict[str, Any]:
    """Expected conversion (overall and per grade) and expected ROC AUC, no outcome needed."""
    p = np.asarray(probability, dtype=np.float64)
    n = len(p)
    if n == 0:
        return {"available": False, "n": 0, "reason": "no leads to estimate on"}
    grades = bands.grade(p)
    # The number converting is a sum of independent Bernoulli(p): its spread is known.
    half = Z95 * float(np.sqrt(np.sum(p * (1 - p)))) / n
    mean = float(p.mean())
    return {
        "available": True,
        "n": n,
        "conversion": {"rate": mean, "interval": [max(0.0, mean - half), min(1.0, mean + half)]},
        "expected_converted": float(p.sum()),
        "roc_auc": _none_if_nan(expected_roc_auc(p)),
        "grades": [
            {
                "grade": g,
                "n": int((grades == g).sum()),
                "rate": float(p[grades == g].mean()) if (grades == g).any() else None,
                "expected_converted": float(p[grades == g].sum()),
            }
            for g in GRADES
        ],
        "method": "confidence-based estimation from the calibrated probabilities (CBPE)",
    }


# -- realized ------------------------------------------------------------------------------------
def promised_rates(metrics: dict[str, Any]) -> dict[str, float | None]:
    """What each grade promised at training: its conversion on the held-out leads (its mean
    probability where no lead of the grade was held out)."""
    promised: dict[str, float | None] = {}
    for row in metrics.get("grades", []):
        value = row.get("conversion")
        if value is None or value != value:
            value = row.get("mean_probability")
        promised[str(row["grade"])] = None if value is None or value != value else float(value)
    return promised


def reliability_curve(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Observed against predicted conversion on probability deciles, each bin with its count."""
    bins = max(2, min(RELIABILITY_BINS, len(p) // MIN_LABELLED))
    observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
    # The same bins as calibration_curve cuts them, for the count behind each point.
    edges = np.percentile(p, np.linspace(0, 100, bins + 1))
    which = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(which, minlength=bins)
    positives = np.bincount(which, weights=y, minlength=bins)
    kept = np.flatnonzero(counts)
    return [
        {
            "predicted": float(predicted[i]),
            "observed": float(observed[i]),
            "n": int(counts[b]),
            "interval": wilson_interval(round(positives[b]), int(counts[b])),
        }
        for i, b in enumerate(kept)
    ]


def realized_performance(
    y: np.ndarray, probability: np.ndarray, bands: GradeBands, promised: dict[str, float | None]
) -> dict[str, Any]:
    """Realized figures on labelled leads (see the module's docstring)."""
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(probability, dtype=np.float64)
    n, positives = len(y), int(y.sum())
    base: dict[str, Any] = {"n": n, "positives": positives}
    if n < MIN_LABELLED:
        reason = (
            f"only {plural(n, 'lead')} with a known outcome; at least {MIN_LABELLED} are needed"
        )
        return {"available": False, **base, "reason": reason}
    grades = bands.grade(p)
    out: dict[str, Any] = {
        "available": True,
        **base,
        "conversion": {"rate": positives / n, "interval": wilson_interval(positives, n)},
        "expected_conversion": float(p.mean()),
        "brier": float(brier_score_loss(y, p)),
        "grades": [_grade_row(g, y[grades == g], p[grades == g], promised.get(g)) for g in GRADES],
    }
    if positives in (0, n):
        which = "converted" if positives else "did not convert"
        out["roc_auc"] = None
        out["reason"] = f"every labelled lead {which}: ROC AUC and reliability need both outcomes"
        out["reliability"] = []
        return out
    auc, interval = roc_auc_delong(y, p)
    out["roc_auc"] = {"value": auc, "interval": interval, "method": "DeLong"}
    out["reliability"] = reliability_curve(y, p)
    return out


def _grade_row(grade: str, y: np.ndarray, p: np.ndarray, promised: float | None) -> dict[str, Any]:
    n, converted = len(y), int(y.sum())
    return {
        "grade": grade,
        "n": n,
        "converted": converted,
        "rate": converted / n if n else None,
        "interval": wilson_interval(converted, n),
        "expected_rate": float(p.mean()) if n else None,
        "promised": promised,
    }


# -- alarm ---------------------------------------------------------------------------------------
def performance_findings(realized: dict[str, Any], headline_auc: float | None) -> list[str]:
    """The reasons to raise the performance alarm, one line each (empty: no alarm)."""
    if not realized.get("available"):
        return []
    found = []
    auc = realized.get("roc_auc")
    trained = headline_auc if headline_auc is not None else float("nan")
    if auc and np.isfinite(trained) and auc["interval"][1] < trained - AUC_DROP:
        found.append(
            f"realized ROC AUC {auc['value']:.3f} (95 % up to {auc['interval'][1]:.3f}) "
            f"is below training's {trained:.3f} by more than {AUC_DROP}"
        )
    for row in realized.get("grades", []):
        interval, promised = row["interval"], row["promised"]
        if interval is None or promised is None:
            continue
        if promised > interval[1] + GRADE_MISS or promised < interval[0] - GRADE_MISS:
            found.append(
                f"grade {row['grade']} converted {row['rate']:.1%} "
                f"({interval[0]:.1%}–{interval[1]:.1%}, {plural(row['n'], 'lead')}); "
                f"it promised {promised:.1%}"
            )
    return found


def _none_if_nan(value: float) -> float | None:
    return value if np.isfinite(value) else None
