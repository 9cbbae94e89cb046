"""The held-out numbers every run reports, with the same names for models and baselines.

ROC AUC and PR AUC say how well the score ranks leads, log loss, Brier and ECE whether its
probabilities can be taken at face value, and lift in the top decile what sales feels when it
works the best-scored tenth of its leads first.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score


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


def resampled_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """``classification_metrics`` in plain numpy, for the bootstrap's hundreds of resamples
    (scikit-learn's input checks cost more than the sums); the same numbers, tested so."""
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    y = np.asarray(y, dtype=float)
    pos = y.sum()
    neg = len(y) - pos
    out = {"roc_auc": float("nan"), "pr_auc": float("nan")}
    if 0 < pos < len(y):
        ranks = rankdata(p)
        out["roc_auc"] = float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))
        order = np.argsort(-p, kind="mergesort")
        ps, ys = p[order], y[order]
        last = np.r_[np.nonzero(np.diff(ps))[0], len(ps) - 1]  # last lead of each score
        tps = np.cumsum(ys)[last]
        precision = tps / (last + 1)
        recall = tps / pos
        out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    out["log_loss"] = float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
    out["brier"] = float(np.mean((p - y) ** 2))
    which = np.minimum((p * 10).astype(int), 9)
    count = np.bincount(which, minlength=10)
    gap = np.abs(np.bincount(which, y, 10) - np.bincount(which, p, 10))
    out["ece"] = float(gap.sum() / len(y)) if count.any() else float("nan")
    k = max(1, round(len(p) * 0.1))
    top = np.argsort(-p, kind="stable")[:k]
    out["lift_top_decile"] = float(y[top].mean() / y.mean()) if pos else float("nan")
    return out


def bootstrap_intervals(
    y: np.ndarray, p: np.ndarray, resamples: int = 100, seed: int = 0, level: float = 0.95
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of every metric of ``classification_metrics``: how far
    the figure could move on another sample of the same size (resampling leads)."""
    y = np.asarray(y)
    p = np.asarray(p, dtype=float)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {}
    for _ in range(resamples):
        pick = rng.integers(0, len(y), len(y))
        for name, value in resampled_metrics(y[pick], p[pick]).items():
            draws.setdefault(name, []).append(value)
    tail = (1 - level) / 2 * 100
    return {
        name: [float(v) for v in np.nanpercentile(values, [tail, 100 - tail])]
        for name, values in draws.items()
        if np.isfinite(values).any()
    }
