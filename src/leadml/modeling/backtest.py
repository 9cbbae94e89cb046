"""The backtest: how well a lead model trained on the past would have scored the leads that came
after, fold by fold, and the numbers the shipped model takes from it.

With a time order, every fold learns from the leads older than its own and is judged on them
(rolling origin, expanding window: :func:`leadml.data.split.backtest_folds`); without one,
stratified K folds. The folds run in lockstep through LightGBM's own ``lightgbm.cv``, which
stops all of them at the round where their mean log loss stops improving: that round count,
scaled to the rows of the shipped model, is how long the shipped model trains.

What the backtest gives the shipped model:

* the number of rounds (above) and the recency weighting (:mod:`leadml.modeling.recency`);
* the out-of-time (or out-of-fold) raw scores, on which the shipped calibrator is fitted, so
  it never sees a prediction of a model that learned from the same lead.

What it gives the user: per-fold and pooled metrics with bootstrap intervals, the baselines on
the same folds, and how the score held up over time (:mod:`leadml.modeling.judge`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from leadml.data.split import Folds
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.booster import EARLY_STOPPING_ROUNDS, MAX_ROUNDS
from leadml.modeling.prepare import Prepared, Rows
from leadml.modeling.recency import describe, recency_weights

Progress = Callable[[str], None]


@dataclass
class CvRun:
    """One weighting through the folds: its rounds, mean log loss and held-out raw scores."""

    half_life: float | None
    rounds: int
    log_loss: float
    #: The fold models (their training data freed), to score the held-out leads once chosen.
    boosters: list[lgb.Booster]
    #: The ``lightgbm`` fits it made: rows learned from and rounds boosted, per fold.
    fits: list[dict[str, int]]
    #: Per fold model: the rows LightGBM says it learned from (``used_indices``), and the
    #: rows it scored; kept so that "never scored a lead it learned from" can be checked.
    learned: list[np.ndarray] = field(default_factory=list)
    scored: list[np.ndarray] = field(default_factory=list)
    #: Per fold model: the log-odds of its (weighted) training leads' conversion rate, the
    #: level its raw scores start from (LightGBM boosts from the average).
    anchors: list[float] = field(default_factory=list)
    #: Raw log-odds of every lead judged in a fold, as its fold model scored it (NaN for leads
    #: no fold judges); filled by ``score_held_out`` for the run that is kept.
    raw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The anchor of the fold model that scored each lead (NaN elsewhere).
    level: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def score_held_out(self, x: np.ndarray) -> CvRun:
        """Each fold model scores the leads of its own fold, at the chosen round."""
        if len(self.raw) != len(x):
            raw, level = np.full(len(x), np.nan), np.full(len(x), np.nan)
            for booster, at, anchor in zip(self.boosters, self.scored, self.anchors, strict=True):
                raw[at] = booster.predict(x[at], raw_score=True, num_iteration=self.rounds)
                level[at] = anchor
            self.raw, self.level = raw, level
        return self

    def at_level(self, positions: np.ndarray, anchor: float) -> np.ndarray:
        """The raw scores of ``positions`` moved to a model whose training level is
        ``anchor``: above or below its own model's level by as much as they were."""
        return self.raw[positions] - self.level[positions] + anchor


def cross_validate(
    rows: Rows,
    folds: Folds,
    encoder: FeatureEncoder,
    params: dict[str, Any],
    *,
    weights: np.ndarray | None = None,
    half_life: float | None = None,
    max_rounds: int = MAX_ROUNDS,
    callbacks: list[Callable[[Any], None]] | None = None,
    data: lgb.Dataset | None = None,
) -> CvRun:
    """``lightgbm.cv`` over the backtest's folds, stopping on the folds' mean log loss.

    Weights, when given, are renormalised to mean 1 on each fold's training leads (so the
    regularisation means the same in every fold); the folds' log loss is unweighted, so
    weightings are compared on the same footing. ``data`` (from ``lead_dataset``) may be
    shared by runs with the same settings: the leads are binned once.
    """
    data = data or lead_dataset(rows, encoder)

    def weigh(train: lgb.Dataset, test: lgb.Dataset, prm: dict) -> tuple:
        if weights is not None:  # a subset's weight must be set after it is constructed
            train.construct()
            w = weights[train.used_indices]
            train.set_weight(w / w.mean())
        return train, test, prm

    pairs = [(f.train, f.test) for f in folds.folds]
    result = lgb.cv(
        params,
        data,
        num_boost_round=max_rounds,
        folds=pairs,
        fpreproc=weigh,
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False), *(callbacks or [])],
        return_cvbooster=True,
    )
    cv = result["cvbooster"]
    rounds = max(1, int(cv.best_iteration))
    losses = result["valid binary_logloss-mean"]
    fits = [{"rows": len(f.train), "rounds": len(losses)} for f in folds.folds]
    learned = [np.asarray(b.train_set.used_indices) for b in cv.boosters]
    for booster in cv.boosters:
        booster.free_dataset()  # the trees are all that is kept
    scored = [f.test for f in folds.folds]
    loss = float(losses[rounds - 1])
    anchors = [
        training_level(rows.y, None if weights is None else weights[f.train], f.train)
        for f in folds.folds
    ]
    return CvRun(half_life, rounds, loss, list(cv.boosters), fits, learned, scored, anchors)


def training_level(y: np.ndarray, weights: np.ndarray | None, rows: np.ndarray) -> float:
    """The log-odds of the (weighted) conversion rate of the leads a model learned from: where
    LightGBM's scores start (it boosts from the average). ``weights``: per row of ``rows``."""
    w = np.ones(len(rows)) if weights is None else weights
    rate = float(np.clip(np.dot(w, y[rows]) / max(w.sum(), 1e-12), 1e-6, 1 - 1e-6))
    return float(np.log(rate / (1 - rate)))


def lead_dataset(rows: Rows, encoder: FeatureEncoder) -> lgb.Dataset:
    """The leads as LightGBM's Dataset, native categories named as the encoder names them."""
    return lgb.Dataset(
        rows.x,
        rows.y,
        feature_name=encoder.names,
        categorical_feature=encoder.categorical_indices,
        free_raw_data=False,
    )


def choose_recency(
    data: Prepared, params: dict[str, Any], candidates: list[float | None], say: Progress
) -> tuple[CvRun, list[CvRun]]:
    """Try every weighting (none first, then ever shorter half-lives) and keep the one with the
    lowest mean fold log loss (``lightgbm.cv``'s own figure, unweighted). All are tried: under
    drift the loss can stall at a long half-life and still fall at a short one (bank marketing
    does).

    Measured on the four tables of ``bench/quality.py``, choosing instead by the log loss of
    the calibrated probabilities (booster and calibrator together) picked no weighting on bank
    marketing and did worse on its newest leads (ROC AUC 0.706 vs 0.711, ECE 0.146 vs 0.050)."""
    runs: list[CvRun] = []
    rows, folds, ages = data.rows, data.folds, data.ages
    binned = lead_dataset(rows, data.encoder)  # binned once for every weighting
    for half_life in candidates:
        say(f"Backtesting over {len(folds)} folds, recency {describe(half_life, ages)}")
        weights = recency_weights(ages, half_life) if ages is not None else None
        runs.append(
            cross_validate(
                rows, folds, data.encoder, params, weights=weights, half_life=half_life, data=binned
            )
        )
    chosen = min(runs, key=lambda r: r.log_loss)
    return chosen.score_held_out(rows.x), runs


def shipped_rounds(rounds: int, folds: Folds, rows: int) -> int:
    """The backtest's round count grown for the shipped model's rows: by the square root of
    (all leads ÷ the folds' mean training leads). Linear growth over-fits on the lead tables
    measured here; none under-fits the larger table."""
    mean_train = float(np.mean([len(f.train) for f in folds.folds]))
    return int(min(2 * MAX_ROUNDS, max(1, round(rounds * np.sqrt(rows / mean_train)))))
