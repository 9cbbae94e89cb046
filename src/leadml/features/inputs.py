"""What the model makes of a lead's inputs, said to whoever sent them.

A value the model cannot read is scored as unknown, which is the right thing to do and the
wrong thing to keep quiet about. This module says it, by one rule for a file (``leadml
score``), a lead sent to the API and a file uploaded to the page (which sends its leads to the
API as the file writes them, blanks left out), so the three say the same of the same lead:

* **warnings per lead**: fields that came without a value ("Not sent, scored as unknown":
  absent, null, blank, or a placeholder that means unknown such as "N/A"), a category never
  seen in training (field and value), a number beyond anything seen in training (the trees
  read it as the nearest value seen: "scored as 40"), text that is not a number, a date or
  yes/no. A form's default answer ("Select") in a field the model knows as "(not answered)"
  is no warning: it is an answer the model learned from, which converts its own way (where
  the model does not know it, it is scored as unknown and listed as not sent);
* **impossible values**: a negative number for a field that was never negative in training (a
  count, a number of days, a revenue) is refused, naming the field, never scored;
* **too little to score**: a table or a lead that gives fewer than half of the model's fields
  (``min_field_share``) is refused with one line naming what is missing, unless sparse input
  is allowed: a lead scored from nothing gets the average grade, which reads like a judgement.

Training ranges come from LightGBM's own record of its training data (``feature_infos`` in the
model file), so old bundles and models trained on Dask have them too.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import setting_default
from leadml.data.parse import ParsedColumn
from leadml.data.validate import rows_text
from leadml.data.values import NOT_ANSWERED
from leadml.errors import DataError
from leadml.features.facts import TrainedModel, booster_ranges
from leadml.schema.spec import DATE_KINDS

#: Share of the model's fields a table or a lead must give to be scored (unless allowed).
MIN_FIELD_SHARE: float = setting_default("min_field_share")
#: Field names a message lists before "… and N more".
LISTED = 8
#: Joins a lead's warnings in one CSV cell (as reasons are joined).
WARNING_SEPARATOR = " | "


def training_ranges(model: TrainedModel) -> dict[str, tuple[float, float]]:
    """Numeric feature → (lowest, highest) value in the training data, read from the booster
    once per model and kept in its facts (every lead sent to the API is checked against it)."""
    facts = model.facts
    if facts.ranges is None:
        facts.ranges = booster_ranges(model.booster, model.encoder)
    return facts.ranges


def never_negative(model: TrainedModel) -> dict[str, float]:
    """Fields that were never negative in training → their highest value: a negative value
    there is impossible (a count, a number of days), not merely unusual."""
    return {n: hi for n, (lo, hi) in training_ranges(model).items() if lo >= 0}


def number_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4g}"


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" … and {len(names) - LISTED} more" if len(names) > LISTED else "")


# -- coverage ------------------------------------------------------------------------------------
def input_fields(model: TrainedModel) -> list[str]:
    """The raw fields the model reads (a date column once, however many features use it)."""
    encoder = model.encoder
    return list(dict.fromkeys(encoder.sources.get(n, n) for n in encoder.names))


def needed_fields(total: int, min_share: float) -> int:
    return max(1, math.ceil(min_share * total))


def sparse_message(missing: Sequence[str], total: int, min_share: float) -> str:
    given = total - len(missing)
    return (
        f"{given} of the model's {total} fields given, at least "
        f"{needed_fields(total, min_share)} needed (missing: {_listed(list(missing))})"
    )


def check_table_fields(
    model: TrainedModel, given: Collection[str], min_share: float | None = MIN_FIELD_SHARE
) -> list[str]:
    """The model's fields a table does not give (``given``: its columns that hold a value);
    raises a one-line :class:`DataError` when fewer than ``min_share`` of them are given
    (None: any share is allowed)."""
    fields = input_fields(model)
    missing = [c for c in fields if c not in given]
    share = 0.0 if min_share is None else min_share
    if len(fields) - len(missing) < needed_fields(len(fields), share) or len(missing) == len(
        fields
    ):
        hint = "" if min_share is None else ", or pass --allow-sparse to score it anyway"
        raise DataError(
            f"the table shares too few of the model's fields to score: "
            f"{sparse_message(missing, len(fields), share)}; check it is the right "
            f"export{hint}"
        )
    return missing


def lead_missing_fields(fields: Sequence[str], lead: Mapping[str, Any]) -> list[str]:
    """The model's fields a lead leaves out or sends empty."""
    return [c for c in fields if lead.get(c) is None]


# -- one lead (the API) --------------------------------------------------------------------------
def lead_warnings(
    model: TrainedModel,
    lead: Mapping[str, Any],
    row: np.ndarray,
    sent: Collection[str] | None = None,
) -> list[dict]:
    """Warnings for one lead dict (raw or validated) and the row it was encoded into, by the
    module's rule; ``sent``: the fields the client sent (default: the dict's keys)."""
    sent = lead.keys() if sent is None else sent
    encoder = model.encoder
    ranges = training_ranges(model)
    labels = {f.name: f.label for f in model.schema.features}
    out: list[dict] = []
    left_out: list[str] = []
    for j, (name, kind) in enumerate(zip(encoder.names, encoder.kinds, strict=True)):
        column = encoder.sources.get(name, name)
        value = encoder.answer(j, lead.get(column)) if column in sent else None
        code = float(row[j])
        label = labels.get(name, name)
        if value is None or (value == NOT_ANSWERED and code != code):
            if column not in left_out:
                left_out.append(column)
            continue
        if code != code:
            if kind == "categorical" or kind == "ordinal":
                out.append(unseen_warning(name, label, str(value)))
            elif kind in DATE_KINDS:
                out.append(unreadable_warning(column, label, "a date"))
            elif kind == "boolean":
                out.append(unreadable_warning(name, label, "yes or no"))
            else:  # the API refuses such numbers; a raw lead (the Python API) is told
                out.append(unreadable_warning(name, label, "a number"))
        elif name in ranges:
            note = clip_warning(name, label, code, ranges[name])
            if note:
                out.append(note)
    if left_out:
        out.insert(0, left_out_warning(left_out))
    return out


def unseen_warning(name: str, label: str, value: str) -> dict:
    return {
        "field": name,
        "kind": "unseen",
        "value": value,
        "message": f"{label} '{value}' was never seen in training: scored as unknown",
    }


def unreadable_warning(name: str, label: str, expected: str) -> dict:
    return {
        "field": name,
        "kind": "unreadable",
        "message": f"{label} is not {expected}: scored as unknown",
    }


def clip_warning(name: str, label: str, value: float, bounds: tuple[float, float]) -> dict | None:
    lo, hi = bounds
    if lo <= value <= hi:
        return None
    edge, side = (hi, "above") if value > hi else (lo, "below")
    return {
        "field": name,
        "kind": "clipped",
        "value": value,
        "message": f"{label} {number_text(value)} is {side} anything seen in training: "
        f"scored as {number_text(edge)}",
    }


def left_out_warning(columns: list[str]) -> dict:
    return {
        "field": None,
        "kind": "left_out",
        "fields": columns,
        "message": f"Not sent, scored as unknown: {_listed(columns)}",
    }


# -- a table (files, Dask partitions) ------------------------------------------------------------
def check_negatives(model: TrainedModel, x: np.ndarray, where: str = "") -> None:
    """Refuse negative values in fields that were never negative in training (one line)."""
    highest = never_negative(model)
    for j, name in enumerate(model.encoder.names):
        if name not in highest:
            continue
        bad = x[:, j] < 0
        if bad.any():
            hi = highest[name]
            raise DataError(
                f"{where}column '{name}' has negative values ({rows_text(bad)}); it was never "
                f"negative in training (0 to {number_text(hi)}): fix the export"
            )


def _not_sent(model: TrainedModel, parsed: Mapping[str, ParsedColumn], x: np.ndarray) -> np.ndarray:
    """Each row's "Not sent" warning ("" for none): the model's fields that came without a
    value (column absent, blank or a placeholder, or "(not answered)" where the model does
    not know that state), worded once per pattern of such fields."""
    encoder = model.encoder
    columns = input_fields(model)
    blank = np.zeros((len(x), len(columns)), dtype=bool)
    for j, name in enumerate(encoder.names):
        column = encoder.sources.get(name, name)
        found = parsed.get(column)
        k = columns.index(column)
        if found is None:
            blank[:, k] = True
        else:
            blank[:, k] |= ~found.given | (found.not_answered & np.isnan(x[:, j]))
    out = np.full(len(x), "", dtype=object)
    if not len(x) or not blank.any():
        return out
    patterns, which = np.unique(blank, axis=0, return_inverse=True)
    which = which.reshape(-1)
    for p, pattern in enumerate(patterns):
        if pattern.any():
            named = [c for c, on in zip(columns, pattern, strict=True) if on]
            out[which == p] = left_out_warning(named)["message"]
    return out


def table_warnings(
    model: TrainedModel, typed: pd.DataFrame, parsed: Mapping[str, ParsedColumn], x: np.ndarray
) -> list[str]:
    """Each row's warnings as text joined by " | " ("" for none), worded once per distinct
    value, in the order the API gives them: fields not sent, then unseen categories,
    unreadable values and numbers beyond the training range, field by field."""
    encoder = model.encoder
    ranges = training_ranges(model)
    labels = {f.name: f.label for f in model.schema.features}
    n = len(x)
    out = _not_sent(model, parsed, x)
    for j, (name, kind) in enumerate(zip(encoder.names, encoder.kinds, strict=True)):
        column = encoder.sources.get(name, name)
        if column not in parsed:
            continue
        label = labels.get(name, name)
        lost = parsed[column].given & ~parsed[column].not_answered & np.isnan(x[:, j])
        texts = np.full(n, "", dtype=object)
        if lost.any():
            if kind in ("categorical", "ordinal"):
                # by code, not by value: a column with gaps compares to <NA>, not to False
                codes, uniques = pd.factorize(typed[column], use_na_sentinel=True)
                for code in np.unique(codes[lost]).tolist():
                    if code >= 0:
                        cells = lost & (codes == code)
                        message = unseen_warning(name, label, str(uniques[code]))["message"]
                        texts[cells] = message
            else:
                expected = (
                    "a date"
                    if kind in DATE_KINDS
                    else ("yes or no" if kind == "boolean" else "a number")
                )
                texts[lost] = unreadable_warning(name, label, expected)["message"]
        if name in ranges:
            lo, hi = ranges[name]
            for cells in (x[:, j] > hi, x[:, j] < lo):
                for value in np.unique(x[cells, j]):
                    note = clip_warning(name, label, float(value), (lo, hi))
                    texts[cells & (x[:, j] == value)] = note["message"] if note else ""
        has = texts != ""
        joined = has & (out != "")
        out[joined] = out[joined] + WARNING_SEPARATOR + texts[joined]
        out[has & ~joined] = texts[has & ~joined]
    return out.tolist()
