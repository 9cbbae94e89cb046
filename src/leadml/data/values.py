"""Values as CRM exports and integrations really write them, read as a person means them.

The same rules serve files (once per distinct value of a column) and the API (once per field
of a lead), so a lead scores the same whichever way it arrives:

* **placeholders** are missing: the schema's own list and the ones CRMs are known to write
  (Salesforce's ``--None--``, ``N/A``, ``#N/A``, ``(blank)``, "Select", ...), compared without
  case, accents or spaces; except that a schema with ``unanswered`` words keeps a form's
  default answer ("Select", "Please choose", "Selecione") apart in text fields: it is the
  answer :data:`NOT_ANSWERED` (the lead saw the field and skipped it), not a missing value
  (blank: never sent). Numbers and yes/no fields read them as missing all the same;
* **numbers** with thousands separators, currency signs and codes, and k / M / bn suffixes:
  ``"1,200"`` → 1200, ``"$50,000"`` → 50000, ``"R$ 1.200,50"`` → 1200.5, ``"2.4M"`` →
  2,400,000, ``"15%"`` → 15; anything else is unreadable (NaN);
* **answers** (ordinal levels and known categories) matched without case, accents, spaces or
  dashes: ``"vp"`` is ``"VP"``, ``"100k-250k"`` is ``"100k–250k"``, ``"c level"`` is
  ``"C-level"``. A spelling that matches two levels is left alone rather than guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from typing import Any

from leadml.errors import DataError
from leadml.schema.lexicon import FORM_DEFAULTS, PLACEHOLDERS, fold

#: The answer a form placeholder stands for in a text field, when the schema keeps them apart:
#: a level of its own for categories ("Specialization: not answered" can be a reason). In
#: parentheses, so that no real answer is mistaken for it.
NOT_ANSWERED = "(not answered)"

#: Every dash and minus a keyboard, a word processor or a CRM may put in a level.
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_SPACE = re.compile(r"[\s\u00a0\u2009\u202f]+")
#: Placeholders CRMs write beyond the generic ones in the lexicon ("N/A", "#N/A", "(blank)").
CRM_PLACEHOLDERS = ("--None--", "-None-", "(none)", "none selected")
_CURRENCY = re.compile(
    r"^(?:r\$|us\$|a\$|c\$|\$|€|£|¥|₹|zł|zl|usd|eur|brl|pln|gbp|chf)|"
    r"(?:r\$|\$|€|£|zł|zl|usd|eur|brl|pln|gbp|chf)$"
)
_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}
_SCALED = re.compile(r"^([+-]?\d+(?:\.\d+)?)(k|mm|mn|m|bn|b)$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


@lru_cache(maxsize=65_536)
def blank_key(text: str) -> str:
    """How a placeholder compares: folded, one kind of dash, no spaces (cached: the same few
    answers come back on every lead). Dashes stay: "--None--" is a placeholder, "None" not."""
    return _SPACE.sub("", _DASHES.sub("-", fold(str(text))))


@lru_cache(maxsize=65_536)
def text_key(text: str) -> str:
    """How two spellings of one answer compare: folded, without spaces or dashes, so "c level",
    "C-Level" and "C–level" are one answer (``level_lookup`` refuses keys two levels share)."""
    return blank_key(text).replace("-", "")


@lru_cache(maxsize=64)
def _placeholder_keys(missing: frozenset[str]) -> frozenset[str]:
    return frozenset(blank_key(m) for m in (*missing, *CRM_PLACEHOLDERS, *PLACEHOLDERS))


def placeholder_keys(missing: Collection[str], unanswered: Collection[str] = ()) -> frozenset[str]:
    """The keys of every value read as missing: the schema's list and the CRM ones (and, for
    a schema with ``unanswered`` words, every form default too: missing in numbers and yes/no
    fields; text fields look at :func:`unanswered_keys` first)."""
    return _placeholder_keys(frozenset(missing)) | unanswered_keys(unanswered)


@lru_cache(maxsize=64)
def _unanswered_keys(unanswered: frozenset[str]) -> frozenset[str]:
    if not unanswered:
        return frozenset()
    return frozenset(blank_key(w) for w in (*unanswered, *FORM_DEFAULTS, NOT_ANSWERED))


def unanswered_keys(unanswered: Collection[str]) -> frozenset[str]:
    """The keys of the answers a text field reads as :data:`NOT_ANSWERED`: the schema's
    ``unanswered`` words, every known form default, and the marker itself (a lead scored once
    and sent back). None when the schema has no ``unanswered`` words: it reads them as missing,
    as schemas always did."""
    return _unanswered_keys(frozenset(unanswered))


def answer_or_blank(value: Any, missing: frozenset[str], unanswered: frozenset[str]) -> Any:
    """One text field's raw value as the model reads it: None when it means missing (blank, a
    placeholder), :data:`NOT_ANSWERED` for a form default when ``unanswered`` keys are given,
    else the value (stripped when text). ``missing`` and ``unanswered``: key sets from
    :func:`placeholder_keys` and :func:`unanswered_keys`."""
    if not isinstance(value, str):
        return value
    key = blank_key(value)
    if key in unanswered:
        return NOT_ANSWERED
    return None if key in missing else value.strip()


def is_placeholder(value: Any, keys: frozenset[str]) -> bool:
    return isinstance(value, str) and blank_key(value) in keys


def number_from_text(text: str) -> float:
    """One number as a person wrote it (see the module's docstring); NaN when it is none."""
    t = _SPACE.sub("", fold(text.strip())).replace("'", "")
    percent = t.endswith("%")
    t = t.removesuffix("%")
    t = _CURRENCY.sub("", t)
    t = _CURRENCY.sub("", t)  # "$50k USD": a sign in front and a code behind
    try:
        number = float(t)
    except ValueError:
        number = math.nan
        scaled = _SCALED.match(t)
        if scaled and not percent:
            number = float(scaled.group(1)) * _SUFFIX[scaled.group(2)]
        elif _THOUSANDS_COMMA.match(t):
            number = float(t.replace(",", ""))
        elif _THOUSANDS_DOT.match(t):
            number = float(t.replace(".", "").replace(",", "."))
        elif _DECIMAL_COMMA.match(t):
            number = float(t.replace(",", "."))
    return number if math.isfinite(number) else math.nan


def level_lookup(levels: Iterable[str]) -> dict[str, str]:
    """key → level, for the keys that name exactly one level (ambiguous spellings are left
    out: they match only when written exactly)."""
    seen: dict[str, list[str]] = {}
    for level in levels:
        seen.setdefault(text_key(level), []).append(level)
    return {key: found[0] for key, found in seen.items() if len(found) == 1}


def canonical(text: str, lookup: Mapping[str, str]) -> str | None:
    """The level ``text`` means, or None when it matches none."""
    return lookup.get(text_key(text))


def days_option(
    text: str | int | None, option: str, expected: str, whole: bool = False
) -> str | float:
    """A flag that takes ``auto``, ``none`` or a number of days (``--horizon``, ``--recency``):
    the word in lower case, or the positive number (a whole one with ``whole``); anything else
    stops with one line naming the flag and what it takes."""
    value = str(text if text is not None else "auto").strip().lower()
    if value in ("auto", "none"):
        return value
    try:
        days = float(value)
    except ValueError:
        days = float("nan")
    if not math.isfinite(days) or days <= 0 or (whole and (days < 1 or days != round(days))):
        raise DataError(f"{option} must be auto, none or {expected}, not {text!r}")
    return days
