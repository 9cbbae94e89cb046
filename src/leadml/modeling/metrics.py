"""The held-out numbers every run reports, with the same names for models and baselines.

ROC AUC and PR AUC say how well the score ranks leads, log loss, Brier and ECE whether its
probabilities can be taken at face value, and lift in the top decile what sales feels when it
works the best-scored tenth of its leads first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from leadml.config import setting_default


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed rate - mean probability| over equal-width probability bins."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y))


def lift_at(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Conversion in the top ``fraction`` of scores divided by the overall rate."""
    k = max(1, round(len(p) * fraction))
    top = np.argsort(-p, kind="stable")[:k]
    base = float(np.mean(y))
    return float(np.mean(y[top]) / base) if base > 0 else float("nan")


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The held-out numbers every run reports; the same names across models and baselines."""
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    single_class = len(np.unique(y)) < 2
    return {
        "roc_auc": float("nan") if single_class else float(roc_auc_score(y, p)),
        "pr_auc": float("nan") if single_class else float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "lift_top_decile": lift_at(y, p, 0.1),
    }


@dataclass(frozen=True)
class _Sorted:
    """Leads sorted once by falling probability, with what every weighting reuses."""

    y: np.ndarray
    p: np.ndarray
    starts: np.ndarray  # first lead of each run of equal probabilities
    loss: np.ndarray
    squared: np.ndarray
    bins: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, p: np.ndarray) -> _Sorted:
        p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
        order = np.argsort(-p, kind="stable")
        ys, ps = np.asarray(y, dtype=float)[order], p[order]
        return cls(
            ys,
            ps,
            np.r_[0, np.flatnonzero(np.diff(ps)) + 1],
            -(ys * np.log(ps) + (1 - ys) * np.log1p(-ps)),
            (ps - ys) ** 2,
            np.minimum((ps * 10).astype(int), 9),
        )

    def metrics(self, w: np.ndarray) -> dict[str, float]:
        total = w.sum()
        pos = w * self.y
        neg = w - pos
        w1, w0 = pos.sum(), neg.sum()
        out = {"roc_auc": float("nan"), "pr_auc": float("nan")}
        if w1 > 0 and w0 > 0:
            g1, g0 = np.add.reduceat(pos, self.starts), np.add.reduceat(neg, self.starts)
            below = w0 - np.cumsum(g0)  # negatives scored strictly lower
            out["roc_auc"] = float(np.sum(g1 * (below + 0.5 * g0)) / (w1 * w0))
            tps, seen = np.cumsum(g1), np.cumsum(g1 + g0)
            precision = np.divide(tps, seen, out=np.zeros_like(tps), where=seen > 0)
            out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, tps / w1]) * precision))
        out["log_loss"] = float(np.dot(w, self.loss) / total)
        out["brier"] = float(np.dot(w, self.squared) / total)
        gap = np.bincount(self.bins, pos, 10) - np.bincount(self.bins, w * self.p, 10)
        out["ece"] = float(np.abs(gap).sum() / total)
        k = max(1.0, round(total * 0.1))
        taken = np.clip(k - (np.cumsum(w) - w), 0.0, w)  # the top tenth, by weight
        out["lift_top_decile"] = float((taken @ self.y / k) / (w1 / total)) if w1 else np.nan
        return out


def weighted_metrics(y: np.ndarray, p: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """``classification_metrics`` with a whole-number weight per lead, as if each lead were
    there that many times (with weight 1 everywhere: the same numbers, tested so)."""
    sorted_ = _Sorted.of(y, p)
    order = np.argsort(-np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7), kind="stable")
    return sorted_.metrics(np.asarray(weight, dtype=float)[order])


def bootstrap_intervals(
    y: np.ndarray,
    p: np.ndarray,
    resamples: int = setting_default("bootstrap"),
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, list[float]]:
    """Percentile intervals of every metric of ``classification_metrics`` from the Poisson
    bootstrap: each resample counts every lead a Poisson(1) number of times, the standard
    stand-in for drawing leads with replacement. The leads are sorted once, so a resample is a
    few passes over the counts, not a sort: intervals for a million leads in seconds."""
    sorted_ = _Sorted.of(y, p)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        counts = rng.poisson(1.0, len(sorted_.y)).astype(float)
        for name, value in sorted_.metrics(counts).items():
            draws.setdefault(name, []).append(value)
    tail = (1 - level) / 2 * 100
    return {
        name: [float(v) for v in np.nanpercentile(values, [tail, 100 - tail])]
        for name, values in draws.items()
        if np.isfinite(values).any()
    }
