"""Reasons and questions for a whole matrix at once: what ``leadml score --explain`` writes.

``_reasons`` and ``_questions`` in :mod:`leadml.explain.attributions` are the definitions (one
lead, plain Python); the functions here give the same answers, to the character, for every row
of a matrix at once, where a Python sort and a wording call per lead would cost as much as
LightGBM's ``pred_contrib`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from leadml.explain.reasons import MIN_REASON_POINTS, REASON_SEPARATOR, TOP_REASONS, rising_note
from leadml.explain.rollup import Plan
from leadml.explain.verdicts import QUESTION_SEPARATOR
from leadml.features.inputs import training_ranges

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel


def top_reasons(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every row's top positive and top negative features, as ``_reasons`` picks them.

    ``phi`` has the contributions of fields that cannot be reasons set to 0 (they then never
    pass the sign test below). Returns ``(positive, positive_ok, negative, negative_ok)``:
    ``(n, TOP_REASONS)`` column indices, largest positive first and most negative first, and
    masks of the slots that say something (a contribution of exactly 0, or one of the wrong
    sign, says nothing).

    The sort is numpy's *stable* argsort because ``_reasons`` ranks with Python's ``sorted``,
    which is stable: features with equal contributions keep column order, so the last of them
    counts as the "largest" positive and the first as the most negative one. An introsort
    (numpy's default) or ``argpartition`` would break such ties arbitrarily, and the batch
    reasons would then differ from the API's for the same lead. Contributions are finite
    (TreeSHAP of a trained booster), so NaN ordering never comes into it.
    """
    order = np.argsort(phi, axis=1, kind="stable")
    positive = order[:, ::-1][:, :TOP_REASONS]  # reversed(order[-TOP_REASONS:])
    negative = order[:, :TOP_REASONS]
    positive_ok = np.take_along_axis(phi, positive, axis=1) > 0
    negative_ok = np.take_along_axis(phi, negative, axis=1) < 0
    return positive, positive_ok, negative, negative_ok


#: Stands for every missing cell when grouping cells by their float bits (NaNs differ in bits).
_MISSING_BITS = np.float64(np.nan).view(np.int64)


def _reason_texts(
    model: LeadModel,
    plan: Plan,
    features: np.ndarray,
    codes: np.ndarray,
    ok: np.ndarray,
    rising: bool = False,
) -> np.ndarray:
    """The words for each chosen (feature, encoded value) cell; "" where ``ok`` is False;
    ``rising``: the cells are reasons for the lead, so a 0 says why (``rising_note``).

    Each distinct pair is worded once per call, through ``Plan.text`` exactly as ``_reasons``
    words it (same Python int and float arguments, so the same text and the same model-level
    cache of discrete values). Numeric values repeat a lot within a batch (counts, days,
    round revenues) but would grow a model-level cache without bound across batches, so they
    are shared only within this call. Values are grouped by their float bits, so two cells
    share a text only if ``_reasons`` would have been given the very same value.
    """
    texts = np.full(features.shape, "", dtype=object)
    for j in np.unique(features[ok]).tolist():
        cells = ok & (features == j)
        values = codes[cells]
        bits = np.where(np.isnan(values), _MISSING_BITS, values.view(np.int64))
        _, first, inverse = np.unique(bits, return_index=True, return_inverse=True)
        words = [plan.text(model, j, v) for v in values[first].tolist()]
        if rising:
            low = training_ranges(model).get(plan.names[j])
            kind, lowest = plan.kinds[j], low[0] if low else None
            words = [
                w + rising_note(kind, v, lowest)
                for w, v in zip(words, values[first].tolist(), strict=True)
            ]
        texts[cells] = np.array(words, dtype=object)[inverse.ravel()]
    return texts


def _joined(texts: np.ndarray, ok: np.ndarray, separator: str = REASON_SEPARATOR) -> list[str]:
    """Each row's texts where ``ok``, in slot order, joined by ``separator`` (one numpy
    string concatenation per slot instead of a ``join`` per lead)."""
    out = np.full(len(texts), "", dtype=object)
    started = np.zeros(len(texts), dtype=bool)
    for s in range(texts.shape[1]):
        add = ok[:, s]
        more = add & started
        out[more] = out[more] + separator + texts[more, s]
        first = add & ~started
        out[first] = texts[first, s]
        started |= add
    return out.tolist()


def batch_reasons(
    model: LeadModel, plan: Plan, x: np.ndarray, phi: np.ndarray, scale: np.ndarray
) -> tuple[list[str], list[str]]:
    """``reasons`` and ``concerns`` for every row (``scale``: each row's points per unit of
    log-odds, so pushes under ``MIN_REASON_POINTS`` are left out): what joining ``_reasons``'s
    texts with ``REASON_SEPARATOR`` lead by lead gives, to the character, at a small fraction
    of its cost."""
    x = np.asarray(x, dtype=np.float64)
    points = np.abs(phi * np.asarray(scale, dtype=np.float64).reshape(-1, 1))
    eligible = ~np.isnan(x) & plan.wordable & (points >= MIN_REASON_POINTS)
    positive, positive_ok, negative, negative_ok = top_reasons(np.where(eligible, phi, 0.0))
    texts = [
        _reason_texts(model, plan, chosen, np.take_along_axis(x, chosen, axis=1), ok, rising)
        for chosen, ok, rising in ((positive, positive_ok, True), (negative, negative_ok, False))
    ]
    return _joined(texts[0], positive_ok), _joined(texts[1], negative_ok)


def batch_questions(plan: Plan, x: np.ndarray, verdicts: np.ndarray) -> list[str]:
    """``questions`` for every row, as ``_questions`` words them, joined like reasons."""
    n = len(x)
    own = plan.own
    texts = np.full((n, len(own)), "", dtype=object)
    ok = np.zeros((n, len(own)), dtype=bool)
    missing = ~plan.answered(x)
    for c, (name, _, answers) in enumerate(plan.criterion_index):
        if not plan.asks(name):  # unrecorded: said once per model, never asked per lead
            continue
        unknown = verdicts[:, own[c]] < 0
        texts[unknown, c] = plan.question(name, None).text
        ok[:, c] = unknown
        if not answers:
            continue
        gaps = missing[:, list(answers)] & ~unknown[:, None]
        asked = gaps.any(axis=1)
        if not asked.any():
            continue
        patterns, inverse = np.unique(gaps[asked], axis=0, return_inverse=True)
        words = [
            plan.question(name, tuple(j for j, gap in zip(answers, row, strict=True) if gap)).text
            for row in patterns.tolist()
        ]
        texts[asked, c] = np.array(words, dtype=object)[inverse.ravel()]
        ok[:, c] |= asked
    return _joined(texts, ok, QUESTION_SEPARATOR)
