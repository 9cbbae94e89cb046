"""Honest held-out probabilities: each fold's scores calibrated by what the earlier folds knew.

A probability judged in a backtest fold must come from a calibrator that never saw that
lead's outcome: with a time order, one fitted on the earlier folds' scores (the oldest fold,
having none, is cross-fitted within itself); otherwise on the other folds'. Two choices are
made here, each by the backtest itself: whether the earlier folds' scores are taken at their own
models' conversion level or moved to the judged model's (``choose_level``), and whether the
young leads' newest conversion level moves the probabilities (``choose_fresh_level``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from leadml.bundle.calibration import Calibrator, Method, fit_calibrator, fit_method
from leadml.data.split import Folds


class HeldOutScores(Protocol):
    """The backtest's held-out raw scores (``backtest.CvRun``): each lead scored by its
    fold's model, and each fold model's training level."""

    raw: np.ndarray
    anchors: list[float]

    def at_level(self, positions: np.ndarray, anchor: float) -> np.ndarray: ...


def honest_probabilities(
    run: HeldOutScores,
    y: np.ndarray,
    weights: np.ndarray | None,
    folds: Folds,
    seed: int,
    anchored: bool = False,
) -> np.ndarray:
    """Calibrated held-out probabilities for every lead a fold judges, each from a calibrator
    that never saw that lead's outcome (see the module's docstring). ``anchored``: the earlier
    folds' scores are moved to the judged fold model's level first (``choose_level``)."""
    raw = run.raw
    w = np.ones(len(y)) if weights is None else weights
    p = np.full(len(y), np.nan)
    for k, fold in enumerate(folds.folds):
        before = folds.folds[:k] if folds.by_time else folds.folds[:k] + folds.folds[k + 1 :]
        fit_on = np.concatenate([f.test for f in before]) if before else np.array([], int)
        if folds.by_time:  # only the outcomes known at the fold's cutoff
            fit_on = folds.known_by(fit_on, fold)
        if len(fit_on) and 0 < y[fit_on].sum() < len(fit_on):
            scores = run.at_level(fit_on, run.anchors[k]) if anchored else raw[fit_on]
            calibrator, _ = fit_calibrator(
                scores, y[fit_on], seed, w[fit_on], calibration_methods(folds)
            )
            p[fold.test] = calibrator(raw[fold.test])
        else:  # nothing earlier: cross-fitted within the fold
            methods = calibration_methods(folds)
            p[fold.test] = _cross_fitted(raw[fold.test], y[fold.test], w[fold.test], seed, methods)
    return p


def choose_level(
    run: HeldOutScores, y: np.ndarray, weights: np.ndarray | None, folds: Folds, seed: int
) -> tuple[bool, np.ndarray, dict[str, float]]:
    """Whether the calibrator should anchor held-out scores to their model's own training
    level (True) or take them as they are (False), judged by the backtest itself.

    A fold model that learned from older leads scores at the older conversion level. Taken as
    they are, its scores teach the calibrator how far the next leads moved from that level,
    and the shipped model gets the same push again: right when the trend goes on (bank
    marketing's conversion climbs fold after fold), twice too much after a one-off jump (Olist's
    deal records start in December 2017: probabilities doubled). Anchored, the calibrator learns
    only how held-out leads converted relative to their model's level. Each way calibrates
    every fold from the earlier folds only; the lower recency-weighted log loss over the folds
    so judged wins. Without a time order, or with nothing to judge by (one fold), anchored: a
    trend the backtest cannot see is not extrapolated.

    Returns the choice, the honest probabilities it gives, and both log losses."""
    from sklearn.metrics import log_loss

    anchor = honest_probabilities(run, y, weights, folds, seed, anchored=True)
    if not folds.by_time or len(folds) < 2:
        return True, anchor, {}
    follow = honest_probabilities(run, y, weights, folds, seed, anchored=False)
    at = np.concatenate([f.test for f in folds.folds[1:]])
    w = None if weights is None else weights[at]
    losses = {
        name: float(log_loss(y[at], np.clip(p[at], 1e-7, 1 - 1e-7), sample_weight=w, labels=[0, 1]))
        for name, p in (("follow", follow), ("anchored", anchor))
    }
    anchored = losses["anchored"] <= losses["follow"]
    return anchored, anchor if anchored else follow, losses


def calibration_methods(folds: Folds) -> tuple[Method, ...]:
    """Isotonic only without a time order: see :func:`leadml.bundle.calibration.fit_calibrator`."""
    return ("none", "platt") if folds.by_time else ("none", "platt", "isotonic")


def _cross_fitted(
    raw: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int, methods: tuple[Method, ...]
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    splits = min(5, int(y.sum()), int(len(y) - y.sum()))
    if splits < 2:
        return Calibrator("none")(raw)
    # the method is chosen once on the fold (cross-validated); each fifth is then calibrated
    # by a map fitted on the other four
    chosen = fit_calibrator(raw, y, seed, w, methods)[0].method
    out = np.empty(len(y))
    for a, b in StratifiedKFold(splits, shuffle=True, random_state=seed).split(raw, y):
        out[b] = fit_method(chosen, raw[a], y[a], w[a])(raw[b])
    return out


def choose_fresh_level(
    honest: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    folds: Folds,
    half_life: float | None,
) -> tuple[float, np.ndarray, dict[str, float]]:
    """Whether to move the probabilities to the newest conversion level the young settled
    leads show (:meth:`leadml.data.newest_level.Maturity.level_shift`), judged by the backtest:
    each fold's probabilities moved by the shift its own cutoff saw, against unmoved, by the
    recency-weighted log loss over every judged lead. Returns the shift for the shipped model
    (0: not used), the honest probabilities that go with the choice, and both log losses."""
    from sklearn.metrics import log_loss

    maturity = folds.maturity
    if maturity is None or not folds.by_time:
        return 0.0, honest, {}
    moved = honest.copy()
    for fold in folds.folds:
        shift = maturity.level_shift(y, fold.cutoff, half_life)
        p = np.clip(honest[fold.test], 1e-7, 1 - 1e-7)
        moved[fold.test] = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift)))
    at = np.concatenate([f.test for f in folds.folds])
    w = None if weights is None else weights[at]
    losses = {
        name: float(log_loss(y[at], np.clip(p[at], 1e-7, 1 - 1e-7), sample_weight=w, labels=[0, 1]))
        for name, p in (("as learned", honest), ("newest level", moved))
    }
    if losses["newest level"] >= losses["as learned"]:
        return 0.0, honest, losses
    return maturity.level_shift(y, maturity.as_of, half_life), moved, losses
