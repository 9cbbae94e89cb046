"""Calibration: stored as numbers, chosen on evidence, monotone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from leadml.bundle.calibration import Calibrator, fit_calibrator


def test_overconfident_scores_get_fixed_and_survive_json() -> None:
    rng = np.random.default_rng(1)
    true_logit = rng.normal(-1.5, 1.2, 8000)
    y = (rng.random(8000) < 1 / (1 + np.exp(-true_logit))).astype(int)
    raw = 2.5 * true_logit + 1.0  # an overconfident, shifted model
    cal, losses = fit_calibrator(raw, y)
    assert cal.method in ("platt", "isotonic")
    assert losses[cal.method] < losses["none"]
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.linspace(-8, 8, 50)
    np.testing.assert_allclose(again(grid), cal(grid))
    assert np.all(np.diff(cal(grid)) >= 0)  # monotone: ranking is never changed


@pytest.mark.parametrize(
    "calibrator",
    [
        Calibrator("platt", 1.1, -0.2),
        Calibrator(
            "isotonic", knots_x=[-3.0, -1.0, 0.5, 0.5, 2.0], knots_y=[0.01, 0.1, 0.4, 0.5, 0.9]
        ),
        Calibrator(),
    ],
)
def test_one_number_without_numpy_is_the_same_map(calibrator: Calibrator) -> None:
    """The serving path's ``one`` equals the array map, inside, between and beyond the knots;
    and one lead's points scale equals the batch's."""
    from leadml.explain.points import lead_point_scale, point_scale

    for raw in (-800.0, -5.0, -3.0, -1.0, 0.0, 0.3, 0.5, 1.7, 2.0, 9.0):
        assert calibrator.one(raw) == pytest.approx(
            float(calibrator(np.array([raw]))[0]), abs=1e-12
        )
        for base in (-1.0, raw):
            one = lead_point_scale(calibrator, raw, base)
            batch = point_scale(calibrator, np.array([raw]), np.array([base]))
            assert one == pytest.approx((batch[0][0], batch[1][0]), abs=1e-9)
