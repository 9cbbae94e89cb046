"""The newest conversion level, from the young leads whose outcome is settled already.

The model learns only from leads old enough for every outcome to be known, so under a rising
(or falling) trend its level lags by about a horizon. The young leads that already converted or
closed say where the level is now, with a correction: they are the fast ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadml.data.maturity import Labels
from leadml.data.timeline import CREATED_AFTER, DAY_NS, Timeline

#: Censoring weights stop at 1 / this: a label seen by few leads' ages is not worth more.
MIN_SEEN_SHARE = 0.05


def maturity_of(timeline: Timeline, labels: Labels, days: int | None) -> Maturity | None:
    """What the newest conversion level needs, for a table labelled with a horizon."""
    if days is None or labels.settled_days is None or labels.fresh is None:
        return None
    dated = np.isfinite(timeline.created) & (timeline.code != CREATED_AFTER)
    fresh = labels.fresh
    return Maturity(
        created_all=np.sort(timeline.created[dated]),
        horizon_days=float(days),
        as_of=timeline.as_of,
        created=timeline.created[labels.learn],
        settled_days=labels.settled_days[labels.learn],
        fresh_created=timeline.created[fresh],
        fresh_settled_days=labels.settled_days[fresh],
        fresh_y=labels.y[fresh],
    )


@dataclass(frozen=True)
class SeenShare:
    """G(τ) at one cutoff: the (recency-weighted) share of the leads that came in before it
    that are at least τ days old, as a step function (ages below the horizon kept)."""

    ages: np.ndarray  # ascending days, below the horizon
    share: np.ndarray  # share[i]: weight of leads aged ages[i] or more, over all the weight
    beyond: float  # share of leads at least the horizon old

    def weights(self, settled_days: np.ndarray) -> np.ndarray:
        """1 / G(τ) per lead (at most 1 / ``MIN_SEEN_SHARE``)."""
        tau = np.asarray(settled_days, dtype=np.float64)
        seen = np.full(len(tau), self.beyond)
        if len(self.ages):
            at = np.searchsorted(self.ages, np.nan_to_num(tau, nan=0.0), side="left")
            inside = at < len(self.ages)
            seen[inside] = self.share[at[inside]]
        return 1.0 / np.maximum(seen, MIN_SEEN_SHARE)


@dataclass(frozen=True)
class Maturity:
    """When each lead came in and when its label was settled: the newest conversion level.

    The model learns only from leads old enough for every outcome to be known, so under a
    rising (or falling) trend its level lags by about a horizon. The young leads that have
    already converted or closed say where the level is now, but only with a correction: they
    are the fast ones. Each settled lead counts 1 / G(τ), τ the days its label took to settle
    and G(τ) the (recency-weighted) share of leads old enough for such a label to be seen: the
    inverse probability of censoring weights of survival analysis. ``level_shift`` is how far
    (log-odds) that estimate lies from the mature leads' own rate; the backtest keeps it only
    when it makes the folds' probabilities better (:func:`leadml.modeling.held_out.
    choose_fresh_level`). The young leads never teach the model who converts: learnt with
    their missing negatives, a landing page new this month would read as a sure win."""

    created_all: np.ndarray  # float ns, ascending, every lead with a creation date
    horizon_days: float
    as_of: float  # the export date (float ns)
    created: np.ndarray  # per lead learned from (float ns)
    settled_days: np.ndarray  # τ per lead learned from
    fresh_created: np.ndarray  # the young leads settled at the export date
    fresh_settled_days: np.ndarray
    fresh_y: np.ndarray

    def seen_share(self, cutoff: float, half_life: float | None) -> SeenShare:
        """G at ``cutoff`` (float ns), the leads weighted by recency with ``half_life`` days
        (None: all alike), as the model that learns then weighs them."""
        before = self.created_all[self.created_all < cutoff]
        ages = ((cutoff - before) / DAY_NS)[::-1]  # ascending
        w = np.ones(len(ages)) if half_life is None else np.power(0.5, ages / half_life)
        total = w.sum()
        if total <= 0:
            return SeenShare(np.zeros(0), np.zeros(0), 1.0)
        tail = np.cumsum(w[::-1])[::-1] / total
        young = ages < self.horizon_days
        return SeenShare(ages[young], tail[young], float(w[~young].sum() / total))

    def level_shift(self, y: np.ndarray, cutoff: float, half_life: float | None) -> float:
        """Log-odds from the mature leads' (recency-weighted) rate to the rate of every lead
        settled by ``cutoff``, young ones weighted for those not seen yet. ``y``: the labels
        of the leads learned from (the young settled ones bring their own)."""
        created = np.concatenate([self.created, self.fresh_created])
        tau = np.concatenate([self.settled_days, self.fresh_settled_days])
        label = np.concatenate([np.asarray(y, dtype=np.float64), self.fresh_y])
        age = (cutoff - created) / DAY_NS
        before = created < cutoff
        w = (
            np.ones(len(age))
            if half_life is None
            else np.power(0.5, np.clip(age, 0, None) / half_life)
        )
        mature = before & (age >= self.horizon_days)
        settled = before & (age >= tau)
        if not mature.any() or not (settled & ~mature).any():
            return 0.0
        g = self.seen_share(cutoff, half_life).weights(tau[settled])
        old = np.average(label[mature], weights=w[mature])
        now = np.average(label[settled], weights=(w[settled] * g))
        return _logit(now) - _logit(old)


def _logit(rate: float) -> float:
    rate = float(np.clip(rate, 1e-4, 1 - 1e-4))
    return float(np.log(rate / (1 - rate)))
