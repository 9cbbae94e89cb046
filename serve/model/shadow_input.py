"""The challenger's input, read off the matrix the champion has just scored.

Encoding leads is most of the shadow's work (about 15 µs a lead in Python, holding the GIL the
event loop needs), and the champion has just done it for the same leads. When the challenger
encodes each of its features as the champion does (same kind, same source column, same ordinal
answers, and every category it knows known to the champion too, with the same missing-value
words, time column and day order), its matrix is the champion's columns, picked and reordered,
with category codes renumbered: a few numpy operations a batch instead of a Python call per
cell. Exact, not approximate: a value the champion read as missing (blank, a placeholder, a
category it never saw) is one the challenger would read as missing too, and a date's age is
the one taken when the request was answered.

When a feature cannot be read off that way (a category only the challenger knows, a feature
the champion does not use), there is no translation and the shadow encodes the leads itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from leadml.features.encoder import FeatureEncoder

#: The champion's (n, its features) matrix → the challenger's (n, its features) matrix.
Translation = Callable[[np.ndarray], np.ndarray]


def _same_reading(champion: FeatureEncoder, challenger: FeatureEncoder) -> bool:
    """Whether raw values mean the same to both: missing words, form defaults kept apart as
    "(not answered)" (and the ordinals coding it), time column, day order."""
    return (
        champion.missing_values,
        champion.unanswered,
        champion.not_answered,
        champion.time,
        champion.day_first,
    ) == (
        challenger.missing_values,
        challenger.unanswered,
        challenger.not_answered,
        challenger.time,
        challenger.day_first,
    )


def matrix_translation(champion: FeatureEncoder, challenger: FeatureEncoder) -> Translation | None:
    """How to turn the champion's encoded leads into the challenger's, or None when a feature
    of the challenger's cannot be read off the champion's matrix exactly."""
    if not _same_reading(champion, challenger):
        return None
    position = {name: i for i, name in enumerate(champion.names)}
    columns: list[int] = []
    recode: dict[int, np.ndarray] = {}
    for j, (name, kind) in enumerate(zip(challenger.names, challenger.kinds, strict=True)):
        i = position.get(name)
        if i is None or champion.kinds[i] != kind:
            return None
        if champion.sources.get(name) != challenger.sources.get(name):
            return None
        theirs, mine = champion.levels.get(name), challenger.levels.get(name)
        if theirs != mine:
            # Renumbered when the challenger knows no category the champion does not; an
            # ordinal's answers are the API's own and may not differ at all.
            if kind != "categorical" or not set(mine or ()) <= set(theirs or ()):
                return None
            code = {level: k for k, level in enumerate(mine or ())}
            recode[j] = np.array([code.get(level, np.nan) for level in theirs or ()], dtype=float)
        columns.append(i)
    if not recode and columns == list(range(len(champion.names))):
        return lambda x: x  # the same encoding: read as is (nothing writes to it)

    def translate(x: np.ndarray) -> np.ndarray:
        out = x[:, columns]  # a copy: the champion's matrix is never written
        for j, table in recode.items():
            codes = out[:, j]
            known = ~np.isnan(codes)
            codes[known] = table[codes[known].astype(np.intp)]
        return out

    return translate
