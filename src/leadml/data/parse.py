"""Raw CRM values → typed values, once, at the boundary; the same rules for a table and a lead.

Exports write the same thing many ways: "Select" and "N/A" for an unanswered field, "yes" or
"Sim" for true, 05/11/2026 for 5 November in Europe, dates with and without time zones. Each
raw column a schema uses is parsed here exactly once into one type, and everything after
works on that typed frame:

=============================  =================================================================
kind                           typed as
=============================  =================================================================
numeric                        float64; missing, placeholders and infinities are NaN
boolean                        float64 1.0 / 0.0; anything else NaN
ordinal, categorical           pandas ``string``, stripped; placeholders are ``<NA>``, form
                               defaults ``"(not answered)"`` when the schema keeps them apart
date (time column, sources)    ``datetime64[ns]``, naive UTC; anything not a date is NaT
=============================  =================================================================

``parse_column`` also reports which given values could not be read (a word in a numeric
column, a non-date in a date column), so that validation can name them; scoring reads them as
missing. The ``*_value`` functions are the one-lead path the API uses: the same rules without
pandas, since a one-row Series costs more than the scoring itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadml.data.values import (
    NOT_ANSWERED,
    blank_key,
    canonical,
    level_lookup,
    number_from_text,
    placeholder_keys,
    unanswered_keys,
)
from leadml.schema.spec import DATE_KINDS, LeadSchema

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "sim", "sí", "si", "tak", "1.0"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f", "não", "nao", "nie", "0.0"})

#: How a raw column is typed: a feature's kind, or "date" for the time column and date sources.
ColumnKind = str
TEXT_KINDS = ("ordinal", "categorical")

#: A numeric date whose first two fields could be day and month either way: 05/11/2026.
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}(?:\D|$)")


# -- text ----------------------------------------------------------------------------------------
def distinct_text(
    series: pd.Series, missing: Collection[str], unanswered: Collection[str] = ()
) -> tuple[np.ndarray, pd.Series]:
    """Row codes into the column's distinct values, each stripped, placeholders made missing
    (the schema's and the CRM ones, in any case or spacing: :mod:`leadml.data.values`), and
    with ``unanswered`` words (a text field of a schema that keeps them apart) form defaults
    made :data:`~leadml.data.values.NOT_ANSWERED`.

    The work is done once per distinct value, not per row: a million-row column of a few
    dozen job titles costs a factorize and a take instead of a million string operations.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("string").str.strip()
    keys, skipped = placeholder_keys(missing), unanswered_keys(unanswered)
    distinct = text.tolist()
    if skipped:
        not_answered = np.array(
            [v is not pd.NA and blank_key(v) in skipped for v in distinct], dtype=bool
        )  # bool even when the column is all blank (no distinct values)
        text = text.mask(not_answered, NOT_ANSWERED)
    blank = [v is pd.NA or (v != NOT_ANSWERED and blank_key(v) in keys) for v in text.tolist()]
    return codes, text.mask(np.array(blank, dtype=bool))


def _take(codes: np.ndarray, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
    """Per-row values from per-distinct-value ones (``codes`` -1: missing)."""
    if not len(values):
        return np.full(len(codes), fill)
    return np.where(codes >= 0, values[np.maximum(codes, 0)], fill)


def clean_text(
    series: pd.Series, missing: Collection[str], unanswered: Collection[str] = ()
) -> pd.Series:
    """Strip text and turn CRM placeholders into missing values (form defaults into
    ``"(not answered)"`` with ``unanswered`` words: see ``distinct_text``)."""
    codes, text = distinct_text(series, missing, unanswered)
    out = text.reindex(codes)
    out.index = series.index
    out.name = series.name
    return out


# -- dates ---------------------------------------------------------------------------------------
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


def date_columns(schema: LeadSchema) -> list[str]:
    """The raw columns read as dates: the time column and every date feature's source."""
    columns = [schema.time, *(f.source for f in schema.features if f.kind in DATE_KINDS)]
    return list(dict.fromkeys(c for c in columns if c))


def resolve_day_first(schema: LeadSchema, frame: pd.DataFrame) -> bool:
    """The schema's choice, else what the data's date columns show (month first if unsure)."""
    if schema.day_first is not None:
        return schema.day_first
    seen = {day_first_in(frame[c]) for c in date_columns(schema) if c in frame.columns}
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
        return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]", name=series.name)
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
    return stamps.dt.tz_localize(None).astype("datetime64[ns]")


# -- whole columns -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedColumn:
    """One raw column typed, and which rows held a value that could not be read as that type."""

    values: pd.Series
    given: np.ndarray  # bool: the raw cell held something (not blank, not a placeholder)
    unreadable: np.ndarray  # bool: given, but not a number / date / known answer of the kind
    infinite: np.ndarray  # bool: numeric infinities, typed as missing
    #: bool: given as a form default, typed "(not answered)" (text fields of a schema with
    #: ``unanswered`` words; all False otherwise).
    unanswered: np.ndarray | None = None

    @property
    def not_answered(self) -> np.ndarray:
        return self.unanswered if self.unanswered is not None else np.zeros_like(self.given)


def _given(series: pd.Series, missing: Collection[str]) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return series.notna().to_numpy()
    return clean_text(series, missing).notna().to_numpy(dtype=bool, na_value=False)


def parse_column(
    series: pd.Series,
    kind: ColumnKind,
    missing: Collection[str],
    day_first: bool | None = None,
    levels: Sequence[str] | None = None,
    unanswered: Collection[str] = (),
) -> ParsedColumn:
    """Type one raw column as ``kind`` (a feature kind, or "date"); see the module's table.

    Numbers written as text are read as a person means them ("1,200", "$50,000"), and with
    ``levels`` an ordinal's answers are spelled as the schema spells them ("vp" → "VP",
    "100k-250k" → "100k–250k"); see :mod:`leadml.data.values`. With ``unanswered`` words,
    form defaults are "(not answered)" in text kinds and missing in the others.
    """
    missing = placeholder_keys(missing, unanswered) if unanswered else missing
    n = len(series)
    none = np.zeros(n, dtype=bool)
    if kind == "date" or kind in DATE_KINDS:
        stamps = parse_dates(series, day_first)
        given = _given(series, missing)
        return ParsedColumn(stamps, given, given & stamps.isna().to_numpy(), none)
    if kind == "numeric":
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)  # the usual CSV case
            given = ~np.isnan(numbers)
            unreadable = none
        else:
            codes, text = distinct_text(series, missing)
            distinct = np.array(
                [math.nan if v is pd.NA else number_from_text(v) for v in text.tolist()]
            )
            numbers = _take(codes, distinct)
            given = _take(codes, text.notna().to_numpy(dtype=bool, na_value=False), 0) > 0
            unreadable = given & np.isnan(numbers)
        infinite = np.isinf(numbers)
        numbers = np.where(infinite, np.nan, numbers)
        return ParsedColumn(
            pd.Series(numbers, index=series.index, name=series.name), given, unreadable, infinite
        )
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            given = ~np.isnan(values)
            values = np.where(np.isin(values, (0.0, 1.0)), values, np.nan)
        else:
            text = clean_text(series, missing).str.lower()
            values = np.full(n, np.nan)
            values[text.isin(TRUE_WORDS).to_numpy(dtype=bool, na_value=False)] = 1.0
            values[text.isin(FALSE_WORDS).to_numpy(dtype=bool, na_value=False)] = 0.0
            given = text.notna().to_numpy(dtype=bool, na_value=False)
        return ParsedColumn(
            pd.Series(values, index=series.index, name=series.name),
            given,
            given & np.isnan(values),
            none,
        )
    text = clean_text(series, missing, unanswered)
    if kind == "ordinal" and levels:
        text = _spelled_as(text, levels)
    given = text.notna().to_numpy(dtype=bool, na_value=False)
    skipped = (text == NOT_ANSWERED).to_numpy(dtype=bool, na_value=False) if unanswered else none
    return ParsedColumn(text, given, none, none, skipped)


def _spelled_as(text: pd.Series, levels: Sequence[str]) -> pd.Series:
    """Answers spelled as the schema's levels are; others left as written (validation names
    them, scoring warns about them)."""
    lookup = level_lookup(levels)
    known = set(levels)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    spelled = [u if u in known else (canonical(u, lookup) or u) for u in uniques.tolist()]
    out = pd.Series(spelled, dtype="string").reindex(codes)
    out.index, out.name = text.index, text.name
    return out


def column_kinds(
    kinds: Mapping[str, str], sources: Mapping[str, str], time: str | None
) -> dict[str, ColumnKind]:
    """Raw column → how it is typed, from feature kinds and date sources (one entry a column)."""
    out: dict[str, ColumnKind] = {}
    for name, kind in kinds.items():
        out[sources.get(name, name)] = "date" if kind in DATE_KINDS else kind
    if time:
        out[time] = "date"
    return out


def schema_column_kinds(schema: LeadSchema) -> dict[str, ColumnKind]:
    return column_kinds(
        {f.name: f.kind for f in schema.features},
        {f.name: f.source for f in schema.features if f.source},
        schema.time,
    )


def parse_columns(
    frame: pd.DataFrame,
    kinds: Mapping[str, ColumnKind],
    missing: Collection[str],
    day_first: bool | None,
    levels: Mapping[str, Sequence[str]] | None = None,
    unanswered: Collection[str] = (),
) -> tuple[pd.DataFrame, dict[str, ParsedColumn]]:
    """``frame`` with each column in ``kinds`` typed (others untouched), and the details.

    ``levels``: the ordinal columns' answers, to read their spelling variants; ``unanswered``:
    the schema's form-default words (see ``parse_column``). Columns absent from ``frame`` are
    skipped: at scoring time they are simply missing.
    """
    levels = levels or {}
    parsed = {
        column: parse_column(
            frame[column], kind, missing, day_first, levels.get(column), unanswered
        )
        for column, kind in kinds.items()
        if column in frame.columns
    }
    typed = frame.assign(**{column: p.values for column, p in parsed.items()}) if parsed else frame
    return typed, parsed


# -- the target ----------------------------------------------------------------------------------
def _canonical(value: object) -> str:
    """One spelling per number ("1", "1.0" and 1 are all "1"); other text unchanged."""
    try:
        return format(float(value), "g")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def target_values(series: pd.Series) -> pd.Series:
    """The target as canonical lower-case text (one spelling per value), missing as <NA>."""
    # once per distinct value, not per row: a target has two values and maybe a million rows
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    spelled = pd.Series([_canonical(str(u).strip().lower()) for u in uniques], dtype="string")
    text = spelled.reindex(codes)
    text.index = series.index
    return text


# -- one lead ------------------------------------------------------------------------------------
def date_value(value: Any, day_first: bool = False) -> pd.Timestamp | None:
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


def number_value(value: Any) -> float:
    """One raw value as a finite float, else NaN (placeholders are removed by the caller);
    text as a person writes numbers ("1,200", "$50,000")."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return number_from_text(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def boolean_value(value: Any) -> float:
    """One raw value as 1.0 / 0.0, else NaN."""
    if isinstance(value, bool | int | float) and value in (0, 1):
        return float(value)
    word = str(value).lower()
    return 1.0 if word in TRUE_WORDS else 0.0 if word in FALSE_WORDS else math.nan
