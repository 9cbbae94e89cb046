"""Per group: how many leads the SQL cut-off selects, and how well it does by them.

The point figures come from fairlearn's ``MetricFrame`` (one library for the group arithmetic
that auditors know); the 95 % intervals from a bootstrap within each group, done as a matrix
of resample counts so 200 resamples cost a few matrix products rather than 200 MetricFrames.

Selection rate and mean probability need no outcome, so they are given for every lead; the
true- and false-positive rates, observed conversion and ROC AUC only over leads whose outcome
is settled (``y`` NaN: not known yet). The selection-rate ratio compares each group with the
group selected most often; below ``RATIO_FLOOR`` (the "four-fifths rule" of US employment
guidance, used by Salesforce's Einstein Discovery too) the group is flagged. Groups with fewer
than ``MIN_LEADS`` leads get figures but no ratio: one lead more or less would swing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.metrics import roc_auc_score

from leadml.fairness.groups import MIN_LEADS

#: A group selected at less than this share of the most-selected group's rate is flagged.
RATIO_FLOOR = 0.8
#: Bootstrap resamples when the caller gives none.
RESAMPLES = 200
#: Resample counts held at once (resamples × leads of a group), to bound memory.
_CELLS = 4_000_000
#: Figures that need settled outcomes.
OUTCOME_FIGURES = ("observed_conversion", "tpr", "fpr", "roc_auc")
FIGURES = ("selection_rate", "mean_probability", *OUTCOME_FIGURES)

Metric = Callable[[np.ndarray, np.ndarray], Any]


def _figures(names: tuple[str, ...]) -> Metric:
    """One metric giving every figure of ``names`` at once, as a tuple: ``MetricFrame`` hands
    each metric its group's rows one element at a time (``np.stack``), so one metric instead
    of five makes the frame five times faster on a large table. ``selected`` (a sample
    parameter, split by group with the rest): whether each lead is at or above its SQL
    cut-off, which differs by segment when segments have their own grade bands."""

    def tpr(yt: np.ndarray, yp: np.ndarray, sel: np.ndarray) -> float:
        # fairlearn answers 0 for a group without a converting lead: that rate is undefined
        return float(true_positive_rate(yt, sel, pos_label=1)) if yt.any() else np.nan

    def fpr(yt: np.ndarray, yp: np.ndarray, sel: np.ndarray) -> float:
        return float(false_positive_rate(yt, sel, pos_label=1)) if (yt == 0).any() else np.nan

    def auc(yt: np.ndarray, yp: np.ndarray, sel: np.ndarray) -> float:
        return float(roc_auc_score(yt, yp)) if 0 < yt.sum() < len(yt) else np.nan

    each: dict[str, Metric] = {
        "leads": lambda yt, yp, sel: count(yt, yp),
        "settled": lambda yt, yp, sel: count(yt, yp),
        "selection_rate": lambda yt, yp, sel: float(selection_rate(yt, sel)),
        "mean_probability": lambda yt, yp, sel: float(np.mean(yp)),
        "observed_conversion": lambda yt, yp, sel: float(np.mean(yt)),
        "tpr": tpr,
        "fpr": fpr,
        "roc_auc": auc,
    }
    return lambda yt, yp, selected: tuple(each[name](yt, yp, selected) for name in names)


def _by_group(
    names: tuple[str, ...], cutoff: np.ndarray, y: np.ndarray, p: np.ndarray, groups: np.ndarray
) -> pd.DataFrame:
    frame = MetricFrame(
        metrics={"figures": _figures(names)},
        y_true=y,
        y_pred=p,
        sensitive_features=pd.Series(groups, name="group"),
        sample_params={"figures": {"selected": (p >= cutoff).astype(np.int64)}},
    ).by_group["figures"]
    return pd.DataFrame(frame.tolist(), index=frame.index.astype(object), columns=list(names))


def point_figures(
    labels: pd.Series, p: np.ndarray, y: np.ndarray | None, cutoff: float | np.ndarray
) -> pd.DataFrame:
    """One row per group (index: the group): leads, selection rate, mean probability and,
    with outcomes, settled leads, observed conversion, TPR, FPR and ROC AUC (NaN: undefined).
    ``cutoff``: one SQL cut-off, or each lead's."""
    groups = labels.to_numpy(dtype=object)
    cutoff = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), np.shape(p))
    every = ("leads", "selection_rate", "mean_probability")
    frame = _by_group(every, cutoff, np.zeros(len(p), dtype=np.int64), p, groups)
    if y is None:
        return frame
    known = ~np.isnan(y)
    if not known.any():
        return frame.assign(settled=0)
    settled = ("settled", *OUTCOME_FIGURES)
    outcome = _by_group(settled, cutoff[known], y[known].astype(np.int64), p[known], groups[known])
    joined = frame.join(outcome, how="left")
    return joined.assign(settled=joined["settled"].fillna(0).astype(np.int64))


# -- bootstrap -----------------------------------------------------------------------------------
def _weighted_auc(p: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC per row of ``weights`` (resample counts), ties counted half, as
    ``roc_auc_score`` does: each positive × the negatives scored below it. ``p`` must be
    sorted ascending (``bootstrap_group`` sorts once, so no resample is reordered)."""
    negative = weights * (1 - y)
    positive = y == 1
    starts = np.flatnonzero(np.r_[True, np.diff(p) != 0])
    if len(starts) == len(p):  # no ties: the negatives strictly below each lead
        below = np.cumsum(negative, axis=1) - negative
        num = (weights[:, positive] * below[:, positive]).sum(axis=1)
    else:
        pos = np.add.reduceat(weights * y, starts, axis=1)
        neg = np.add.reduceat(negative, starts, axis=1)
        num = (pos * (np.cumsum(neg, axis=1) - 0.5 * neg)).sum(axis=1)
    pairs = weights[:, positive].sum(axis=1) * negative.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, num / pairs, np.nan)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def _resample_counts(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` bootstrap resamples of ``n`` leads as counts: row r, column i = how often lead
    i was drawn in resample r."""
    drawn = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
    return np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)


def bootstrap_group(
    p: np.ndarray,
    y: np.ndarray | None,
    cutoff: float | np.ndarray,
    rng: np.random.Generator,
    resamples: int,
) -> dict[str, np.ndarray]:
    """Each figure over ``resamples`` resamples of one group's leads (NaN where undefined);
    ``cutoff``: one SQL cut-off, or each lead's."""
    order = np.argsort(p, kind="stable")  # draws are exchangeable: sorted once, for the AUC
    cutoff = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), np.shape(p))[order]
    p = p[order]
    y = None if y is None else y[order]
    n = len(p)
    selected = (p >= cutoff).astype(np.float64)
    known = None if y is None else ~np.isnan(y)
    yk = None if known is None else np.nan_to_num(y).astype(np.float64)
    out: dict[str, list[np.ndarray]] = {k: [] for k in FIGURES}
    step = max(1, _CELLS // max(n, 1))
    for start in range(0, resamples, step):
        w = _resample_counts(n, min(step, resamples - start), rng)
        out["selection_rate"].append(w @ selected / n)
        out["mean_probability"].append(w @ p / n)
        if known is None or yk is None:
            continue
        wk = w * known
        pos, neg = wk @ yk, wk @ (1 - yk) * 1.0
        out["observed_conversion"].append(_ratio(pos, pos + neg))
        out["tpr"].append(_ratio(wk @ (yk * selected), pos))
        out["fpr"].append(_ratio(wk @ ((1 - yk) * selected), neg))
        out["roc_auc"].append(_weighted_auc(p[known], yk[known], w[:, known]))
    return {k: np.concatenate(v) for k, v in out.items() if v}


def interval(draws: np.ndarray) -> list[float] | None:
    """The 95 % percentile interval of the defined draws (None: none defined)."""
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return None
    low, high = np.percentile(finite, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _value(x: float) -> float | None:
    """A figure for JSON: rounded, None where undefined (NaN)."""
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def group_rows(
    labels: pd.Series,
    order: list[str],
    p: np.ndarray,
    y: np.ndarray | None,
    cutoff: float | np.ndarray,
    *,
    seed: int,
    resamples: int = RESAMPLES,
) -> list[dict]:
    """The audit table of one column: a row per group in ``order`` with every figure, its
    interval (``<figure>_ci``), the selection-rate ratio to the top group and the flag
    (``cutoff``: one SQL cut-off, or each lead's)."""
    p = np.asarray(p, dtype=np.float64)
    cutoff = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), p.shape)
    y = None if y is None else np.asarray(y, dtype=np.float64)
    points = point_figures(labels, p, y, cutoff)
    rng = np.random.default_rng(seed)
    groups = labels.to_numpy(dtype=object)
    rows, draws = [], {}
    for group in order:
        inside = groups == group
        if not inside.any():
            continue
        sampled = bootstrap_group(
            p[inside], None if y is None else y[inside], cutoff[inside], rng, resamples
        )
        draws[group] = sampled["selection_rate"]
        figures = points.loc[group]
        row: dict = {"group": group, "leads": int(figures["leads"])}
        row["selected"] = round(float(figures["selection_rate"]) * row["leads"])
        if y is not None:
            row["settled"] = int(figures.get("settled", 0))
        for name in FIGURES:
            if name in figures.index:
                row[name] = _value(float(figures[name]))
                row[f"{name}_ci"] = interval(sampled[name]) if name in sampled else None
        rows.append(row)
    _ratios(rows, draws)
    return rows


def _ratios(rows: list[dict], draws: dict[str, np.ndarray]) -> None:
    """Each compared group's selection rate ÷ the top group's, its interval (the ratio in each
    resample, against that resample's top group) and the flag; in place."""
    compared = [r for r in rows if r["leads"] >= MIN_LEADS]
    top = max((r["selection_rate"] or 0.0 for r in compared), default=0.0)
    stacked = np.vstack([draws[r["group"]] for r in compared]) if compared else None
    best = None if stacked is None else stacked.max(axis=0)
    for row in rows:
        row["ratio"], row["ratio_ci"], row["flagged"] = None, None, False
        if row not in compared or top <= 0 or best is None:
            continue
        row["ratio"] = round((row["selection_rate"] or 0.0) / top, 4)
        row["ratio_ci"] = interval(_ratio(draws[row["group"]], best))
        row["flagged"] = row["ratio"] < RATIO_FLOOR
