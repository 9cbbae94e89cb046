"""A lead's 90 % outcome interval from the two cut-offs training stored (see
:mod:`leadml.modeling.conformal` for why it is a set of outcomes and how it is fitted).

Pure Python and numpy, no crepes: scoring one lead costs two comparisons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: What each interval says, in the words the card and the page use.
VERDICTS = {
    (True, False): "scores like a converter",
    (False, True): "scores like a non-converter",
    (True, True): "could go either way",
    (False, False): "unlike the held-out leads",
}


def interval_one(spec: dict[str, Any] | None, probability: float) -> dict[str, Any] | None:
    """``{"level", "low", "high", "outcomes", "verdict"}`` for one probability (None: the
    model has no interval, e.g. too few held-out converters when it was trained)."""
    if not spec:
        return None
    converts = probability >= spec["convert_from"]
    stays = probability <= spec["stay_up_to"]
    outcomes = [
        name for name, inside in (("not converted", stays), ("converted", converts)) if inside
    ]
    return {
        "level": spec["level"],
        "low": 0 if stays else (1 if converts else None),
        "high": 1 if converts else (0 if stays else None),
        "outcomes": outcomes,
        "verdict": VERDICTS[(converts, stays)],
    }


def interval_columns(spec: dict[str, Any] | None, probability: np.ndarray) -> dict[str, Any]:
    """The same for a table: ``interval_low``, ``interval_high`` (0/1, NA when empty) and
    ``certainty`` (the verdict); empty when the model has no interval."""
    if not spec:
        return {}
    p = np.asarray(probability, dtype=np.float64)
    converts = p >= spec["convert_from"]
    stays = p <= spec["stay_up_to"]
    low = np.where(stays, 0, np.where(converts, 1, -1))
    high = np.where(converts, 1, np.where(stays, 0, -1))
    verdict = np.empty(len(p), dtype=object)
    for (c, s), text in VERDICTS.items():
        verdict[(converts == c) & (stays == s)] = text
    return {
        "interval_low": pd.array(np.where(low < 0, None, low), dtype="Int8"),
        "interval_high": pd.array(np.where(high < 0, None, high), dtype="Int8"),
        "certainty": verdict,
    }


def coverage(spec: dict[str, Any], probability: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Share of leads whose real outcome is inside their interval, and the mean width (the
    share of leads whose interval holds both outcomes): the figures the tests and report show."""
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y).astype(bool)
    converts = p >= spec["convert_from"]
    stays = p <= spec["stay_up_to"]
    inside = np.where(y, converts, stays)
    return {
        "coverage": float(inside.mean()),
        "coverage_converted": float(inside[y].mean()) if y.any() else float("nan"),
        "coverage_not_converted": float(inside[~y].mean()) if (~y).any() else float("nan"),
        "width": float((converts & stays).mean()),
        "leads": len(p),
    }
