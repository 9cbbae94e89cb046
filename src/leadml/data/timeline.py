"""The leads as an export showed them on a day: who existed, who had converted or closed.

A CRM export is taken on a day (``as_of``, default the newest date in it): a lead created later
was not there yet, and a conversion or close dated later had not happened. ``Timeline`` holds
each lead's outcome code and its created, converted and closed moments as they stood then, the
input of the label (:mod:`leadml.data.maturity`), the same for one table and for each Dask
partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.data.target import CONVERTED, OPEN
from leadml.errors import DataError
from leadml.schema.spec import LeadSchema

#: A lead created after ``as_of`` did not exist yet at the export date.
CREATED_AFTER = -5
DAY_NS = 86_400 * 10**9


def parse_as_of(text: str | None) -> pd.Timestamp | None:
    """``--as-of DATE`` as a naive timestamp (the end of that day for a plain date)."""
    if text is None or not str(text).strip():
        return None
    try:
        stamp = pd.Timestamp(str(text).strip())
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise DataError(f"--as-of must be a date such as 2018-04-01, not {text!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if stamp == stamp.normalize() and len(str(text).strip()) <= 10:
        stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)  # the whole day
    return stamp


def stamp_values(stamps: pd.Series) -> np.ndarray:
    """A typed date column as float nanoseconds, NaN where there is no date."""
    values = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    values[stamps.isna().to_numpy()] = np.nan
    return values


def outcome_dates(typed: pd.DataFrame, schema: LeadSchema) -> dict[str, np.ndarray]:
    """The created, converted and closed moments of each lead, as float nanoseconds."""
    n = len(typed)

    def column(name: str | None) -> np.ndarray:
        if not (name and name in typed.columns):
            return np.full(n, np.nan)
        return stamp_values(pd.to_datetime(typed[name], errors="coerce"))

    return {
        "created": column(schema.time),
        "converted": column(schema.converted_at),
        "closed": column(schema.closed_at),
    }


def newest_date(typed: pd.DataFrame, schema: LeadSchema) -> float:
    """The newest date in the table (created, converted or closed): the default export date."""
    dates = outcome_dates(typed, schema)
    found = [np.nanmax(v) for v in dates.values() if np.isfinite(v).any()]
    return float(max(found)) if found else float("nan")


@dataclass
class Timeline:
    """Each lead's outcome as the export shows it on ``as_of``, and when things happened."""

    code: np.ndarray  # int8: CONVERTED, NOT_CONVERTED, OPEN, CREATED_AFTER
    created: np.ndarray  # float ns, NaN: no date
    converted: np.ndarray
    closed: np.ndarray
    as_of: float  # ns; NaN without dates
    dated_conversions: bool  # the schema names a conversion date column

    @classmethod
    def of(
        cls,
        typed: pd.DataFrame,
        codes: np.ndarray,
        schema: LeadSchema,
        as_of: float,
        undecided: int = OPEN,
    ) -> Timeline:
        """The leads as known on ``as_of``: created later, not there yet; converted or closed
        later, ``undecided`` then: still open in a status column that has open values, not
        converted (yet) in a converted / not converted one, as its own export would say."""
        dates = outcome_dates(typed, schema)
        code = np.asarray(codes, dtype=np.int8).copy()
        created, converted, closed = dates["created"], dates["converted"], dates["closed"]
        if np.isfinite(as_of):
            late = converted > as_of
            converted = np.where(late, np.nan, converted)
            code[late & (code == CONVERTED)] = undecided
            shut_late = closed > as_of
            code[shut_late & (code != OPEN) & np.isnan(converted)] = undecided
            closed = np.where(shut_late, np.nan, closed)
            code[created > as_of] = CREATED_AFTER
        return cls(code, created, converted, closed, as_of, schema.converted_at is not None)

    @classmethod
    def concat(cls, parts: list[Timeline]) -> Timeline:
        """One timeline from the partitions' (Dask): the same arrays, end to end."""
        first = parts[0]
        return cls(
            *(np.concatenate([getattr(p, k) for p in parts]) for k in TIMELINE_ARRAYS),
            as_of=first.as_of,
            dated_conversions=first.dated_conversions,
        )

    @property
    def age_days(self) -> np.ndarray:
        """How old each lead is at the export date (NaN: no creation date)."""
        return (self.as_of - self.created) / DAY_NS

    def follow_up(self) -> tuple[np.ndarray, np.ndarray]:
        """Kaplan–Meier's input: whether each lead converted, and after how many days it
        converted or stopped being followed (closed, or still open at the export date).
        Leads without a creation date, or converted without a date, cannot be placed."""
        days_to = (self.converted - self.created) / DAY_NS
        stop = np.where(np.isfinite(self.closed), self.closed, self.as_of)
        days_followed = (stop - self.created) / DAY_NS
        event = (self.code == CONVERTED) & np.isfinite(days_to)
        duration = np.where(event, days_to, days_followed)
        usable = np.isfinite(duration) & (self.code != CREATED_AFTER)
        usable &= ~((self.code == CONVERTED) & ~event)
        return event[usable], np.clip(duration[usable], 0.0, None)


TIMELINE_ARRAYS = ("code", "created", "converted", "closed")
