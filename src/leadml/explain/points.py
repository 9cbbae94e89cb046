"""Pushes in points of the 0–100 score, which is what a rep reads, instead of log-odds.

TreeSHAP splits a lead's *raw log-odds* exactly among its features. The score is
``100 × calibrator(raw)``, a monotone but curved map, so a push of +0.4 log-odds is worth many
points near the middle of the curve and few near its ends. Each push is therefore scaled by the
calibrator's secant slope between the average lead (the base value) and this lead:

    points_j = 100 × phi_j × (p − p0) / (raw − base)

so the points of a lead add up exactly to ``score − base_score`` (in unrounded points), every
push keeps its sign and order, and the slope is bounded (it tends to the calibrator's
derivative when the lead sits at the base value, where the ratio would be 0/0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from leadml.bundle.calibration import Calibrator

#: Below this distance from the base value the secant is replaced by a central difference.
_FLAT = 1e-6
_STEP = 1e-4


def point_scale(
    calibrator: Callable[[np.ndarray], np.ndarray], raw: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per lead: points per unit of log-odds, and the base score (0–100)."""
    raw = np.asarray(raw, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    p = np.asarray(calibrator(raw), dtype=np.float64)
    p0 = np.asarray(calibrator(base), dtype=np.float64)
    gap = raw - base
    near = np.abs(gap) < _FLAT
    slope = np.divide(p - p0, gap, out=np.zeros_like(gap), where=~near)
    if near.any():
        up = np.asarray(calibrator(base[near] + _STEP), dtype=np.float64)
        down = np.asarray(calibrator(base[near] - _STEP), dtype=np.float64)
        slope[near] = (up - down) / (2 * _STEP)
    return 100.0 * slope, 100.0 * p0


def lead_point_scale(calibrator: Calibrator, raw: float, base: float) -> tuple[float, float]:
    """``point_scale`` for one lead, in plain floats (no numpy: this runs per API request)."""
    p0 = calibrator.one(base)
    if abs(raw - base) >= _FLAT:
        return 100.0 * (calibrator.one(raw) - p0) / (raw - base), 100.0 * p0
    slope = (calibrator.one(base + _STEP) - calibrator.one(base - _STEP)) / (2 * _STEP)
    return 100.0 * slope, 100.0 * p0


def shown_points(value: float) -> str:
    """Points of the 0–100 score as a rep reads them: +7, −3, 0 (the CLI's cards and the
    Python API's print them alike)."""
    shown = round(value)
    return f"{shown:+d}".replace("-", "−") if shown else "0"
