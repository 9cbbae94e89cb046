"""Turn LightGBM's raw log-odds into probabilities a sales team can take at face value.

Boosted trees rank well but their probabilities drift, especially with early stopping and class
imbalance. We fit scikit-learn's Platt (logistic) and isotonic maps on the backtest's held-out
predictions (each from a model that never saw that lead), choose the one with the lower
cross-validated log loss there, and keep it as plain numbers
(two coefficients, or the isotonic knots) so a bundle loads without pickle. Applying a
calibrator needs numpy only; scikit-learn is imported to fit one, so a process that only loads
and scores bundles (a reload's check process) can go without it.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Method = Literal["none", "platt", "isotonic"]
#: Held-out scores used to choose among the methods (a seeded sample beyond it).
CHOICE_ROWS = 100_000


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Calibrator:
    """A monotone map raw log-odds → probability, stored as numbers."""

    method: Method = "none"
    coef: float = 1.0
    intercept: float = 0.0
    knots_x: list[float] = field(default_factory=list)
    knots_y: list[float] = field(default_factory=list)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "platt":
            return _sigmoid(self.coef * raw + self.intercept)
        if self.method == "isotonic":
            # Same as IsotonicRegression(out_of_bounds="clip").predict: linear between knots.
            return np.interp(raw, self.knots_x, self.knots_y)
        return _sigmoid(raw)

    def one(self, raw: float) -> float:
        """``self(raw)`` for one number, without numpy (the serving path calls it per lead)."""
        if self.method == "isotonic":
            xs, ys = self.knots_x, self.knots_y
            if raw <= xs[0]:
                return float(ys[0])
            if raw >= xs[-1]:
                return float(ys[-1])
            i = bisect.bisect_right(xs, raw)
            x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
            return float(y0 + (y1 - y0) * (raw - x0) / (x1 - x0)) if x1 > x0 else float(y1)
        z = self.coef * raw + self.intercept if self.method == "platt" else raw
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def shifted(self, shift: float) -> Calibrator:
        """The same map, every probability moved by ``shift`` log-odds (0: itself)."""
        if not shift:
            return self
        if self.method == "isotonic":
            y = np.clip(np.asarray(self.knots_y, dtype=np.float64), 1e-6, 1 - 1e-6)
            moved = _sigmoid(np.log(y / (1 - y)) + shift)
            return Calibrator("isotonic", knots_x=self.knots_x, knots_y=[float(v) for v in moved])
        coef, intercept = (self.coef, self.intercept) if self.method == "platt" else (1.0, 0.0)
        return Calibrator("platt", coef=coef, intercept=intercept + shift)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "coef": self.coef,
            "intercept": self.intercept,
            "knots_x": self.knots_x,
            "knots_y": self.knots_y,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        return cls(**data)


def fit_method(
    method: Method, raw: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None
) -> Calibrator:
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method == "platt":
        lr = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y, sample_weight=weight)
        if lr.coef_[0, 0] <= 0:  # a calibrator may not reverse the ranking: fall back to none
            return Calibrator("none")
        return Calibrator("platt", coef=float(lr.coef_[0, 0]), intercept=float(lr.intercept_[0]))
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(
            raw, y, sample_weight=weight
        )
        return Calibrator(
            "isotonic",
            knots_x=[float(v) for v in iso.X_thresholds_],
            knots_y=[float(v) for v in iso.y_thresholds_],
        )
    return Calibrator("none")


def fit_calibrator(
    raw: np.ndarray,
    y: np.ndarray,
    seed: int = 0,
    weight: np.ndarray | None = None,
    methods: tuple[Method, ...] = ("none", "platt", "isotonic"),
) -> tuple[Calibrator, dict]:
    """Pick none / Platt / isotonic by 5-fold (weighted) log loss on held-out predictions,
    then refit on all of them.

    ``raw`` must come from models that never learned from the lead it scores (the backtest's
    out-of-time or out-of-fold predictions): a booster's scores on its own training leads are
    over-confident, and a calibrator fitted on them would be too. ``weight`` (recency) lets
    recent leads count more, as they did for the booster. ``methods`` limits the candidates:
    under drift isotonic steps learned on older scores misplace newer ones, and a two-number
    Platt map travels better. Returns the calibrator and the
    cross-validated log loss of each candidate, for the record.
    """
    from sklearn.metrics import log_loss
    from sklearn.model_selection import StratifiedKFold

    raw = np.asarray(raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    splits = min(5, int(y.sum()), int(len(y) - y.sum()))
    if splits < 2:
        return Calibrator("none"), {}
    folds = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed)
    # The choice needs no more leads than this (a seeded sample); the chosen map uses all.
    pick = np.arange(len(y))
    if len(y) > CHOICE_ROWS:
        pick = np.sort(np.random.default_rng(seed).choice(len(y), CHOICE_ROWS, replace=False))
    r, t, v = raw[pick], y[pick], w[pick]
    losses: dict[str, float] = {}
    for method in methods:
        pred = np.empty_like(r)
        for fit_idx, held_idx in folds.split(r, t):
            pred[held_idx] = fit_method(method, r[fit_idx], t[fit_idx], v[fit_idx])(r[held_idx])
        losses[method] = float(log_loss(t, np.clip(pred, 1e-6, 1 - 1e-6), sample_weight=v))
    best: Method = min(losses, key=losses.__getitem__)  # type: ignore[assignment]
    return fit_method(best, raw, y, w), losses
