"""Typed lead values → the model's numeric matrix, the same way at training and at serving time.

Every feature becomes one float column: numbers as they are, booleans as 0/1, ordinal answers as
their rank (so LightGBM can hold them monotone), categories as integer codes that LightGBM
treats natively as categorical. Missing values (placeholders such as "N/A" included) are NaN,
which LightGBM treats as missing. The category → code maps are frozen at training time and
saved in the bundle, so a lead scored a year later is encoded exactly as the training rows were.

**Not answered is not missing.** With a schema's ``unanswered`` words, a form's default answer
("Select": the lead saw the question and skipped it) is kept apart from a blank (the field was
never sent: the lead never saw the form), because the two convert differently (40.8 % against
13.7 % on a real export). A category gets the level "(not answered)", one more category for
LightGBM; an ordinal gets the code −1, below its scale, which one split isolates and which
leaves the answers' ranks as they are. An ordinal held monotone keeps reading it as missing:
a constraint runs over the whole axis, so any code on it would claim that skipping the
question is worse than the worst answer (or better than the best), which nobody said, while
LightGBM's missing branch is learned freely. A state seen fewer than ``MIN_LEVEL_COUNT`` times in
training is missing too, like a rare category. Blank stays NaN: LightGBM's missing branch.

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
from leadml.data.values import (
    NOT_ANSWERED,
    answer_or_blank,
    level_lookup,
    placeholder_keys,
    text_key,
    unanswered_keys,
)
from leadml.schema.spec import DATE_KINDS, LeadSchema

#: Categories seen fewer times than this in training share the "unseen" code (missing).
MIN_LEVEL_COUNT = 3
#: Cap on categorical levels; the rarest go to missing (ID-like columns are caught earlier).
MAX_LEVELS = 256
#: Kinds encoded as numbers; every other kind is a code per level (see ``level_names``).
NUMERIC_KINDS = ("numeric", "age_days")
#: Kinds whose answers are text: where a form default may be "(not answered)".
TEXT_KINDS = ("categorical", "ordinal")
#: An ordinal's code for "(not answered)": below its scale (see the module's docstring).
NOT_ANSWERED_RANK = -1.0


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
    #: The schema's form-default words (empty: placeholders are all missing, as before).
    unanswered: frozenset[str] = frozenset()
    #: Ordinal features coding "(not answered)" as −1 (categories have it among their levels).
    not_answered: frozenset[str] = frozenset()
    _codes: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)
    #: Codes by spelling key ("vp" finds "VP"), for the spellings that name one level.
    _keys: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)
    _blank: frozenset[str] = field(init=False, repr=False, compare=False)
    _skipped: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = {name: {lvl: i for i, lvl in enumerate(lv)} for name, lv in self.levels.items()}
        keys = {
            name: {key: codes[name][lvl] for key, lvl in level_lookup(lv).items()}
            for name, lv in self.levels.items()
        }
        object.__setattr__(self, "_codes", codes)
        object.__setattr__(self, "_keys", keys)
        missing, unanswered = self.missing_values, self.unanswered
        object.__setattr__(self, "_blank", placeholder_keys(missing, unanswered))
        object.__setattr__(self, "_skipped", unanswered_keys(unanswered))

    def code_of(self, name: str, text: str) -> float | None:
        """A known answer's code, exactly as written or in another spelling; None if unseen
        (so is "(not answered)" where the feature does not know that state)."""
        if text == NOT_ANSWERED and name in self.not_answered:
            return NOT_ANSWERED_RANK
        code = self._codes[name].get(text)
        return code if code is not None else self._keys[name].get(text_key(text))

    def knows_not_answered(self, name: str) -> bool:
        """Whether "(not answered)" is a state of feature ``name`` (else it reads as missing)."""
        return name in self.not_answered or NOT_ANSWERED in self._codes.get(name, {})

    # -- learning ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, schema: LeadSchema, frame: pd.DataFrame) -> FeatureEncoder:
        """Freeze ordinal orders from the schema and categorical levels from the training rows
        (typed: categories are clean text, placeholders already missing or, with the schema's
        ``unanswered`` words, "(not answered)": a level like any other when seen often enough).
        """
        levels: dict[str, list[str]] = {}
        not_answered: set[str] = set()
        for spec in schema.features:
            if spec.kind == "ordinal":
                levels[spec.name] = list(spec.levels or [])
                known = schema.unanswered and spec.name in frame.columns
                skipped = int((frame[spec.name] == NOT_ANSWERED).sum()) if known else 0
                if skipped >= MIN_LEVEL_COUNT and not spec.monotone:
                    not_answered.add(spec.name)
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
            unanswered=frozenset(schema.unanswered),
            not_answered=frozenset(not_answered),
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
            not_answered=frozenset(n for n in self.not_answered if n in names),
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
        return parse_columns(frame, kinds, missing, first, ordinal, self.unanswered)

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
        value = self.answer(j, value)
        if value is None:
            return math.nan
        if kind == "numeric":
            return number_value(value)
        if kind == "boolean":
            return boolean_value(value)
        code = self.code_of(self.names[j], str(value))
        return math.nan if code is None else float(code)

    def answer(self, j: int, value: Any) -> Any:
        """A raw value of feature ``j`` as read before coding: None when it means missing
        (None, blank, a placeholder), "(not answered)" for a form default in a text field of a
        schema that keeps them apart, else the value (text stripped), as ``parse`` reads a
        table's cells."""
        if not isinstance(value, str):
            return value
        skipped = self._skipped if self.kinds[j] in TEXT_KINDS else frozenset()
        return answer_or_blank(value, self._blank, skipped)

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
        a category field (a name, an email) is never kept ("(not answered)", a state the model
        knows, is kept). Date features are left out too: they are read from their date column.
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
        if kind == "ordinal" and code == NOT_ANSWERED_RANK:
            return NOT_ANSWERED
        if kind in ("ordinal", "categorical"):
            return self.levels[self.names[j]][int(code)]
        if kind == "boolean":
            return bool(code)
        if kind in ("month", "weekday"):
            return int(code)
        return code

    def level_names(self, j: int) -> list[str]:
        """What each code of (non-numeric) feature ``j`` means: its levels, or the fixed ones
        of yes/no, months and weekdays (codes are positions in this list; an ordinal's
        "(not answered)", −1, is not, and counts with the missing where codes are counted)."""
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
            # Written only when used, so that older bundles' encoders read back as they were.
            **({"unanswered": sorted(self.unanswered)} if self.unanswered else {}),
            **({"not_answered": sorted(self.not_answered)} if self.not_answered else {}),
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
            unanswered=frozenset(data.get("unanswered", ())),
            not_answered=frozenset(data.get("not_answered", ())),
        )
