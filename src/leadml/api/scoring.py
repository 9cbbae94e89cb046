"""Scoring a table with a loaded model: what ``leadml score`` and ``Model.score`` both do.

The table is checked for enough of the model's fields first (too few: one line naming what
is missing, unless sparse input is allowed), then scored by
:func:`leadml.explain.table.score_table`. What a person should know (fields scored as
unknown, input columns replaced) comes back as notes; each caller shows them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from leadml.bundle.model import LeadModel
    from leadml.config import Settings


@dataclass
class Scored:
    """The scored table (``leadml score``'s columns) and the notes about its input."""

    table: pd.DataFrame
    notes: list[str]


def min_share(settings: Settings, allow_sparse: bool = False) -> float | None:
    """The share of the model's fields a table must give (None: any share will do)."""
    return None if allow_sparse or settings.allow_sparse else settings.min_field_share


def score_frame(
    model: LeadModel,
    frame: pd.DataFrame,
    *,
    explain: bool = False,
    framework: str = "bant",
    min_field_share: float | None = None,
) -> Scored:
    """``frame`` scored as ``leadml score`` writes it, after the field check."""
    from leadml.explain.table import replaced_columns, score_table
    from leadml.features.inputs import check_table_fields

    given = [c for c in frame.columns if frame[c].notna().any()]
    left_out = check_table_fields(model, given, min_field_share)
    notes = []
    if left_out:
        notes.append(f"not in the table, scored as unknown: {', '.join(left_out)}")
    replaced = replaced_columns(list(frame.columns))
    if replaced:
        notes.append(f"input columns {', '.join(replaced)} were replaced by fresh scores")
    if not model.schema.opt_out:
        return Scored(score_table(model, frame, explain, framework), notes)
    return Scored(_without_objecting(model, frame, explain, framework), notes)


def _without_objecting(
    model: LeadModel, frame: pd.DataFrame, explain: bool, framework: str
) -> pd.DataFrame:
    """``score_table`` of the leads that did not object to profiling (the schema's opt-out
    column); an objecting lead keeps its row, in place, with ``scored`` false and no
    probability, score or grade: the model never reads it (GDPR Art. 21)."""
    import numpy as np
    import pandas as pd

    from leadml.explain.table import score_table

    column = model.schema.opt_out
    flagged = (
        model.schema.opted_out(frame[column]).to_numpy(dtype=bool)
        if column in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    frame = frame.reset_index(drop=True)
    table = score_table(model, frame.loc[~flagged] if flagged.any() else frame, explain, framework)
    if flagged.any():
        table.index = np.flatnonzero(~flagged)
        aside = frame.loc[flagged]
        table = pd.concat([table, aside]).sort_index()[table.columns]
    at = 1 if model.schema.id and table.columns[0] == model.schema.id else 0
    table.insert(at, "scored", ~flagged)
    return table.reset_index(drop=True)
