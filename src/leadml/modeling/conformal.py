"""A 90 % conformal interval for each lead's outcome, fitted on the backtest's held-out scores.

A calibrated probability says how often leads *like this one* convert; it does not say whether
the model can tell for *this* lead. Conformal prediction answers that with a guarantee that
needs no model assumption: calibrated on leads the model did not learn from, the interval
holds the real outcome for (at least, and very nearly) 90 % of new leads from the same flow.

For a yes/no outcome the 90 % interval on the 0–1 scale is one of: ``[1, 1]`` (the model is
90 % sure the lead converts), ``[0, 0]`` (sure it does not), ``[0, 1]`` (it could go either
way) or, rarely, empty. It is **Mondrian by class** (crepes' ``ConformalClassifier`` with the
outcome as the Mondrian category), so the 90 % holds among converters and among the others
alike, not only on average over a table where nine leads in ten do not convert.

The non-conformity of "converts" is ``1 − p`` and of "does not" is ``p``, so whether each
outcome is in the set only depends on where ``p`` stands: "converts" is in it from a cut-off
``convert_from`` up, "does not" up to ``stay_up_to``. Training computes the two cut-offs with
crepes (its p-values, unsmoothed, so that a lead always gets the same answer) and the bundle
keeps only these two numbers, so scoring needs no crepes and costs two comparisons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from crepes import ConformalClassifier

#: The interval's level: nine leads in ten.
LEVEL = 0.9
#: Fewer held-out leads of a class than this and the cut-off rests on a handful of leads.
MIN_PER_CLASS = 20


def _alphas(p: np.ndarray) -> np.ndarray:
    """Non-conformity of each outcome: column 0 "does not convert" (p), 1 "converts" (1 − p)."""
    return np.column_stack([p, 1.0 - p])


def fit_outcome_interval(
    probability: np.ndarray, y: np.ndarray, level: float = LEVEL
) -> dict[str, Any] | None:
    """The two cut-offs of the module's docstring from held-out calibrated probabilities and
    outcomes; None when either class has fewer than ``MIN_PER_CLASS`` held-out leads."""
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y).astype(int)
    keep = np.isfinite(p)
    p, y = p[keep], y[keep]
    counts = np.bincount(y, minlength=2)
    if counts.min() < MIN_PER_CLASS:
        return None
    alphas = _alphas(p)
    classifier = ConformalClassifier().fit(alphas[np.arange(len(p)), y], bins=y)
    # Where each outcome enters the set can only be at a held-out probability (the p-values are
    # step functions of p that move there), so ask crepes at each of them and read the edges.
    grid = np.unique(np.concatenate([p, [0.0, 1.0]]))
    grid_alphas = _alphas(grid)
    sets = np.column_stack(
        [
            classifier.predict_set(
                grid_alphas, bins=np.full(len(grid), c), confidence=level, smoothing=False
            )[:, c]
            for c in (0, 1)
        ]
    ).astype(bool)
    converts, stays = grid[sets[:, 1]], grid[sets[:, 0]]
    return {
        "level": level,
        "method": "Mondrian (class-conditional) inductive conformal classifier, crepes",
        "convert_from": float(converts.min()) if len(converts) else 1.0 + 1e-9,
        "stay_up_to": float(stays.max()) if len(stays) else -1e-9,
        "calibrated_on": len(p),
        "converted": int(counts[1]),
    }
