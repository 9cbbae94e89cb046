"""Plain reasons from a lead's own answers: "Requested a demo", "Budget 50k–100k", "Last active
45 days ago".

Each feature's value is worded with the schema's ``reason`` / ``reason_true`` / ``reason_false``
templates; columns without one fall back to "{display}: {value}". Templates carry the units
("{value} minutes on site", "Founded {value} years ago") and are written as facts, so they read
right whether the value pushes the score up or down. Numbers are written as people write them
(1,200; 2.4M), and a value of 1 takes the singular: "1 site visits" becomes "1 site visit",
"Viewed pricing 1 times" "Viewed pricing 1 time".

Only fields a person can read are worded as reasons: :func:`can_be_reason` rules out
categories that are identifiers by name (``landing_page_id``) or by their values (hex hashes,
UUIDs), or that have too many levels to mean anything to a rep. A missing value is never a
reason either; :func:`reason_text` still words it ("Budget not stated", "Annual revenue
unknown") for displays of a lead's answers. PII columns are never features, so they can never
appear in a reason.

**What is listed** (one rule for the API, the CLI, the page and the scored file, applied where
reasons are chosen in :mod:`leadml.explain.attributions` and :mod:`leadml.explain.batch`): a
push below :data:`MIN_REASON_POINTS` of the 0–100 score is never listed, so a lead whose pushes
are all tiny gets an honest empty list, not "Downloaded 0 pieces of content −0.1 pts". A date's
weekday or month is never a reason on its own (a rep cannot argue with "a Thursday", and over a
few months of history a weekday mostly stands in for when the lead came in) unless the schema
gives it a ``reason`` template of its own; its points still count in its group's roll-up.

**A zero that pushes up says why.** "Page views per visit: 0" as a reason *for* a lead reads
like a bug to a rep; the model has learned that leads with none of it convert more often (on a
web-form export, the leads added by hand or by a partner never browse and convert best). Such
a reason keeps its place and says so: "Page views per visit: 0 (leads with none convert more
often here)", and likewise for the lowest value seen in training (:func:`rising_note`).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Sequence
from typing import Any

from leadml.data.identifiers import id_like_name, id_shaped_share
from leadml.data.values import NOT_ANSWERED
from leadml.schema.lexicon import words
from leadml.schema.spec import FeatureSpec

TOP_REASONS = 3
#: Pushes smaller than this, in points of the 0–100 score, are never listed as reasons or
#: concerns: a rep cannot act on a tenth of a point, and listing it buries the real reasons.
MIN_REASON_POINTS = 0.5
#: Date parts that are reasons only when the schema words them itself (see the docstring).
_DATE_PARTS = ("month", "weekday")
#: Joins reason texts in one CSV cell.
REASON_SEPARATOR = " | "
#: A categorical with more levels than this is never worded as a reason: no rep reads 100 codes.
MAX_WORDED_LEVELS = 100
#: How many words after a value of 1 may hold the noun it counts ("1 piece of content").
_COUNTED_WITHIN = 3
_WORD = re.compile(r"[^\W\d_]+")
#: Words ending in "s" that are not plural nouns.
_NOT_PLURAL = words(
    "its was has does this his hers ours yours theirs yes plus thus always perhaps news series",
    "species across towards afterwards besides whereas sometimes sales analytics logistics",
)
_IRREGULAR = {"people": "person", "children": "child", "men": "man", "women": "woman"}
#: Stands in for the value while a template is filled, so only words after it are counted.
_MARK = "\x00"


# -- wording -------------------------------------------------------------------------------------
def format_number(value: float) -> str:
    """Numbers as people write them: 45, 1,200, 3.5, 0.25, and 2.4M / 350k from 100,000 up."""
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    a = abs(x)
    if a >= 100_000:
        for unit, div in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
            if round(a / div, 1) >= 1:
                text = f"{x / div:,.1f}".removesuffix(".0")
                return f"{text}{unit}"
    if x.is_integer():
        return f"{int(x):,}"
    if a >= 1:
        return f"{x:,.1f}".removesuffix(".0")
    return f"{x:.2g}"


def singular(word: str) -> str | None:
    """The singular of a plural noun ("visits" → "visit", "companies" → "company", "boxes" →
    "box"), or None when ``word`` does not read as one ("business", "status", "analysis")."""
    lower = word.lower()
    if lower in _IRREGULAR:
        one = _IRREGULAR[lower]
        return one.capitalize() if word[:1].isupper() else one
    if (
        len(lower) < 3
        or not lower.endswith("s")
        or lower.endswith(("ss", "us", "is"))
        or lower in _NOT_PLURAL
    ):
        return None
    if lower.endswith("ies") and len(lower) > 4:
        return word[:-3] + ("Y" if word[-3:].isupper() else "y")
    if lower.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    return word[:-1]


def _count_one(tail: str) -> str:
    """The text after a value of 1 with the first plural noun of its next words singular."""
    for n, match in enumerate(_WORD.finditer(tail)):
        if n >= _COUNTED_WITHIN:
            break
        one = singular(match.group())
        if one is not None:
            return tail[: match.start()] + one + tail[match.end() :]
    return tail


def can_be_reason(
    name: str, kind: str, levels: Sequence[str] | None, spec: FeatureSpec | None = None
) -> bool:
    """Whether a feature's value can be worded for a person as a reason.

    Numbers, yes/no answers, ordinal answers and ages in days always can. A date's month or
    weekday can only when its ``spec`` has a ``reason`` template of its own (the schema says
    so). A categorical cannot when its name reads as an identifier (``landing_page_id``,
    ``campaign_key``, ``sdr_id``), when most of its known ``levels`` look like identifiers (hex
    hashes, UUIDs, long digit strings, long letter-and-digit codes), or when it has more than
    :data:`MAX_WORDED_LEVELS` levels. ``levels`` are the encoder's frozen levels for a
    categorical (None when unknown).
    """
    if kind in _DATE_PARTS:
        return spec is not None and bool(spec.reason) and not _inferred_template(spec)
    if kind != "categorical":
        return True
    if id_like_name(name):
        return False
    if levels is None:
        return True
    if len(levels) > MAX_WORDED_LEVELS:
        return False
    return id_shaped_share(levels) <= 0.5


def _source_label(spec: FeatureSpec | None, name: str) -> str:
    """The date a month or weekday is taken from, as a rep reads it ("Created at")."""
    source = spec.source if spec is not None and spec.source else name.rsplit("_", 1)[0]
    return source.replace("_", " ").strip().capitalize()


def _inferred_template(spec: FeatureSpec) -> bool:
    """Whether a date part's template is the one schema inference wrote before date parts
    stopped being reasons ("Created at: a {value}"): bundles trained then do not "say so"."""
    said = _source_label(spec, spec.name).replace("{", "{{").replace("}", "}}")
    return spec.reason in (f"{said}: a {{value}}", f"{said}: {{value}}")


def rising_note(kind: str, value: Any, lowest: float | None) -> str:
    """What to add to a reason *for* a lead whose number is 0 or the lowest seen in training
    (``lowest``), so that it never reads as "none of it is good" without saying why; "" for
    anything else. Only numbers: "0 days ago" pushing up needs no excuse."""
    if kind != "numeric" or value is None:
        return ""
    x = float(value)
    if x == 0:
        return " (leads with none convert more often here)"
    if lowest is not None and x <= lowest:
        return " (the lowest seen; leads this low convert more often here)"
    return ""


def _label(spec: FeatureSpec | None, name: str) -> str:
    return spec.label if spec is not None else name.replace("_", " ").capitalize()


def _fill(template: str, value: str, label: str) -> str | None:
    try:
        text = template.format(value=_MARK, display=label)
    except (KeyError, IndexError, ValueError):
        return None  # a bring-your-own template with stray braces: use the fallback
    if value == "1":
        # Templates are written for plurals: "1 site visits", "Viewed pricing 1 times",
        # "1 pieces of content" → "1 site visit", "Viewed pricing 1 time", "1 piece of content".
        head, *tails = text.split(_MARK)
        text = head + "".join(_MARK + _count_one(tail) for tail in tails)
    return text.replace(_MARK, value)


def reason_text(spec: FeatureSpec | None, name: str, kind: str, value: Any) -> str:
    """Words for one feature's value, from the schema's templates or a readable fallback."""
    label = _label(spec, name)
    if value is None:
        # Unanswered qualification questions read differently from unknown company facts.
        verb = "not stated" if kind in ("ordinal", "boolean") else "unknown"
        return f"{label} {verb}"
    if kind in ("categorical", "ordinal") and value == NOT_ANSWERED:
        return f"{label}: not answered"  # the lead saw the form's question and skipped it
    if kind == "boolean":
        flag = bool(value)
        own = (spec.reason_true if flag else spec.reason_false) if spec is not None else None
        if own:
            return own
        shown = "yes" if flag else "no"
    elif kind in _DATE_PARTS:
        shown = (calendar.month_name if kind == "month" else calendar.day_name)[int(value)]
        source = _source_label(spec, name)
        own = spec is not None and spec.display not in (None, f"{source}: {kind}")
        if not own and (spec is None or not spec.reason):  # no words of the user's own:
            return f"{source}: {'a ' if kind == 'weekday' else ''}{shown}"  # "Created at: March"
    elif kind == "age_days":
        days = round(float(value))  # whole days: "45", not "44.63"
        shown = format_number(days)
        if days < 0:  # a date after the lead came in: "N days ago" would be false
            return f"{label}: {shown}"
    elif kind == "numeric":
        shown = format_number(value)
    else:
        shown = str(value)
    if spec is not None and spec.reason:
        text = _fill(spec.reason, shown, label)
        if text:
            return text
    return f"{label}: {shown}"
