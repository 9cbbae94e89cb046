"""An audit column's values → the groups the audit compares.

Ages go into the bands people read ("18–29", "30–39", …, "60+"); other numbers into quantile
bands with round edges; categories stay as given, with levels of fewer than ``MIN_LEADS`` leads
merged into "other": a rate over a dozen leads is noise, and a group that small would come close
to naming people. Missing values are a group of their own, "(missing)", because leads a CRM
knows less about are often the ones a model treats differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

#: A category level with fewer leads than this joins "other".
MIN_LEADS = 30
MISSING = "(missing)"
OTHER = "other"
#: Age band lower bounds; the last band is open ("60+"), ages under the first are "under 18".
AGE_EDGES = (18, 30, 40, 50, 60)
#: Quantile bands for numbers other than ages.
QUANTILE_BANDS = 4
#: A column is read as numbers when this share of its given values are numbers …
NUMERIC_SHARE = 0.95
#: … and, unless it holds ages, more distinct values than this (a 1–5 rating is categories).
NUMERIC_LEVELS = 10

AGE = "age bands"
QUANTILES = "quantile bands"
CATEGORIES = "categories"

_AGE_NAME = re.compile(r"(^|[^a-z])age([^a-z]|$)")


@dataclass(frozen=True)
class Grouping:
    """Each lead's group (``labels``, aligned with the column), the groups in reading order,
    and how they were made (``AGE``, ``QUANTILES`` or ``CATEGORIES``)."""

    labels: pd.Series
    order: list[str]
    how: str


def is_age(name: str) -> bool:
    """Whether a column's name says it holds ages ("age", "contact_age", "Age (years)")."""
    return bool(_AGE_NAME.search(name.lower())) and "stage" not in name.lower()


def audit_groups(series: pd.Series, min_leads: int = MIN_LEADS) -> Grouping:
    """The groups of one audit column: banded when it holds numbers, categories otherwise."""
    age = is_age(str(series.name or ""))
    numbers = _as_numbers(series, 0 if age else NUMERIC_LEVELS)
    if numbers is not None:
        if age:
            return _banded(numbers, _age_bins(), AGE)
        return _banded(numbers, _quantile_bins(numbers), QUANTILES)
    return _categories(series, min_leads)


def _as_numbers(series: pd.Series, levels: int) -> pd.Series | None:
    """The column as floats when it holds numbers (see ``NUMERIC_SHARE``) with more than
    ``levels`` distinct values, else None."""
    if pd.api.types.is_bool_dtype(series):
        return None
    given = series.dropna()
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        given = given[given.astype(str).str.strip() != ""]
    if given.empty:
        return None
    parsed = pd.to_numeric(given, errors="coerce")
    if parsed.notna().mean() < NUMERIC_SHARE or parsed.nunique() <= levels:
        return None
    return pd.to_numeric(series, errors="coerce").astype(np.float64)


def _age_bins() -> tuple[list[float], list[str]]:
    edges = [float(e) for e in AGE_EDGES]
    names = [f"under {AGE_EDGES[0]}"]
    names += [f"{lo}–{hi - 1}" for lo, hi in pairwise(AGE_EDGES)]
    names.append(f"{AGE_EDGES[-1]}+")
    return edges, names


def _round_edge(value: float) -> float:
    """An edge a person reads at a glance: two significant figures (1,234 → 1,200)."""
    if value == 0 or not np.isfinite(value):
        return 0.0
    digits = 1 - int(np.floor(np.log10(abs(value))))
    return float(round(value, digits))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _quantile_bins(numbers: pd.Series) -> tuple[list[float], list[str]]:
    """Inner edges at the quantiles, rounded; the first band "under a", the last "c+"."""
    given = numbers.dropna().to_numpy()
    inner = np.quantile(given, np.linspace(0, 1, QUANTILE_BANDS + 1)[1:-1])
    edges = sorted({_round_edge(float(e)) for e in inner})
    edges = [e for e in edges if given.min() < e <= given.max()] or [_round_edge(given.max())]
    names = [f"under {_number(edges[0])}"]
    names += [f"{_number(lo)}–{_number(hi)}" for lo, hi in pairwise(edges)]
    names.append(f"{_number(edges[-1])}+")
    return edges, names


def _banded(numbers: pd.Series, bins: tuple[list[float], list[str]], how: str) -> Grouping:
    """Each number in its band (lower bounds inclusive); an empty band is left out."""
    edges, names = bins
    index = np.searchsorted(np.asarray(edges), numbers.to_numpy(), side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(index, len(names) - 1)]
    labels = np.where(numbers.isna().to_numpy(), MISSING, labels)
    series = pd.Series(labels, index=numbers.index, name=numbers.name, dtype=object)
    present = set(series.unique())
    order = [n for n in [*names, MISSING] if n in present]
    return Grouping(series, order, how)


def _categories(series: pd.Series, min_leads: int) -> Grouping:
    """Levels as given (trimmed), rare ones merged into ``OTHER``, blanks ``MISSING``."""
    text = series.astype("string").str.strip()
    text = text.mask(text == "").fillna(MISSING).astype(object)
    counts = text.value_counts()
    rare = [v for v, n in counts.items() if n < min_leads and v != MISSING]
    labels = text.where(~text.isin(rare), OTHER)
    counts = labels.value_counts()
    order = [v for v in counts.index if v not in (OTHER, MISSING)]
    order += [v for v in (OTHER, MISSING) if v in counts.index]
    return Grouping(labels.rename(series.name), order, CATEGORIES)


def group_words(column: str, group: str, how: str) -> str:
    """A group as a sentence names it: "leads aged 60+", "leads with marital = single"."""
    if group == MISSING:
        return f"leads without {column}"
    if how == AGE:
        return f"leads aged {group}"
    if how == QUANTILES:
        return f"leads with {column} {group}"
    return f"leads with {column} = {group}"
