"""The target column's values as outcomes: converted, not converted, or still open.

A CRM's status column rarely holds just two values. Next to ``Won`` and ``Lost`` it holds the
leads still being worked (``Engaging``, ``Prospecting``, ``Open - Not Contacted``): they have no
outcome yet, so they must never be learned from, neither as converted nor as lost.
``classify_target`` places each distinct value in one of the three classes:

1. the values the user named (``--positive``, ``--negative``, ``--open``) are what they said;
2. the rest by the lexicon (:mod:`leadml.schema.outcome_words`): the value's folded words,
   first as a whole phrase ("Closed - Won", "closedwon", "7 - Closed Won"), then word by word,
   minding negations ("Closed - Not Converted" is not converted, "Open - Not Contacted" still open);
3. with two values and ``--positive`` naming one, the other is not converted (as leadml always
   read such a target: A / B with ``--positive A``);

and refuses, in one line naming them, the values it cannot place. ``TargetClasses`` says what
was decided and why (``lines``), and turns spelled values into outcome codes (``codes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import pandas as pd

from leadml.data.parse import target_values
from leadml.errors import DataError
from leadml.schema import outcome_words
from leadml.schema.spec import LeadSchema

#: Outcome codes, one per row (``np.int8``).
CONVERTED, NOT_CONVERTED, OPEN = 1, 0, -1
#: A blank cell: no outcome recorded.
NO_OUTCOME = -9

YOU_SAID = "you said"
LEXICON = "lexicon"
ONLY_OTHER = "the only other value"
_HOW_ORDER = (YOU_SAID, LEXICON, ONLY_OTHER)

#: How many values a message names before "… and N more".
_SHOWN = 8


# -- spelling ------------------------------------------------------------------------------------
def spell(series: pd.Series) -> pd.Series:
    """Canonical text of each value (lower case, stripped, numbers by value: 1, 1.0 and "1" are
    all "1"), ``<NA>`` for missing and blank cells; the flags are spelled the same way."""
    text = target_values(series)
    return text.mask(text.str.len() == 0)


def _spelled_flags(given: str | Sequence[str] | None) -> list[str]:
    """The values of one flag as the user typed them (a string or several), spelled."""
    if given is None:
        return []
    typed = [given] if isinstance(given, str) else list(given)
    if not typed:
        return []
    return [v for v in spell(pd.Series(typed, dtype=object)).dropna().tolist() if v]


def _quoted(values: Sequence[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:_SHOWN])
    more = len(values) - _SHOWN
    return f"{shown} … and {more} more" if more > 0 else shown


# -- the lexicon ---------------------------------------------------------------------------------
# What a word of a status value says; the outcome codes, and two that place nothing alone.
_CLOSED = 2  # closed / done / accepted, but not how: needs a word for won or lost
_UNDECIDED = 3  # could mean two things: placed by the words around it, never alone
_CONFLICT = 4  # says something that cannot be read ("not lost"): the value stays unplaced


def _compact(text: str) -> str:
    return text.replace(" ", "")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[str, int | None], dict[str, int], int]:
    """(whole-value table keyed by compact phrase, word-level phrases, longest phrase in words).

    Phrases are also known in one piece, so that HubSpot's ``closedwon`` and ``IN_PROGRESS``
    read as "closed won" and "in progress" do.
    """
    classes: list[tuple[frozenset[str], int]] = [
        (outcome_words.CONVERTED_STATUS, CONVERTED),
        (outcome_words.NOT_CONVERTED_STATUS, NOT_CONVERTED),
        (outcome_words.OPEN_STATUS, OPEN),
        (outcome_words.CLOSED_STATUS, _CLOSED),
        (outcome_words.UNDECIDED_STATUS, _UNDECIDED),
    ]
    phrases: dict[str, int] = {}
    for group, kind in classes:
        for phrase in group:
            phrases[phrase] = kind
            phrases.setdefault(_compact(phrase), kind)
    whole: dict[str, int | None] = {}
    for phrase, kind in phrases.items():
        whole[_compact(phrase)] = kind if kind in (CONVERTED, NOT_CONVERTED, OPEN) else None
    for group, code in (
        (outcome_words.CONVERTED_ANSWERS, CONVERTED),
        (outcome_words.NOT_CONVERTED_ANSWERS, NOT_CONVERTED),
        (outcome_words.OPEN_ANSWERS, OPEN),
    ):
        for phrase in group:
            whole[_compact(phrase)] = code
    longest = max(len(p.split()) for p in phrases)
    return whole, phrases, longest


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _negated(phrase: str, kind: int) -> int:
    """What a word says after "not": "not converted" is lost, "not contacted" still open."""
    if phrase in outcome_words.STILL_OPEN_WHEN_NEGATED:
        return OPEN
    if kind == CONVERTED or phrase in outcome_words.NOT_CONVERTED_WHEN_NEGATED:
        return NOT_CONVERTED
    return _CONFLICT


def lexicon_class(value: str) -> int | None:
    """The outcome code the lexicon gives one spelled value, or None when it cannot tell.

    The value's words without stage numbers ("Stage 3: Prospecting" → "prospecting") are looked
    up as one phrase; failing that, each word or phrase found in the value says something, and
    together: a word for won or for lost places it (both, or "not lost", place nothing); else a
    word of an open lead does, unless a word says the lead is closed ("Closed - Contacted").
    """
    whole, phrases, longest = _vocabulary()
    if _is_number(value):  # 1 and 0 only as the whole value; "2" or "0.5" says nothing
        return whole.get(value)
    found = outcome_words.status_words(value)
    core = [w for w in found if not w.isdigit() and w not in outcome_words.STAGE_WORDS] or found
    if not core:
        return None
    key = "".join(core)
    if key in whole:
        return whole[key]
    said: set[int] = set()
    negated = hedged = 0  # words left for a "not" or a "potential" to reach
    i = 0
    while i < len(core):
        for n in range(min(longest, len(core) - i), 0, -1):
            phrase = " ".join(core[i : i + n])
            if phrase in phrases:
                break
        else:
            word = core[i]
            if word in outcome_words.NEGATIONS:
                negated = 3
            elif word in outcome_words.HEDGES:
                hedged = 3
            else:  # "no longer interested": a word or two may sit between
                negated, hedged = max(negated - 1, 0), max(hedged - 1, 0)
            i += 1
            continue
        kind = phrases[phrase]
        if negated:
            kind = _negated(phrase, kind)
        elif hedged and kind == CONVERTED:
            kind = OPEN
        said.add(kind)
        negated = hedged = 0
        i += n
    if _CONFLICT in said or {CONVERTED, NOT_CONVERTED} <= said:
        return None
    for code in (CONVERTED, NOT_CONVERTED):
        if code in said:
            return code
    if OPEN in said and _CLOSED not in said:
        return OPEN
    return None


# -- the classes ---------------------------------------------------------------------------------
_LABELS = {
    CONVERTED: "converted",
    NOT_CONVERTED: "not converted",
    OPEN: "still open, never learned from",
}


@dataclass(frozen=True)
class TargetClasses:
    """Which spelled target values mean converted, not converted and still open, and why."""

    converted: frozenset[str]
    not_converted: frozenset[str]
    open: frozenset[str]
    how: Mapping[str, str]  # value -> "you said" | "lexicon" | "the only other value"

    def code_by_value(self) -> dict[str, int]:
        """Value → outcome code."""
        codes = dict.fromkeys(self.open, OPEN)
        codes.update(dict.fromkeys(self.not_converted, NOT_CONVERTED))
        codes.update(dict.fromkeys(self.converted, CONVERTED))
        return codes

    def codes(self, spelled: pd.Series) -> np.ndarray:
        """One ``np.int8`` outcome code per row of a target spelled by ``spell``;
        ``NO_OUTCOME`` for a blank. A value in no class is an error naming it."""
        rows, uniques = pd.factorize(spelled, use_na_sentinel=True)
        known = self.code_by_value()
        unknown = sorted({str(u) for u in uniques if u not in known})
        if unknown:
            raise DataError(
                f"target value{'s' if len(unknown) > 1 else ''} {_quoted(unknown)} "
                f"{'are' if len(unknown) > 1 else 'is'} in no class (converted, not converted, "
                "still open); say which with --positive, --negative or --open VALUE"
            )
        table = np.array([known[u] for u in uniques] + [NO_OUTCOME], dtype=np.int8)
        return table[rows]  # the sentinel -1 picks the last entry: NO_OUTCOME

    def lines(self, column: str) -> list[str]:
        """What was decided, one line per class that has values, e.g.
        ``target column 'status' — converted: 'closed won', 'won' (lexicon)``."""
        out = []
        for code, values in (
            (CONVERTED, self.converted),
            (NOT_CONVERTED, self.not_converted),
            (OPEN, self.open),
        ):
            if not values:
                continue
            parts = []
            for how in _HOW_ORDER:
                named = sorted(v for v in values if self.how.get(v, LEXICON) == how)
                if named:
                    parts.append(f"{', '.join(repr(v) for v in named)} ({how})")
            out.append(f"target column '{column}' — {_LABELS[code]}: {', '.join(parts)}")
        return out

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "converted": sorted(self.converted),
            "not_converted": sorted(self.not_converted),
            "open": sorted(self.open),
        }


def classify_target(
    values: Iterable[str],
    column: str,
    positive: str | Sequence[str] | None = None,
    negative: str | Sequence[str] | None = None,
    open: str | Sequence[str] | None = None,
) -> TargetClasses:
    """Place each distinct spelled value of the target (as ``spell`` gives them) in a class.

    The user's flags win; the rest by the lexicon; with two values and ``positive`` naming one,
    the other is not converted. Values named under two flags, a ``positive`` none of whose
    values occurs in the data (when it has two values or more), and values nothing places are
    each an error in one line. Values the user named that the data lacks are kept, so that the
    classes read other data (a later window) the same way.
    """
    present = sorted({v for v in values if isinstance(v, str) and v})
    said: dict[str, tuple[int, str]] = {}
    for flag, code, given in (
        ("--positive", CONVERTED, positive),
        ("--negative", NOT_CONVERTED, negative),
        ("--open", OPEN, open),
    ):
        for value in _spelled_flags(given):
            if value in said and said[value][0] != code:
                raise DataError(
                    f"target column '{column}': '{value}' is given with both {said[value][1]} "
                    f"and {flag}; name each value once"
                )
            said[value] = (code, flag)
    positives = {v for v, (code, _) in said.items() if code == CONVERTED}
    if positives and len(present) >= 2 and not positives & set(present):
        typed = [positive] if isinstance(positive, str) else list(positive or [])
        named = " or ".join(f"'{p}'" for p in typed)
        raise DataError(
            f"target column '{column}' has values {_listed(present)}, none of them {named}; "
            "say which value means converted with --positive"
        )

    code_of = {v: code for v, (code, _) in said.items()}
    how = dict.fromkeys(code_of, YOU_SAID)
    others = [v for v in present if v not in said]
    if positives and len(present) <= 2 and len(others) == 1:
        # A / B with --positive A: B is the rest, as leadml always read it (even "1" when the
        # user says "0" is converted); the lexicon only keeps a lost or open word its own.
        other = others.pop()
        placed = lexicon_class(other)
        if placed in (NOT_CONVERTED, OPEN) or (placed == CONVERTED and not positives & {*present}):
            code_of[other], how[other] = placed, LEXICON
        else:
            code_of[other], how[other] = NOT_CONVERTED, ONLY_OTHER
    unplaced = []
    for value in others:
        placed = lexicon_class(value)
        if placed is None:
            unplaced.append(value)
        else:
            code_of[value], how[value] = placed, LEXICON
    if unplaced:
        verb = "means" if len(unplaced) == 1 else "mean"
        raise DataError(
            f"target column '{column}': cannot tell whether {_quoted(unplaced)} {verb} "
            "converted, not converted or still open; say so with --positive, --negative or "
            "--open VALUE"
        )
    return TargetClasses(
        converted=frozenset(v for v, c in code_of.items() if c == CONVERTED),
        not_converted=frozenset(v for v, c in code_of.items() if c == NOT_CONVERTED),
        open=frozenset(v for v, c in code_of.items() if c == OPEN),
        how=MappingProxyType(how),
    )


def _listed(values: Sequence[str]) -> str:
    """Values as today's message shows them: ``['lost', 'won']``, long lists cut short."""
    if len(values) <= _SHOWN:
        return repr(list(values))
    return f"{values[:_SHOWN]!r} … and {len(values) - _SHOWN} more"


def schema_classes(schema: LeadSchema, values: Iterable[str]) -> TargetClasses:
    """The classes ``schema`` reads its target's ``values`` with (spelled by ``spell``): its
    ``positive``, ``negative`` and ``open`` values, the lexicon for the rest. Training,
    evaluation, monitoring and ``outcomes import`` all read outcomes through it."""
    return classify_target(
        values,
        schema.target,
        positive=schema.positive,
        negative=schema.negative,
        open=schema.open,
    )


def outcome_codes(series: pd.Series, schema: LeadSchema) -> np.ndarray:
    """One outcome code per row of a target column, read as ``schema`` reads its target."""
    text = spell(series)
    return schema_classes(schema, text.dropna().unique()).codes(text)
