"""The held-out numbers every run reports, with the same names for models and baselines.

ROC AUC and PR AUC say how well the score ranks leads, log loss, Brier and ECE whether its
probabilities can be taken at face value, and lift in the top decile what sales feels when it
works the best-scored tenth of its leads first.
"""

from __future__ import annotations

import numpy as np
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
