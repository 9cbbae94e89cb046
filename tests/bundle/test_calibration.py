"""Calibration: stored as numbers, chosen on evidence, monotone."""

from __future__ import annotations

import json

import numpy as np

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
