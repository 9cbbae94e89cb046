"""Where a feature sits in sales' vocabulary, read from its name and values, with the evidence.

A group (source, engagement, qualification, firmographic, demographic, financial, market,
calendar) and a criterion (budget, authority, need, timing, or GPCT's goals) are what let an
explanation say "budget" instead of "Other": a column no rule places rolls up under "Other",
and an export whose need answer lands there is read as one that records no need. Names decide
first, since a form's question says what its answers are ("What matters most to you in
choosing a course" is a need); values decide when the name says nothing ("Better Career
Prospects" is a goal, "Organic Search" a channel, "Sales Manager" a job title).

A column naming the company's own people or teams (a sales agent, an owner, an SDR id) is not
a trait of the lead at all: it says who worked the lead, which follows the outcome (the best
reps get the best leads) and which no rep can act on. It is told apart here and left out by
default, said why.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np

from leadml.schema.group_words import (
    CALENDAR_FILLERS,
    CALENDAR_NAMES,
    CHANNEL_NAMES,
    CHANNEL_VALUES,
    CRITERION_NAMES,
    CURRENCY_MARKS,
    GROUP_NAMES,
    MONTH_VALUES,
    NEED_VALUE_WORDS,
    NO_CRITERION_GROUPS,
    NOT_STAFF_NAMES,
    PRODUCT_NAMES,
    QUALIFICATION_CRITERIA,
    STAFF_NAMES,
    STAFF_QUALIFIERS,
    TIME_VALUE_WORDS,
    TITLE_VALUE_WORDS,
    WEAK_STAFF_NAMES,
    WEEKDAY_VALUES,
)
from leadml.schema.lexicon import fold, name_words, spelled_words

#: Share of a column's levels that must be job titles for its criterion to be authority.
TITLE_SHARE = 0.3
#: Share of levels that must be time horizons, amounts of money, goals or channels.
VALUE_SHARE = 0.5
#: Share of levels that must be month or weekday names for a calendar field.
CALENDAR_SHARE = 0.9
#: Levels that say nothing about what a column holds ("Other", "None", "Multiple Sources").
_VAGUE = frozenset({"other", "others", "outro", "outros", "otro", "otros", "inne", "none"})


@dataclass(frozen=True)
class Placement:
    """A feature's group and criterion, and the evidence in a few words ("" when unplaced)."""

    group: str = "other"
    criterion: str = "none"
    evidence: str = ""


def _quoted(column: str, hits: list[str]) -> str:
    """``name words 'matters', 'choosing'`` in the name's own spelling."""
    spelled = spelled_words(column)
    shown = [" ".join(spelled.get(w, w) for w in hit.split()) for hit in hits]
    label = "name word" if len(shown) == 1 and " " not in shown[0] else "name words"
    return f"{label} " + ", ".join(f"'{w}'" for w in shown)


def _best(found: dict[str, list[str]]) -> str | None:
    """The key with the most weight (a phrase counts two words); the first one on a tie."""
    weights = {k: sum(2 if " " in h else 1 for h in hits) for k, hits in found.items() if hits}
    return max(weights, key=lambda k: weights[k]) if weights else None


def _share(levels: list[list[str]], test) -> float:
    return float(np.mean([bool(test(words)) for words in levels])) if levels else 0.0


def _calendar(tokens: list[str], levels: list[str] | None) -> str | None:
    """Why the column is a date part (``day``, ``month``, values ``jan``…``dec``), or None."""
    named = [t for t in tokens if t in CALENDAR_NAMES]
    if named and all(t in CALENDAR_NAMES or t in CALENDAR_FILLERS for t in tokens):
        return f"a date part by its name ('{named[0]}')"
    if levels:
        folded = [fold(v).strip(" .") for v in levels]
        months = np.mean([v in MONTH_VALUES for v in folded])
        weekdays = np.mean([v in WEEKDAY_VALUES for v in folded])
        if max(months, weekdays) >= CALENDAR_SHARE:
            return f"values are {'month' if months >= weekdays else 'weekday'} names"
    return None


def place_column(column: str, levels: list[str] | None = None, *, flag: bool = False) -> Placement:
    """Group and criterion of a feature from its name, else from its values; with evidence.

    ``levels`` are a categorical column's distinct values (None for numbers and dates);
    ``flag`` says the column is yes/no, so a channel's name ("Search") marks its source.
    """
    tokens = name_words(column)
    if why := _calendar(tokens, levels):
        return Placement("calendar", "none", why)
    groups = {g: vocab.found(tokens) for g, vocab in GROUP_NAMES.items()}
    criteria = {c: vocab.found(tokens) for c, vocab in CRITERION_NAMES.items()}
    group, criterion = _best(groups), _best(criteria) or "none"
    if group in NO_CRITERION_GROUPS:
        return Placement(group, "none", _quoted(column, groups[group]))
    hits = list(dict.fromkeys([*criteria.get(criterion, []), *groups.get(group or "", [])]))
    evidence = [_quoted(column, hits)] if hits else []
    if group == "source" and flag and CHANNEL_NAMES.found(tokens):
        evidence = ["a yes/no flag named for a channel"]
    if group == "qualification" and criterion == "none" and PRODUCT_NAMES.found(tokens):
        criterion = "need"  # the course, product or plan the lead is after
    if levels and criterion == "none":
        criterion, from_values, why = _criterion_by_values(levels, named=group is not None)
        group = group or from_values
        evidence += [why] if why else []
    if group is None:
        group = "qualification" if criterion in QUALIFICATION_CRITERIA else "other"
    if criterion == "authority" and group == "other":
        group = "demographic"
    return Placement(group, criterion, "; ".join(evidence))


def _criterion_by_values(levels: list[str], named: bool) -> tuple[str, str | None, str]:
    """(criterion, group or None, why) from a categorical column's values.

    Job titles, time horizons and amounts of money say the criterion whatever the name; goals
    and channels only speak when the name placed nothing (an "Activity" of "Email Opened" is
    engagement, not a source)."""
    told = [v for v in levels if fold(v).strip() not in _VAGUE]
    split = [set(name_words(v)) for v in told]
    if _share(split, lambda w: w & TITLE_VALUE_WORDS) >= TITLE_SHARE:
        return "authority", "demographic", "values look like job titles"
    if _share(split, lambda w: w & TIME_VALUE_WORDS) >= VALUE_SHARE:
        return "timing", "qualification", "values are time horizons"
    money = np.mean([any(m in v.lower() for m in CURRENCY_MARKS) for v in told]) if told else 0
    if money >= VALUE_SHARE:
        return "budget", "qualification", "values are amounts of money"
    if named:
        return "none", None, ""
    if _share(split, lambda w: w & NEED_VALUE_WORDS) >= VALUE_SHARE:
        return "need", "qualification", "values are goals or pains"
    channels = [bool(CHANNEL_VALUES.found(name_words(v))) for v in told]
    if sum(channels) >= 2 and np.mean(channels) >= VALUE_SHARE:
        return "none", "source", "values are channels a lead comes through"
    return "none", None, ""


def staff_evidence(column: str, levels: list[str] | None = None) -> str | None:
    """Why a column names the company's own staff or teams who worked the lead, or None.

    By whole name words: ``Sales Agent``, ``Lead Owner``, ``sdr_id``, ``Responsável``,
    ``Equipe comercial``; not ``Team size``, ``Business owner``, ``Key account``. Words with
    everyday meanings (team, office, comercial) count only beside staff or sales words, and a
    column whose values are job titles is the lead's role, not a rep ("Job title": Manager).
    """
    tokens = name_words(column)
    if not tokens or NOT_STAFF_NAMES.found(tokens):
        return None
    strong = STAFF_NAMES.found(tokens)
    words_of = set(" ".join(strong).split())
    weak = [t for t in tokens if t in WEAK_STAFF_NAMES]
    alone = all(t in WEAK_STAFF_NAMES | STAFF_QUALIFIERS | words_of for t in tokens)
    if not strong and not (weak and alone):
        return None
    if levels:
        split = [set(name_words(v)) for v in levels]
        if _share(split, lambda w: w & TITLE_VALUE_WORDS) >= VALUE_SHARE:
            return None
    return _quoted(column, strong or weak)


def allow_hint(column: str) -> str:
    """The flag that keeps a left-out ``column`` (staff here, a flagged column in the leakage
    guard), quoted so that it pastes into a shell as one word. Here, not in the leakage guard,
    because this module is read on the serving path, which never imports scikit-learn."""
    return f"--allow {shlex.quote(column)}"


def staff_note(column: str, evidence: str) -> str:
    """The one line a staff column is left out with, and the flag that keeps it."""
    return (
        f"who worked the lead (staff), not a trait of the lead: {evidence}; keep it as a "
        f"feature with {allow_hint(column)}"
    )
