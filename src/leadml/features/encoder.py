"""Typed lead values → the model's numeric matrix, the same way at training and at serving time.

Every feature becomes one float column: numbers as they are, booleans as 0/1, ordinal answers as
their rank (so LightGBM can hold them monotone), categories as integer codes that LightGBM
treats natively as categorical. Missing values (placeholders such as "Select" included) are
NaN, which LightGBM treats as missing. The category → code maps are frozen at training time and
saved in the bundle, so a lead scored a year later is encoded exactly as the training rows were.

Date kinds (month, weekday, age in days) are computed here from their date column, so a lead
sent to the API with its dates gets the same features as the training rows did. A date's age
is measured at the lead's own time (its time column) when known, else at scoring time.

``transform`` takes the typed frame that validation (or ``parse`` at scoring time) made, so no
value is parsed twice; ``encode_row`` is the one-lead path (no pandas: a one-row DataFrame costs
~2 ms, a numpy row ~20 µs to predict) and reads raw values with the same rules
(:mod:`leadml.data.parse`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from leadml.data.parse import (
    ParsedColumn,
    boolean_value,
    column_kinds,
    date_value,
    number_value,
    parse_columns,
)
from leadml.data.values import blank_key, level_lookup, placeholder_keys, text_key
from leadml.schema.spec import DATE_KINDS, LeadSchema

#: Categories seen fewer times than this in training share the "unseen" code (missing).
MIN_LEVEL_COUNT = 3
#: Cap on categorical levels; the rarest go to missing (ID-like columns are caught earlier).
MAX_LEVELS = 256
#: Kinds encoded as numbers; every other kind is a code per level (see ``level_names``).
NUMERIC_KINDS = ("numeric", "age_days")


def _check_typed(name: str, kind: str, series: pd.Series) -> None:
    """Raw text reaching the encoder would be read wrongly (untrimmed, placeholders as answers)
    or not at all: say so at once rather than encode it."""
    if kind in DATE_KINDS:
        typed = pd.api.types.is_datetime64_dtype(series)
    elif kind in ("numeric", "boolean"):
        typed = pd.api.types.is_float_dtype(series)
    else:
        typed = isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is pd.NA
    if not typed:
        raise TypeError(
            f"column '{series.name}' of feature '{name}' is not typed ({series.dtype}); "
            "give the encoder typed leads: validate(...).frame or encoder.parse(frame)"
        )


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
    #: Codes by spelling key ("vp" finds "VP"), for the spellings that name one level.
    _keys: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)
    _blank: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = {name: {lvl: i for i, lvl in enumerate(lv)} for name, lv in self.levels.items()}
        keys = {
            name: {key: codes[name][lvl] for key, lvl in level_lookup(lv).items()}
            for name, lv in self.levels.items()
        }
        object.__setattr__(self, "_codes", codes)
        object.__setattr__(self, "_keys", keys)
        object.__setattr__(self, "_blank", placeholder_keys(self.missing_values))

    def code_of(self, name: str, text: str) -> int | None:
        """A known answer's code, exactly as written or in another spelling; None if unseen."""
        code = self._codes[name].get(text)
        return code if code is not None else self._keys[name].get(text_key(text))

    # -- learning ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, schema: LeadSchema, frame: pd.DataFrame) -> FeatureEncoder:
        """Freeze ordinal orders from the schema and categorical levels from the training rows
        (typed: categories are clean text, placeholders already missing)."""
        levels: dict[str, list[str]] = {}
        for spec in schema.features:
            if spec.kind == "ordinal":
                levels[spec.name] = list(spec.levels or [])
            elif spec.kind == "categorical":
                counts = frame[spec.name].value_counts()
                kept = counts[counts >= MIN_LEVEL_COUNT].index[:MAX_LEVELS]
                levels[spec.name] = sorted(str(v) for v in kept)
        return cls(
            names=schema.feature_names,
            kinds=[f.kind for f in schema.features],
            levels=levels,
            missing_values=frozenset(schema.missing_values),
            monotone=[f.monotone for f in schema.features],
            sources={f.name: f.source for f in schema.features if f.source},
            time=schema.time,
            day_first=bool(schema.day_first),
        )

    def select(self, names: list[str]) -> FeatureEncoder:
        """The same encoding for a subset of the features (e.g. after the leakage audit), so
        nothing has to be fitted again."""
        keep = [self.names.index(n) for n in names]
        return replace(
            self,
            names=[self.names[j] for j in keep],
            kinds=[self.kinds[j] for j in keep],
            levels={n: v for n, v in self.levels.items() if n in names},
            monotone=[self.monotone[j] for j in keep],
            sources={n: s for n, s in self.sources.items() if n in names},
        )

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k == "categorical"]

    # -- batch path --------------------------------------------------------------------------
    @property
    def column_kinds(self) -> dict[str, str]:
        """Raw column → how it is typed (see :mod:`leadml.data.parse`)."""
        return column_kinds(dict(zip(self.names, self.kinds, strict=True)), self.sources, self.time)

    def parse(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Raw leads to score → typed leads, by the training data's rules (day order included)."""
        return self.parse_details(frame)[0]

    def parse_details(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, ParsedColumn]]:
        """``parse``, and per column which values were given and which could not be read."""
        ordinal = {
            n: self.levels[n] for n, k in zip(self.names, self.kinds, strict=True) if k == "ordinal"
        }
        kinds, missing, first = self.column_kinds, self.missing_values, self.day_first
        return parse_columns(frame, kinds, missing, first, ordinal)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode typed leads into a float64 matrix, one column per feature, NaN for missing."""
        out = np.full((len(frame), len(self.names)), np.nan, dtype=np.float64)
        reference = None
        if self.time and self.time in frame.columns and "age_days" in self.kinds:
            reference = frame[self.time]
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            column = self.sources.get(name, name)
            if column not in frame.columns:
                continue  # a column absent at scoring time is simply missing
            out[:, j] = self.encode_column(name, kind, frame[column], reference)
        return out

    def encode_column(
        self, name: str, kind: str, series: pd.Series, reference: pd.Series | None = None
    ) -> np.ndarray:
        """One typed column as model input."""
        _check_typed(name, kind, series)
        if kind in DATE_KINDS:
            return self._encode_dates(kind, series, reference)
        if kind in ("numeric", "boolean"):
            return series.to_numpy(dtype=np.float64, na_value=np.nan)
        # typed text is clean already: code each distinct value, not each row
        rows, uniques = pd.factorize(series, use_na_sentinel=True)
        found = [self.code_of(name, str(u)) for u in uniques.tolist()]
        level = np.array([np.nan if c is None else c for c in found], dtype=np.float64)
        return np.where(rows >= 0, level[rows] if len(level) else np.nan, np.nan)

    def _encode_dates(
        self, kind: str, stamps: pd.Series, reference: pd.Series | None
    ) -> np.ndarray:
        if kind == "month":
            values = stamps.dt.month
        elif kind == "weekday":
            values = stamps.dt.weekday
        else:
            # A missing reference means "now" only when the frame has no time column at all
            # (scoring fresh leads); a training row with a blank time stays unknown.
            ref = reference if reference is not None else pd.Series(_now(), index=stamps.index)
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
            return date_part(kind, date_value(value, first), date_value(reference, first))
        if isinstance(value, str):
            value = value.strip()
            if value in self.missing_values or blank_key(value) in self._blank:
                return math.nan
        if kind == "numeric":
            return number_value(value)
        if kind == "boolean":
            return boolean_value(value)
        code = self.code_of(self.names[j], str(value))
        return math.nan if code is None else float(code)

    def encode_row(self, lead: Mapping[str, Any]) -> np.ndarray:
        """One lead dict → a (1, n_features) row, with no pandas on the way."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        reference = lead.get(self.time) if self.time else None
        # As in ``transform``: a time field that is sent but blank leaves ages unknown; only
        # a lead sent without one is aged at scoring time.
        blank_time = self.time in lead and date_value(reference, self.day_first) is None
        for j, name in enumerate(self.names):
            if blank_time and self.kinds[j] == "age_days":
                row[0, j] = math.nan
                continue
            row[0, j] = self.encode_value(j, lead.get(self.sources.get(name, name)), reference)
        return row

    def known_values(self, row: np.ndarray) -> dict[str, Any]:
        """An encoded lead's values as the model read them: numbers, booleans, known answers.

        Decoded from the row the lead was scored from, so what the model read as missing is
        left out: blanks, placeholders, and any category it never saw, so free text typed into
        a category field (a name, an email) is never kept. Date features are left out too:
        they are read from their date column.
        """
        values: dict[str, Any] = {}
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            code = float(row[j])
            if kind not in DATE_KINDS and math.isfinite(code):
                values[name] = self.decode_value(j, code)
        return values

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

    def level_names(self, j: int) -> list[str]:
        """What each code of (non-numeric) feature ``j`` means: its levels, or the fixed ones
        of yes/no, months and weekdays (codes are positions in this list)."""
        kind, name = self.kinds[j], self.names[j]
        if kind in ("categorical", "ordinal"):
            return list(self.levels[name])
        if kind == "boolean":
            return ["no", "yes"]
        if kind == "month":  # encoded 1..12: code 0 never occurs
            return ["", *(f"month {m}" for m in range(1, 13))]
        return ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

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
