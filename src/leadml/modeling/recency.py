"""Recency: under drift, recent leads say more about tomorrow's than old ones.

A lead's weight halves every ``half_life``: ``weight = 0.5 ** (age / half_life)``, its age
measured back from the newest lead, in days with a time column, in leads with rows in time
order. Exponential decay has no memory, so a fold that ends earlier sees the same relative
weights as the shipped model: the backtest judges exactly the weighting that is shipped.

``--recency auto`` (the default) lets the backtest choose among no weighting and a few
half-lives (a half, a quarter, an eighth and a sixteenth of the history), by the folds' mean
log loss, and says what it chose and why; ``none`` turns it off; a number of days fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.data.values import days_option
from leadml.errors import DataError
from leadml.schema.spec import LeadSchema

#: Candidate half-lives for ``auto``, as shares of the history's span.
AUTO_SHARES = (1 / 2, 1 / 4, 1 / 8, 1 / 16)
#: Nanoseconds in a day: ages of dated leads are in days.
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Ages:
    """How old each lead is, counted back from the newest one, and in what unit."""

    values: np.ndarray
    unit: str  # "days" or "leads"

    @property
    def span(self) -> float:
        return float(np.max(self.values)) if len(self.values) else 0.0


def lead_ages(frame: pd.DataFrame, schema: LeadSchema) -> Ages | None:
    """Each lead's age, or None when the leads have no time order (recency cannot apply).
    Leads with no date count as the newest, as the split places them."""
    if schema.time and schema.time in frame.columns:
        stamps = frame[schema.time].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        missing = frame[schema.time].isna().to_numpy()
        if missing.all():
            return None
        newest = stamps[~missing].max()
        days = (newest - stamps).astype(np.float64) / DAY_NS
        return Ages(np.where(missing, 0.0, days), "days")
    if schema.rows_in_time_order:
        n = len(frame)
        return Ages((n - 1 - np.arange(n)).astype(np.float64), "leads")
    return None


def decay(ages: np.ndarray, half_life: float) -> np.ndarray:
    """A lead's weight before normalising: it halves every ``half_life``."""
    return np.power(0.5, ages / half_life)


def recency_weights(ages: Ages, half_life: float | None) -> np.ndarray | None:
    """Weights with mean 1 (so LightGBM's regularisation means what it says), or None."""
    if half_life is None:
        return None
    w = decay(ages.values, half_life)
    return w / w.mean()


def parse_recency(text: str | None) -> str | float:
    """``auto``, ``none`` or a half-life in days (a positive number), from ``--recency``
    (empty: ``auto``)."""
    return days_option(text or None, "--recency", "a half-life in days (a positive number)")


def candidate_half_lives(recency: str | float, ages: Ages | None) -> list[float | None]:
    """The weightings the backtest tries: None means every lead counts the same."""
    if recency == "none" or ages is None:
        if isinstance(recency, float):
            raise DataError(
                "--recency with a half-life needs a time order: a time column in the schema "
                "or --time-order"
            )
        return [None]
    if isinstance(recency, float):
        if ages.unit != "days":
            raise DataError(
                "--recency in days needs a time column; with --time-order use --recency auto"
            )
        return [recency]
    span = ages.span
    if span <= 0:
        return [None]
    return [None, *(span * share for share in AUTO_SHARES)]


def describe(half_life: float | None, ages: Ages | None) -> str:
    if half_life is None:
        return "none (every lead counts the same)"
    unit = ages.unit if ages else "days"
    return f"half-life {half_life:,.0f} {unit}"
