"""Who has a field filled in: the leakage guard's evidence from fill patterns.

A column copied from a closed-deals table is filled for converted leads only; a profile or a
rating sales fill in once they have spoken to a lead is filled for far more of the converted
leads than of the others, and one of its levels converts far apart from the unanswered rows.
Either way, *whether* the field is filled gives the outcome away, whatever its values. Both
rules read "filled" as a person would: a form's placeholder ("Select", "--None--", see
:mod:`leadml.data.values`) is not an answer.

The softer rule needs more than a fill ratio, because honest history is filled more often for
the leads who convert too: bank's ``poutcome`` (the previous campaign's outcome, known before
the call) is answered for 36% of converted leads and 16% of the others, and its "success"
converts at 65% against 9%. What tells a rep's field apart is that its values read like a
rep's judgement ("Potential Lead", "Hot", "Might be", "Not interested"): then twice the share
is enough; without such values it takes three times.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from leadml.data.values import NOT_ANSWERED, blank_key, is_placeholder, placeholder_keys
from leadml.schema.lexicon import JUDGEMENT_VALUE_WORDS, name_words
from leadml.schema.spec import FeatureSpec

#: "Filled for one class only": the other class's fill rate is at most this ...
FILL_OTHER_MAX = 0.01
#: ... while the first class's is at least this (and ten times the other's).
FILL_ONE_MIN = 0.05
#: Or, more loosely, "mostly filled for one class": at least this for one, a tenth for the other.
FILL_MOSTLY = 0.30
#: "Set by sales after contact": answered for this many times the share of one class as of the
#: other when its values read like a rep's judgement (on this share of its answered rows) ...
SALES_FILL_RATIO = 2.0
JUDGEMENT_SHARE = 0.2
#: ... or this many times when they do not (bank's honest "poutcome" is at 2.3).
PLAIN_FILL_RATIO = 3.0
#: The fuller class answers it this often at least, and a level of it (on this many rows or
#: more) converts at these odds against the unanswered rows', this many points apart.
SALES_FILL_MIN = 0.10
LEVEL_ROWS = 30
LEVEL_ODDS = 2.0
LEVEL_GAP = 0.05


def fill_evidence(present: np.ndarray, y: np.ndarray) -> str | None:
    """A column filled for (almost) only one class, as columns copied from deals are."""
    pos, neg = y == 1, y == 0
    rates = {"converted leads": present[pos].mean(), "the others": present[neg].mean()}
    (hi_name, hi), (lo_name, lo) = sorted(rates.items(), key=lambda kv: -kv[1])
    only = hi >= FILL_ONE_MIN and lo <= FILL_OTHER_MAX and hi >= 10 * lo
    mostly = hi >= FILL_MOSTLY and lo <= hi / 10
    if not (only or mostly):
        return None
    return f"filled for {hi:.0%} of {hi_name} but {lo:.0%} of {lo_name}"


def answer_codes(values: pd.Series, missing: Collection[str]) -> tuple[np.ndarray, pd.Index]:
    """Per row, the code of its answer (-1: blank or a form's placeholder), and the answers."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = placeholder_keys(missing) | {blank_key(NOT_ANSWERED)}
    blank = np.array([is_placeholder(str(u), keys) for u in uniques] + [True], dtype=bool)
    return np.where(blank[codes], -1, codes), pd.Index(uniques)


def answered(values: pd.Series, missing: Collection[str]) -> np.ndarray:
    """Which rows hold an answer: not blank, and for text neither a form's placeholder nor
    "(not answered)", the state a schema that keeps form defaults apart types them as."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.notna().to_numpy()
    return answer_codes(values, missing)[0] >= 0


def sales_fill_evidence(
    spec: FeatureSpec, values: pd.Series, converted: np.ndarray, missing: Collection[str]
) -> str | None:
    """A field sales set after contact, seen in who has it filled in (module docstring): its
    fill rates per class, the level furthest from the unanswered rows, and how many levels
    read like a rep's judgement (counted, never quoted)."""
    if spec.kind not in ("categorical", "ordinal"):
        return None
    codes, answers = answer_codes(values, missing)
    filled, pos = codes >= 0, converted == 1
    if min(filled.sum(), (~filled).sum()) < LEVEL_ROWS or pos.all() or not pos.any():
        return None
    rates = {"converted leads": filled[pos].mean(), "the others": filled[~pos].mean()}
    (hi_name, hi), (lo_name, lo) = sorted(rates.items(), key=lambda kv: -kv[1])
    counts = np.bincount(codes[filled], minlength=len(answers))
    levels = np.flatnonzero(counts)  # the answers, without "(not answered)" or a placeholder
    judged = [i for i in levels if set(name_words(str(answers[i]))) & JUDGEMENT_VALUE_WORDS]
    judgement = counts[judged].sum() >= JUDGEMENT_SHARE * filled.sum()
    ratio = hi / lo if lo > 0 else np.inf
    if hi < SALES_FILL_MIN or ratio < (SALES_FILL_RATIO if judgement else PLAIN_FILL_RATIO):
        return None
    base = converted[~filled].mean()
    level_rates = np.bincount(codes[filled], weights=converted[filled], minlength=len(answers))
    level_rates = np.divide(level_rates, counts, out=np.zeros(len(counts)), where=counts > 0)
    sign = 1.0 if hi_name == "converted leads" else -1.0  # the fuller class's direction
    apart = np.where(counts >= LEVEL_ROWS, sign * (level_rates - base), -1.0)
    best = int(np.argmax(apart))
    odds = _odds(level_rates[best]) / max(_odds(base), 1e-9)
    if apart[best] < LEVEL_GAP or max(odds, 1 / max(odds, 1e-9)) < LEVEL_ODDS:
        return None
    words = (
        f"; {len(judged)} of its {len(levels)} levels read like a rep's judgement of the lead"
        if judgement
        else ""
    )
    return (
        f"set by sales after contact, by its fill pattern: answered for {hi:.0%} of {hi_name} "
        f"but {lo:.0%} of {lo_name} ({ratio:.1f}×), and one of its levels converts at "
        f"{level_rates[best]:.0%} against {base:.0%} where it is unanswered{words}"
    )


def _odds(rate: float) -> float:
    return rate / max(1.0 - rate, 1e-9)
