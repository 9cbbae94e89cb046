"""Fit and engagement: who the lead is, and what the lead did, as two scores of their own.

One score mixes two different things a sales team acts on differently (HubSpot and MadKudu
split them the same way): a lead that fits perfectly but has done nothing yet needs outreach,
a busy lead from the wrong kind of company needs a polite filter. Both come from the very same
exact attributions, with no second model: each is the score (0–100) of a lead that has only
that side's pushes on top of the average lead,

    fit        = 100 × calibrator(base + Σ pushes of the demographic and firmographic fields)
    engagement = 100 × calibrator(base + Σ pushes of the engagement fields)

so an average lead scores the base score on both, and a lead with no field on one side (or a
schema without such fields) gets None there. A side can move a little when only the other
side's fields change: TreeSHAP shares an interaction between two fields among both. Form
answers (the qualification group) and the lead source are in neither: they are what the lead
*says*, not who it is or what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from leadml.bundle.calibration import Calibrator
    from leadml.schema.spec import FeatureSpec

FIT_GROUPS = frozenset({"demographic", "firmographic"})
ENGAGEMENT_GROUPS = frozenset({"engagement"})


def side_indices(
    specs: Sequence[FeatureSpec | None],
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Positions of the fit features and of the engagement features."""
    fit = tuple(j for j, s in enumerate(specs) if s is not None and s.group in FIT_GROUPS)
    engaged = tuple(
        j for j, s in enumerate(specs) if s is not None and s.group in ENGAGEMENT_GROUPS
    )
    return fit, engaged


def side_scores_one(
    calibrator: Calibrator,
    base: float,
    phi: Sequence[float],
    x: Sequence[float],
    sides: tuple[tuple[int, ...], tuple[int, ...]],
) -> tuple[int | None, int | None]:
    """Fit and engagement for one lead (plain floats: this runs per API request). A side whose
    fields are all missing is None: nothing is known about it."""
    out: list[int | None] = []
    for idx in sides:
        if not idx or not any(x[j] == x[j] for j in idx):
            out.append(None)
            continue
        out.append(round(100 * calibrator.one(base + sum(phi[j] for j in idx))))
    return out[0], out[1]


def side_scores(
    calibrator: Calibrator,
    base: np.ndarray,
    phi: np.ndarray,
    x: np.ndarray,
    sides: tuple[tuple[int, ...], tuple[int, ...]],
) -> tuple[np.ndarray, np.ndarray]:
    """The same for a batch: float arrays, NaN where a side is unknown."""
    out = []
    for idx in sides:
        if not idx:
            out.append(np.full(len(x), np.nan))
            continue
        cols = list(idx)
        p = np.asarray(calibrator(base + phi[:, cols].sum(axis=1)), dtype=np.float64)
        score = np.rint(100 * p)
        score[~np.isfinite(x[:, cols]).any(axis=1)] = np.nan
        out.append(score)
    return out[0], out[1]
