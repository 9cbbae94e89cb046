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
the same folds, and how the score held up over time. Probabilities judged in a fold are
calibrated honestly too: with a time order, by a calibrator fitted on the earlier folds' scores
(the oldest fold, having none, is cross-fitted within itself); otherwise on the other folds'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.bundle.calibration import Calibrator, fit_calibrator
from leadml.data.split import Folds
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.baselines import baseline_predictions
from leadml.modeling.booster import EARLY_STOPPING_ROUNDS, MAX_ROUNDS
from leadml.modeling.held_out import calibration_methods, choose_fresh_level, choose_level
from leadml.modeling.metrics import bootstrap_intervals, classification_metrics
from leadml.modeling.prepare import Rows
from leadml.modeling.recency import Ages, describe, recency_weights
from leadml.schema.spec import LeadSchema

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
    rows: Rows,
    folds: Folds,
    encoder: FeatureEncoder,
    params: dict[str, Any],
    candidates: list[float | None],
    ages: Ages | None,
    say: Progress,
) -> tuple[CvRun, list[CvRun]]:
    """Try every weighting (none first, then ever shorter half-lives) and keep the one with the
    lowest mean fold log loss (``lightgbm.cv``'s own figure, unweighted). All are tried: under
    drift the loss can stall at a long half-life and still fall at a short one (bank marketing
    does).

    Measured on the four tables of ``bench/quality.py``, choosing instead by the log loss of
    the calibrated probabilities (booster and calibrator together) picked no weighting on bank
    marketing and did worse on its newest leads (ROC AUC 0.706 vs 0.711, ECE 0.146 vs 0.050)."""
    runs: list[CvRun] = []
    data = lead_dataset(rows, encoder)  # binned once for every weighting
    for half_life in candidates:
        say(f"Backtesting over {len(folds)} folds, recency {describe(half_life, ages)}")
        weights = recency_weights(ages, half_life) if ages is not None else None
        runs.append(cross_validate(rows, folds, encoder, params, weights, half_life, data=data))
    chosen = min(runs, key=lambda r: r.log_loss)
    return chosen.score_held_out(rows.x), runs


def shipped_rounds(rounds: int, folds: Folds, rows: int) -> int:
    """The backtest's round count grown for the shipped model's rows: by the square root of
    (all leads ÷ the folds' mean training leads). Linear growth over-fits on the lead tables
    measured here; none under-fits the larger table."""
    mean_train = float(np.mean([len(f.train) for f in folds.folds]))
    return int(min(2 * MAX_ROUNDS, max(1, round(rounds * np.sqrt(rows / mean_train)))))


@dataclass
class FoldReport:
    """One fold's figures: the model's (with intervals) and the baselines'."""

    number: int
    period: str
    train_rows: int
    test_rows: int
    conversion: float
    metrics: dict[str, float]
    intervals: dict[str, list[float]]
    baselines: dict[str, dict[str, float]]
    #: Older leads left out of its training because their outcome was not known yet at the
    #: fold's cutoff (still open then, or too young for the horizon).
    not_yet_known: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "fold": self.number,
            "period": self.period,
            "train_rows": self.train_rows,
            "not_yet_known": self.not_yet_known,
            "test_rows": self.test_rows,
            "conversion": self.conversion,
            **self.metrics,
            "intervals": self.intervals,
            "baselines": self.baselines,
        }


@dataclass
class Backtest:
    """What the backtest found, for the shipped model, the report, MLflow and metrics.json."""

    folds: Folds
    chosen: CvRun
    tried: list[CvRun]
    ages: Ages | None
    weights: np.ndarray | None
    #: Honest calibrated probabilities of the leads judged in a fold (NaN elsewhere).
    honest: np.ndarray
    #: Every lead's 0/1 label (the shipped model learns from all of them).
    y: np.ndarray
    #: Held-out scores are moved to the shipped model's level before calibrating
    #: (``choose_level``), and the two ways' backtest log losses.
    anchored: bool = True
    level_losses: dict[str, float] = field(default_factory=dict)
    #: The newest conversion level from the young leads already settled (log-odds added to
    #: every probability; 0: not used), and the backtest's log loss with and without it.
    fresh_shift: float = 0.0
    fresh_losses: dict[str, float] = field(default_factory=dict)
    reports: list[FoldReport] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    #: Baseline probabilities on the headline fold (for the report's plots).
    headline_baselines: dict[str, np.ndarray] = field(default_factory=dict)
    #: The LightGBM settings of the chosen run (tuned or leadml's own), and the tuning record.
    params: dict[str, Any] = field(default_factory=dict)
    tuning: dict[str, Any] | None = None

    @property
    def judged(self) -> np.ndarray:
        """Positions of the leads some fold judged, in fold order."""
        return np.concatenate([f.test for f in self.folds.folds])

    @property
    def shipped_level(self) -> float:
        """The shipped model's training level (every lead, with its weights)."""
        return training_level(self.y, self.weights, np.arange(len(self.y)))

    def shipped_scale(self, positions: np.ndarray) -> np.ndarray:
        """Held-out raw scores as the shipped calibrator takes them: anchored, each fold
        model's scores moved from its own training level to the shipped model's."""
        if not self.anchored:
            return self.chosen.raw[positions]
        return self.chosen.at_level(positions, self.shipped_level)

    def calibrator(self, y: np.ndarray, seed: int) -> tuple[Calibrator, dict]:
        """The shipped calibrator: fitted on every held-out raw score, recency-weighted, each
        moved to the shipped model's training level first when the backtest says so
        (``choose_level``)."""
        at = self.judged
        w = None if self.weights is None else self.weights[at]
        scores = self.shipped_scale(at)
        fitted, losses = fit_calibrator(scores, y[at], seed, w, calibration_methods(self.folds))
        return fitted.shifted(self.fresh_shift), losses

    def level_note(self) -> str:
        """How the calibrator treats the fold models' conversion level, in one sentence."""
        if not self.level_losses:
            return "Calibration anchored to each model's own conversion level."
        how = (
            "anchored to each model's own conversion level"
            if self.anchored
            else ("following the conversion trend the folds show")
        )
        losses = ", ".join(f"{k} {v:.4f}" for k, v in self.level_losses.items())
        return f"Calibration {how}, the lower backtest log loss ({losses})."

    def fresh_note(self) -> str:
        """Whether the young settled leads moved the probabilities, in one sentence."""
        if not self.fresh_losses:
            return ""
        losses = ", ".join(f"{k} {v:.4f}" for k, v in self.fresh_losses.items())
        if not self.fresh_shift:
            return f"Newest conversion level not used: it did not help the backtest ({losses})."
        return (
            f"Newest conversion level: {self.fresh_shift:+.2f} log-odds, from the young leads "
            f"already converted or closed; it helped the backtest ({losses})."
        )

    def recency_note(self) -> str:
        """What ``--recency`` chose and why, in one sentence."""
        chosen = describe(self.chosen.half_life, self.ages)
        if len(self.tried) == 1:
            return f"Recency: {chosen}."
        others = ", ".join(
            f"{describe(r.half_life, self.ages)} {r.log_loss:.4f}"
            for r in self.tried
            if r.half_life != self.chosen.half_life
        )
        return (
            f"Recency: {chosen}, the lowest backtest log loss ({self.chosen.log_loss:.4f}; "
            f"also tried: {others})."
        )

    def to_dict(self) -> dict[str, Any]:
        unit = self.ages.unit if self.ages else None
        return {
            "method": self.folds.method,
            "folds": [r.to_dict() for r in self.reports],
            "folds_left_out": self.folds.dropped,
            "pooled": self.pooled,
            "rounds": self.chosen.rounds,
            "log_loss": self.chosen.log_loss,
            "recency": {
                "half_life": self.chosen.half_life,
                "unit": unit,
                "tried": [
                    {"half_life": r.half_life, "log_loss": r.log_loss, "rounds": r.rounds}
                    for r in self.tried
                ],
                "note": self.recency_note(),
            },
            "fits": [fit for run in self.tried for fit in run.fits],
            "tuning": self.tuning,
            "calibration_level": {
                "anchored": self.anchored,
                "log_loss": self.level_losses,
                "note": self.level_note(),
            },
            "newest_level": {
                "shift": self.fresh_shift,
                "log_loss": self.fresh_losses,
                "note": self.fresh_note(),
            },
        }


def _period(frame: pd.DataFrame, schema: LeadSchema, positions: np.ndarray) -> str:
    if schema.time and schema.time in frame.columns:
        stamps = frame[schema.time].iloc[positions].dropna()
        if len(stamps):
            return f"{stamps.min():%Y-%m-%d} – {stamps.max():%Y-%m-%d}"
    if schema.rows_in_time_order:
        return f"rows {positions.min() + 1:,}–{positions.max() + 1:,}"
    return "stratified fold"


def judge_folds(
    rows: Rows,
    folds: Folds,
    chosen: CvRun,
    tried: list[CvRun],
    ages: Ages | None,
    encoder: FeatureEncoder,
    schema: LeadSchema,
    seed: int,
    resamples: int = 100,
    params: dict[str, Any] | None = None,
) -> Backtest:
    """Per-fold and pooled figures, with intervals, and the baselines on the same folds."""
    weights = recency_weights(ages, chosen.half_life) if ages is not None else None
    anchored, honest, level_losses = choose_level(chosen, rows.y, weights, folds, seed)
    fresh, honest, fresh_losses = choose_fresh_level(
        honest, rows.y, weights, folds, chosen.half_life
    )
    result = Backtest(
        folds, chosen, tried, ages, weights, honest, rows.y, anchored, level_losses,
        params=params or {}, fresh_shift=fresh, fresh_losses=fresh_losses,
    )  # fmt: skip
    for k, fold in enumerate(folds.folds):
        y = rows.y[fold.test]
        p = honest[fold.test]
        bases = baseline_predictions(
            rows.take(fold.train), rows.take(fold.test), encoder.names, schema, seed=seed
        )
        result.reports.append(
            FoldReport(
                number=k + 1,
                period=_period(rows.frame, schema, fold.test),
                train_rows=len(fold.train),
                test_rows=len(fold.test),
                conversion=float(y.mean()),
                metrics=classification_metrics(y, p),
                intervals=bootstrap_intervals(y, p, resamples, seed),
                baselines={n: classification_metrics(y, b) for n, b in bases.items()},
                not_yet_known=fold.not_yet_known,
            )
        )
        if fold is folds.headline:
            result.headline_baselines = bases
    at = result.judged
    result.pooled = {
        **classification_metrics(rows.y[at], honest[at]),
        "rows": len(at),
        "intervals": bootstrap_intervals(rows.y[at], honest[at], resamples, seed),
    }
    return result
