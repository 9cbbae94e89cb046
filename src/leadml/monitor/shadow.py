"""Shadow comparison: a challenger scored beside the served model on the same leads.

Before a challenger routes leads, sales wants to know how much would change (how many leads
would change grade, and in which direction, how far scores would move) and whether the change
is for the better (which of the two ranks the leads that did convert higher, once outcomes are
in). Agreement needs no outcome; the realized comparison uses only leads whose outcome is known,
and says on how many it rests.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from leadml.counts import plural
from leadml.monitor.performance import MIN_LABELLED, roc_auc_delong
from leadml.qualify.grades import GRADES

PAIR_COLUMNS = (
    "served_probability",
    "served_score",
    "served_grade",
    "shadow_probability",
    "shadow_score",
    "shadow_grade",
    "converted",
)


def compare_shadow(pairs: pd.DataFrame) -> dict[str, Any]:
    """Agreement, score moves and realized ROC AUC of the served and the shadow model.

    ``pairs`` holds one row per lead scored by both: ``served_*`` and ``shadow_*``
    probability, score and grade, and ``converted`` (nullable boolean; NA: no outcome yet).
    """
    absent = [c for c in PAIR_COLUMNS if c not in pairs.columns]
    if absent:
        raise ValueError(f"shadow pairs lack column(s) {', '.join(absent)}")
    n = len(pairs)
    if n == 0:
        return {"n": 0, "reason": "no lead was scored by both models"}
    served = pairs["served_grade"].astype(str).to_numpy()
    shadow = pairs["shadow_grade"].astype(str).to_numpy()
    delta = pairs["shadow_score"].to_numpy(dtype=np.float64) - pairs["served_score"].to_numpy(
        dtype=np.float64
    )
    confusion = {g: {h: int(((served == g) & (shadow == h)).sum()) for h in GRADES} for g in GRADES}
    up, down = _moves(served, shadow)
    return {
        "n": n,
        "grade_agreement": float(np.mean(served == shadow)),
        "grade_up": up / n,
        "grade_down": down / n,
        "confusion": confusion,  # served grade → shadow grade → leads
        "score_delta": {
            "mean": float(delta.mean()),
            "median": float(np.median(delta)),
            "p10": float(np.percentile(delta, 10)),
            "p90": float(np.percentile(delta, 90)),
        },
        "realized": _realized(pairs),
    }


def _moves(served: np.ndarray, shadow: np.ndarray) -> tuple[int, int]:
    """Leads the shadow would grade better (A is best) and worse than the served model."""
    rank = {g: i for i, g in enumerate(GRADES)}
    a = np.array([rank.get(g, len(GRADES)) for g in served])
    b = np.array([rank.get(g, len(GRADES)) for g in shadow])
    return int((b < a).sum()), int((b > a).sum())


def _realized(pairs: pd.DataFrame) -> dict[str, Any]:
    known = pairs["converted"].astype("boolean")
    labelled = known.notna().to_numpy()
    y = known[labelled].to_numpy(dtype=bool)
    n, positives = int(labelled.sum()), int(y.sum())
    out: dict[str, Any] = {"n_labelled": n, "positives": positives}
    if n < MIN_LABELLED or positives in (0, n):
        out["reason"] = (
            f"{plural(n, 'lead')} with a known outcome ({positives} converted): at least "
            f"{MIN_LABELLED}, with both outcomes, are needed to compare"
        )
        return out
    for side in ("served", "shadow"):
        p = pairs.loc[labelled, f"{side}_probability"].to_numpy(dtype=np.float64)
        auc, interval = roc_auc_delong(y, p)
        out[side] = {"roc_auc": auc, "interval": interval}
    out["roc_auc_difference"] = out["shadow"]["roc_auc"] - out["served"]["roc_auc"]
    return out
