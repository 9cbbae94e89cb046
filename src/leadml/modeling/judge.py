"""The backtest judged: per-fold and pooled figures with bootstrap intervals, the baselines on
the same folds, and the honest calibrated probabilities the shipped calibrator learns from.

:mod:`leadml.modeling.backtest` runs the folds and chooses the weighting and the rounds; this
module turns the chosen run into what the report, MLflow and ``metrics.json`` show
(:class:`Backtest`), one :class:`FoldReport` per fold. Probabilities judged in a fold are
calibrated honestly: with a time order, by a calibrator fitted on the earlier folds' scores
(the oldest fold, having none, is cross-fitted within itself); otherwise on the other folds'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.bundle.calibration import Calibrator, fit_calibrator
from leadml.config import Settings
from leadml.data.split import Folds
from leadml.modeling.backtest import CvRun, training_level
from leadml.modeling.baselines import baseline_predictions
from leadml.modeling.held_out import calibration_methods, choose_fresh_level, choose_level
from leadml.modeling.metrics import bootstrap_intervals, classification_metrics
from leadml.modeling.prepare import Prepared
from leadml.modeling.recency import Ages, describe, recency_weights
from leadml.schema.spec import LeadSchema


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
    data: Prepared,
    chosen: CvRun,
    tried: list[CvRun],
    params: dict[str, Any],
    settings: Settings,
) -> Backtest:
    """Per-fold and pooled figures, with intervals (``settings.bootstrap`` resamples), and the
    baselines on the same folds; ``params``: the LightGBM settings of the chosen run."""
    rows, folds, ages, schema = data.rows, data.folds, data.ages, data.schema
    seed, resamples = settings.seed, settings.bootstrap
    weights = recency_weights(ages, chosen.half_life) if ages is not None else None
    anchored, honest, level_losses = choose_level(chosen, rows.y, weights, folds, seed)
    fresh, honest, fresh_losses = choose_fresh_level(
        honest, rows.y, weights, folds, chosen.half_life
    )
    result = Backtest(
        folds=folds,
        chosen=chosen,
        tried=tried,
        ages=ages,
        weights=weights,
        honest=honest,
        y=rows.y,
        anchored=anchored,
        level_losses=level_losses,
        params=params,
        fresh_shift=fresh,
        fresh_losses=fresh_losses,
    )
    for k, fold in enumerate(folds.folds):
        y = rows.y[fold.test]
        p = honest[fold.test]
        bases = baseline_predictions(
            rows.take(fold.train), rows.take(fold.test), data.encoder.names, schema, seed=seed
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
