"""Specialist models for one segment, tried on the backtest's own folds, shipped where they win.

Research on global versus local models (forecasting's "global models", boosting with grouped
random effects) finds that one model with the segment as a feature usually matches or beats a
model per segment, and that a segment's own model wins only where the segment is large and
different. So nothing is assumed: for a segment with enough leads of both classes, two
specialists go through the same folds as the global model, each fold learning only from the
segment's leads older than its own:

* ``own``: fitted on the segment's leads alone;
* ``continued``: boosted on from the global fold model's scores (LightGBM's ``init_score``),
  so its trees only correct what the global model gets wrong for the segment.

Each fold stops its boosting early on its own newest training leads, never on the leads it
is judged on: a specialist chosen by its judged leads would win by chance on a segment that
follows the global rule. Held-out scores are calibrated honestly, fold by fold, by what
earlier folds knew (:func:`leadml.modeling.held_out.honest_probabilities`). The variant with
the higher ROC AUC on the segment's judged leads is compared with the global model on them:
the paired bootstrap interval of the ROC AUC difference (97.5 %, since the better of two
variants is the one compared: Bonferroni) must exclude zero for the specialist to ship. The
variants are not chosen by their early-stopping leads: the global fold model a continued
specialist starts from learned from those leads, which flatters it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import lightgbm as lgb
import numpy as np

from leadml.bundle.calibration import Calibrator, fit_calibrator
from leadml.data.split import Folds
from leadml.modeling.backtest import shipped_rounds
from leadml.modeling.booster import EARLY_STOPPING_ROUNDS, MAX_ROUNDS
from leadml.modeling.held_out import calibration_methods, honest_probabilities
from leadml.modeling.judge import Backtest
from leadml.modeling.prepare import Prepared

VARIANTS = ("own", "continued")
#: The interval's tails, in percent: 95 % shared between the two variants (Bonferroni), since
#: the better of two is the one compared.
TAIL = 2.5 / len(VARIANTS)


@dataclass
class Trial:
    """One specialist variant through the segment's folds."""

    variant: str
    rounds: int
    #: Held-out raw scores on the shipped model's scale (global part anchored as the
    #: backtest anchors it), and honest calibrated probabilities: NaN outside the segment's
    #: judged leads.
    scale: np.ndarray
    honest: np.ndarray
    roc_auc: float
    log_loss: float
    #: Mean log loss on the folds' early-stopping leads: what chooses the variant.
    stop_loss: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "roc_auc": self.roc_auc,
            "log_loss": self.log_loss,
            "early_stopping_log_loss": self.stop_loss,
        }


@dataclass
class Comparison:
    """The specialist against the global model on the segment's judged leads."""

    best: Trial
    trials: list[Trial]
    judged: np.ndarray
    global_auc: float
    difference: float
    interval: list[float]
    log_loss_difference: float
    folds: Folds = field(repr=False)

    @property
    def wins(self) -> bool:
        """Better on the segment's backtest (ranking, and probabilities no worse), the
        interval of the ROC AUC difference above zero."""
        return self.difference > 0 and self.interval[0] > 0 and self.log_loss_difference <= 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "variants": {t.variant: t.to_dict() for t in self.trials},
            "best": self.best.variant,
            "leads": len(self.judged),
            "global_roc_auc": self.global_auc,
            "roc_auc_difference": self.difference,
            "interval": self.interval,
            "log_loss_difference": self.log_loss_difference,
            "wins": self.wins,
        }


def segment_folds(folds: Folds, rows: np.ndarray, y: np.ndarray) -> tuple[Folds, list[int]]:
    """The backtest's folds restricted to one segment's leads (``rows``: a mask), and which
    of the original folds each kept one is; a fold without both classes on either side is
    left out, as the global backtest leaves such folds out."""
    kept, index = [], []
    for k, fold in enumerate(folds.folds):
        train, test = fold.train[rows[fold.train]], fold.test[rows[fold.test]]
        if 0 < y[train].sum() < len(train) and 0 < y[test].sum() < len(test):
            kept.append(replace(fold, train=train, test=test))
            index.append(k)
    return replace(folds, folds=tuple(kept), dropped=len(folds.folds) - len(kept)), index


class _HeldOut:
    """Held-out raw scores in the shape ``honest_probabilities`` reads (no level anchoring)."""

    def __init__(self, raw: np.ndarray, folds: int) -> None:
        self.raw, self.anchors = raw, [0.0] * folds

    def at_level(self, positions: np.ndarray, anchor: float) -> np.ndarray:
        return self.raw[positions]


def _dataset(data: Prepared, at: np.ndarray, init: np.ndarray | None, w: np.ndarray | None):
    weight = None if w is None else w[at] / w[at].mean()
    return lgb.Dataset(
        data.rows.x[at],
        data.rows.y[at],
        weight=weight,
        init_score=init,
        feature_name=data.encoder.names,
        categorical_feature=data.encoder.categorical_indices,
        free_raw_data=True,
    )


#: Share of a fold's training leads (its newest) that stop a specialist's boosting early.
INNER_SHARE = 0.2


def inner_split(data: Prepared, train: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A fold's training leads split for early stopping: the newest ``INNER_SHARE`` (at
    random without a time order) stop the boosting, the rest learn. The fold's own held-out
    leads are never looked at, so the specialist's held-out scores stay honest."""
    n_stop = max(1, round(len(train) * INNER_SHARE))
    if data.ages is not None:
        order = train[np.argsort(data.ages.values[train], kind="stable")]  # newest first
    else:
        order = np.random.default_rng(seed).permutation(train)
    return np.sort(order[n_stop:]), np.sort(order[:n_stop])


def try_variant(
    data: Prepared, backtest: Backtest, folds: Folds, index: list[int], variant: str, seed: int
) -> Trial:
    """One variant through the segment's folds: each fold boosted with early stopping on its
    newest training leads (``inner_split``), then scored on its held-out leads and calibrated
    by what the earlier folds knew."""
    x, y, w = data.rows.x, data.rows.y, backtest.weights
    chosen = backtest.chosen
    raw = np.full(len(y), np.nan)
    scale = np.full(len(y), np.nan)
    rounds, stop_losses = [], []
    for fold, k in zip(folds.folds, index, strict=True):
        learn, stop = inner_split(data, fold.train, seed)
        if not (0 < y[stop].sum() < len(stop) and 0 < y[learn].sum() < len(learn)):
            learn = stop = fold.train  # too few leads to hold some back: the learning ones
        init = {}
        if variant == "continued":
            for name, at in (("learn", learn), ("stop", stop)):
                init[name] = chosen.boosters[k].predict(
                    x[at], raw_score=True, num_iteration=chosen.rounds
                )
        train = _dataset(data, learn, init.get("learn"), w)
        valid = lgb.Dataset(x[stop], y[stop], init_score=init.get("stop"), reference=train)
        record: dict[str, Any] = {}
        booster = lgb.train(
            backtest.params,
            train,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[valid],
            valid_names=["stop"],
            callbacks=[
                lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False),
                lgb.record_evaluation(record),
            ],
        )
        best = max(1, int(booster.best_iteration or booster.current_iteration()))
        rounds.append(best)
        stop_losses.append(float(record["stop"]["binary_logloss"][best - 1]))
        own = booster.predict(x[fold.test], raw_score=True, num_iteration=best)
        if variant == "continued":
            raw[fold.test] = chosen.raw[fold.test] + own
            scale[fold.test] = backtest.shipped_scale(fold.test) + own
        else:
            raw[fold.test] = scale[fold.test] = own
    honest = honest_probabilities(_HeldOut(raw, len(folds)), y, w, folds, seed)
    judged = np.concatenate([f.test for f in folds.folds])
    auc, loss = _auc_and_loss(y[judged], honest[judged])
    return Trial(
        variant,
        round(float(np.mean(rounds))),
        scale,
        honest,
        auc,
        loss,
        float(np.mean(stop_losses)),
    )


def _auc_and_loss(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import log_loss, roc_auc_score

    return float(roc_auc_score(y, p)), float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)))


def compare(
    data: Prepared, backtest: Backtest, rows: np.ndarray, seed: int, resamples: int
) -> Comparison | None:
    """Both variants on the segment's folds and the better one against the global model
    (None: the segment's folds leave nothing to judge on)."""
    folds, index = segment_folds(backtest.folds, rows, data.rows.y)
    if not folds.folds:
        return None
    trials = [try_variant(data, backtest, folds, index, v, seed) for v in VARIANTS]
    best = max(trials, key=lambda t: (t.roc_auc, -t.log_loss))
    judged = np.concatenate([f.test for f in folds.folds])
    y = data.rows.y[judged]
    mine, theirs = best.honest[judged], backtest.honest[judged]
    global_auc, global_loss = _auc_and_loss(y, theirs)
    differences = paired_auc_differences(y, mine, theirs, resamples, seed)
    return Comparison(
        best=best,
        trials=trials,
        judged=judged,
        global_auc=global_auc,
        difference=best.roc_auc - global_auc,
        interval=[float(v) for v in np.nanpercentile(differences, [TAIL, 100 - TAIL])],
        log_loss_difference=best.log_loss - global_loss,
        folds=folds,
    )


def paired_auc_differences(
    y: np.ndarray, mine: np.ndarray, theirs: np.ndarray, resamples: int, seed: int
) -> np.ndarray:
    """ROC AUC (mine − theirs) on bootstrap resamples of the same leads (paired)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    out = np.full(resamples, np.nan)
    for b in range(resamples):
        at = rng.integers(0, len(y), len(y))
        if 0 < y[at].sum() < len(at):
            out[b] = roc_auc_score(y[at], mine[at]) - roc_auc_score(y[at], theirs[at])
    return out


def ship(
    data: Prepared,
    backtest: Backtest,
    found: Comparison,
    rows: np.ndarray,
    global_booster: lgb.Booster,
    seed: int,
) -> tuple[lgb.Booster, Calibrator]:
    """The winning variant fitted on every lead of the segment (rounds grown with its rows as
    the global model's are), and its calibrator fitted on its honest held-out scores."""
    at = np.flatnonzero(rows)
    x, w = data.rows.x, backtest.weights
    continued = found.best.variant == "continued"
    init = global_booster.predict(x[at], raw_score=True) if continued else None
    rounds = shipped_rounds(found.best.rounds, found.folds, len(at))
    params = dict(backtest.params)
    booster = lgb.train(params, _dataset(data, at, init, w), num_boost_round=rounds)
    judged = found.judged
    weight = None if w is None else w[judged]
    methods = calibration_methods(found.folds)
    calibrator, _ = fit_calibrator(
        found.best.scale[judged], data.rows.y[judged], seed, weight, methods
    )
    return booster, calibrator
