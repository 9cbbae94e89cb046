"""Plain reasons from a lead's own answers: "Requested a demo", "Budget 50k–100k", "No activity
for 45 days".

Each feature's value is worded with the schema's ``reason`` / ``reason_true`` / ``reason_false``
templates; columns without one fall back to "{display}: {value}", and missing values read
"Budget not stated" or "Annual revenue unknown". Numbers are written as people write them
(1,200; 2.4M) and "1 days" becomes "1 day". PII columns are never features, so they can never
appear in a reason.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from typing import Any

from leadml.schema.spec import FeatureSpec

TOP_REASONS = 3
#: Joins reason texts in one CSV cell.
REASON_SEPARATOR = " | "
_SINGULAR = re.compile(r"\b1 (\w+?)s\b")


@dataclass(frozen=True)
class Reason:
    """One plain-language reason and the contribution (log-odds) behind it."""

    text: str
    feature: str
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "feature": self.feature, "contribution": self.contribution}


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


def _label(spec: FeatureSpec | None, name: str) -> str:
    return spec.label if spec is not None else name.replace("_", " ").capitalize()


def _fill(template: str, value: str, label: str) -> str | None:
    try:
        return template.format(value=value, display=label)
    except (KeyError, IndexError, ValueError):
        return None  # a bring-your-own template with stray braces: use the fallback


def reason_text(spec: FeatureSpec | None, name: str, kind: str, value: Any) -> str:
    """Words for one feature's value, from the schema's templates or a readable fallback."""
    label = _label(spec, name)
    if value is None:
        # Unanswered qualification questions read differently from unknown company facts.
        verb = "not stated" if kind in ("ordinal", "boolean") else "unknown"
        return f"{label} {verb}"
    if kind == "boolean":
        flag = bool(value)
        own = (spec.reason_true if flag else spec.reason_false) if spec is not None else None
        if own:
            return own
        shown = "yes" if flag else "no"
    elif kind == "month":
        shown = calendar.month_name[int(value)]
    elif kind == "weekday":
        shown = calendar.day_name[int(value)]
    elif kind == "age_days":
        shown = format_number(round(float(value)))  # whole days: "45", not "44.63"
    elif kind == "numeric":
        shown = format_number(value)
    else:
        shown = str(value)
    if spec is not None and spec.reason:
        text = _fill(spec.reason, shown, label)
        if text:
            # "1 days", "1 emails" → "1 day", "1 email": templates are written for plurals.
            return _SINGULAR.sub(r"1 \1", text) if shown == "1" else text
    return f"{label}: {shown}"
