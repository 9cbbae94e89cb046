"""Raw lead values → the model's numeric matrix, the same way at training and at serving time.

Every feature becomes one float column: numbers as they are, booleans as 0/1, ordinal answers as
their rank (so LightGBM can hold them monotone), categories as integer codes that LightGBM
treats natively as categorical. Placeholders such as "Select" become NaN, which LightGBM treats
as missing. The category → code maps are frozen at training time and saved in the bundle, so a
lead scored a year later is encoded exactly as the training rows were.

Date kinds (month, weekday, age in days) are computed here from their raw date column, so a
lead sent to the API with its dates gets the same features as the training rows did. A date's
age is measured at the lead's own time (its time column) when known, else at scoring time.

Two paths share those maps: ``transform`` for a DataFrame (vectorised, batch) and ``encode_row``
for one lead dict (no pandas: a one-row DataFrame costs ~2 ms, a numpy row ~20 µs to predict).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.schema import DATE_KINDS, LeadSchema

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "sim", "sí", "si", "tak", "1.0"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f", "não", "nao", "nie", "0.0"})

#: Categories seen fewer times than this in training share the "unseen" code (missing).
MIN_LEVEL_COUNT = 3
#: Cap on categorical levels; the rarest go to missing (ID-like columns are caught earlier).
MAX_LEVELS = 256


def _distinct_text(series: pd.Series, missing: Collection[str]) -> tuple[np.ndarray, pd.Series]:
    """Row codes into the column's distinct values, each stripped, placeholders made missing.

    The work is done once per distinct value, not per row: a million-row column of a few
    dozen job titles costs a factorize and a take instead of a million string operations.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("string").str.strip()
    return codes, text.mask(text.isin(list(missing)))


def clean_text(series: pd.Series, missing: Collection[str]) -> pd.Series:
    """Strip text and turn CRM placeholders into missing values."""
    codes, text = _distinct_text(series, missing)
    out = text.reindex(codes)
    out.index = series.index
    out.name = series.name
    return out


#: A numeric date whose first two fields could be day and month either way: 05/11/2026.
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}(?:\D|$)")


def day_first_in(series: pd.Series) -> bool | None:
    """Whether this column writes numeric dates day first (05/11/2026 = 5 November).

    True when some value has a first field above 12 and none a second field above 12,
    False for the reverse, None when the column cannot tell (no such dates, or both). Exports
    from Europe and Latin America write day first; reading them month first would silently
    swap days and months wherever both are 12 or less.
    """
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return None
    values = pd.Series(series.dropna().unique()[:50_000], dtype=object).astype("string")
    if values.empty:
        return None
    parts = values.str.extract(_NUMERIC_DATE)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    return day_first if day_first != month_first else None


def resolve_day_first(schema: LeadSchema, frame: pd.DataFrame) -> bool:
    """The schema's choice, else what the data's date columns show (month first if unsure)."""
    if schema.day_first is not None:
        return schema.day_first
    columns = {schema.time, *(f.source for f in schema.features if f.kind in DATE_KINDS)}
    seen = {day_first_in(frame[c]) for c in columns if c and c in frame.columns}
    return True in seen and False not in seen


def parse_dates(series: pd.Series, day_first: bool | None = None) -> pd.Series:
    """Dates as naive UTC timestamps; anything that is not a date becomes NaT.

    Exports mix time zones and plain dates: aware values are converted to UTC and made naive
    so that they compare with naive ones. ``day_first`` says how to read 05/11/2026; None
    lets the column itself tell (``day_first_in``).
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(series):  # plain numbers are not dates
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    text = series.astype("string").str.strip()
    # ISO 8601 is vectorised and what most exports write; other spellings are parsed one by one.
    stamps = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    retry = (stamps.isna() & text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)
    if retry.any():
        rest = text[retry]
        if day_first is None:
            day_first = bool(day_first_in(rest))
        stamps = stamps.copy()
        stamps[retry] = pd.to_datetime(
            rest, errors="coerce", format="mixed", dayfirst=day_first, utc=True
        )
    return stamps.dt.tz_localize(None)


def parse_date(value: Any, day_first: bool = False) -> pd.Timestamp | None:
    """One raw value as a naive UTC timestamp, or None (the one-lead path: no Series)."""
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        value = value.strip()
    try:
        if day_first and isinstance(value, str) and _NUMERIC_DATE.match(value):
            stamp = pd.to_datetime(value, dayfirst=True)
        else:
            stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None)


def date_part(kind: str, stamp: pd.Timestamp | None, reference: pd.Timestamp | None) -> float:
    """Month (1-12), weekday (0 = Monday) or age in days of one date; NaN when unknown."""
    if stamp is None:
        return math.nan
    if kind == "month":
        return float(stamp.month)
    if kind == "weekday":
        return float(stamp.weekday())
    return ((reference if reference is not None else _now()) - stamp).total_seconds() / 86400.0


@dataclass(frozen=True)
class FeatureEncoder:
    """Frozen encoding of a schema's features; learned once, saved as JSON in the bundle."""

    names: list[str]
    kinds: list[str]
    levels: dict[str, list[str]]
    missing_values: frozenset[str]
    monotone: list[int]
    #: Date-kind feature → the raw date column it is computed from.
    sources: dict[str, str] = field(default_factory=dict)
    #: The lead's time column: the reference for date ages (scoring time when absent).
    time: str | None = None
    #: Numeric dates read day first (05/11/2026 = 5 November), as in the training data.
    day_first: bool = False
    _codes: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = {name: {lvl: i for i, lvl in enumerate(lv)} for name, lv in self.levels.items()}
        object.__setattr__(self, "_codes", codes)

    # -- learning ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, schema: LeadSchema, frame: pd.DataFrame) -> FeatureEncoder:
        """Freeze ordinal orders from the schema and categorical levels from the training rows."""
        missing = frozenset(schema.missing_values)
        levels: dict[str, list[str]] = {}
        for spec in schema.features:
            if spec.kind == "ordinal":
                levels[spec.name] = list(spec.levels or [])
            elif spec.kind == "categorical":
                counts = clean_text(frame[spec.name], missing).value_counts()
                kept = counts[counts >= MIN_LEVEL_COUNT].index[:MAX_LEVELS]
                levels[spec.name] = sorted(str(v) for v in kept)
        return cls(
            names=schema.feature_names,
            kinds=[f.kind for f in schema.features],
            levels=levels,
            missing_values=missing,
            monotone=[f.monotone for f in schema.features],
            sources={f.name: f.source for f in schema.features if f.source},
            time=schema.time,
            day_first=resolve_day_first(schema, frame),
        )

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k == "categorical"]

    # -- batch path --------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a frame into a float64 matrix, one column per feature, NaN for missing."""
        out = np.full((len(frame), len(self.names)), np.nan, dtype=np.float64)
        reference = None
        if self.time and self.time in frame.columns and "age_days" in self.kinds:
            reference = parse_dates(frame[self.time], self.day_first)
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            column = self.sources.get(name, name)
            if column not in frame.columns:
                continue  # a column absent at scoring time is simply missing
            out[:, j] = self.encode_column(name, kind, frame[column], reference)
        return out

    def encode_column(
        self, name: str, kind: str, series: pd.Series, reference: pd.Series | None = None
    ) -> np.ndarray:
        if kind in DATE_KINDS:
            return self._encode_dates(kind, series, reference)
        if kind == "numeric":
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                text = clean_text(series, self.missing_values)
                values = pd.to_numeric(text, errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            return np.where(np.isfinite(values), values, np.nan)
        if kind == "boolean":
            if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                return np.where(np.isin(values, (0.0, 1.0)), values, np.nan)
            text = clean_text(series, self.missing_values).str.lower()
            result = np.full(len(series), np.nan)
            result[text.isin(TRUE_WORDS).to_numpy(dtype=bool, na_value=False)] = 1.0
            result[text.isin(FALSE_WORDS).to_numpy(dtype=bool, na_value=False)] = 0.0
            return result
        rows, text = _distinct_text(series, self.missing_values)
        level = pd.Index(self.levels[name]).get_indexer(text).astype(np.float64)
        level[level < 0] = np.nan  # unseen and missing values alike
        return np.where(rows >= 0, level[rows] if len(level) else np.nan, np.nan)

    def _encode_dates(
        self, kind: str, series: pd.Series, reference: pd.Series | None
    ) -> np.ndarray:
        stamps = parse_dates(series, self.day_first)
        if kind == "month":
            values = stamps.dt.month
        elif kind == "weekday":
            values = stamps.dt.weekday
        else:
            # A missing reference means "now" only when the frame has no time column at all
            # (scoring fresh leads); a training row with a blank time stays unknown.
            ref = reference if reference is not None else pd.Series(_now(), index=series.index)
            values = (ref.to_numpy() - stamps.to_numpy()) / np.timedelta64(1, "D")
            return np.asarray(values, dtype=np.float64)
        return values.to_numpy(dtype=np.float64, na_value=np.nan)

    # -- one-lead path -----------------------------------------------------------------------
    def encode_value(self, j: int, value: Any, reference: Any = None) -> float:
        """Encode one raw value for feature ``j``; anything unusable is missing (NaN).

        For date kinds ``value`` is the raw date and ``reference`` the lead's time, if known.
        """
        if value is None:
            return math.nan
        kind = self.kinds[j]
        if kind in DATE_KINDS:
            first = self.day_first
            return date_part(kind, parse_date(value, first), parse_date(reference, first))
        if isinstance(value, str):
            value = value.strip()
            if value in self.missing_values:
                return math.nan
        if kind == "numeric":
            if isinstance(value, bool):
                return float(value)
            try:
                number = float(value)
            except (TypeError, ValueError):
                return math.nan
            return number if math.isfinite(number) else math.nan
        if kind == "boolean":
            if isinstance(value, bool | int | float) and value in (0, 1):
                return float(value)
            word = str(value).lower()
            return 1.0 if word in TRUE_WORDS else 0.0 if word in FALSE_WORDS else math.nan
        code = self._codes[self.names[j]].get(str(value))
        return math.nan if code is None else float(code)

    def encode_row(self, lead: Mapping[str, Any]) -> np.ndarray:
        """One lead dict → a (1, n_features) row, with no pandas on the way."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        reference = lead.get(self.time) if self.time else None
        # As in ``transform``: a time field that is sent but blank leaves ages unknown; only
        # a lead sent without one is aged at scoring time.
        blank_time = self.time in lead and parse_date(reference, self.day_first) is None
        for j, name in enumerate(self.names):
            if blank_time and self.kinds[j] == "age_days":
                row[0, j] = math.nan
                continue
            row[0, j] = self.encode_value(j, lead.get(self.sources.get(name, name)), reference)
        return row

    def decode_value(self, j: int, code: float) -> Any:
        """The human value behind an encoded cell, for reasons and reports."""
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return None
        kind = self.kinds[j]
        if kind in ("ordinal", "categorical"):
            return self.levels[self.names[j]][int(code)]
        if kind == "boolean":
            return bool(code)
        if kind in ("month", "weekday"):
            return int(code)
        return code

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "kinds": self.kinds,
            "levels": self.levels,
            "missing_values": sorted(self.missing_values),
            "monotone": self.monotone,
            "sources": self.sources,
            "time": self.time,
            "day_first": self.day_first,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        return cls(
            names=list(data["names"]),
            kinds=list(data["kinds"]),
            levels={k: list(v) for k, v in data["levels"].items()},
            missing_values=frozenset(data["missing_values"]),
            monotone=[int(m) for m in data["monotone"]],
            sources=dict(data.get("sources", {})),
            time=data.get("time"),
            day_first=bool(data.get("day_first", False)),
        )
