"""The decision columns of ``leadml score --explain``: what would move each lead, how sure the
model is, and whether the lead is unlike the training leads.

They sit beside the explanation columns (:func:`explanation_columns`), read its criteria
verdicts, and reuse the matrix the table was scored from, so a lead is encoded once for all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.explain.next_steps import criteria_met, next_steps, next_steps_column
from leadml.explain.reasons import REASON_SEPARATOR
from leadml.features.novelty import novelty_table, unfamiliar
from leadml.qualify.interval import interval_columns, interval_one
from leadml.schema.frameworks import framework_criteria

if TYPE_CHECKING:
    from leadml.explain.explanation import LeadExplanation


def _met(explained: pd.DataFrame, criteria: tuple[str, ...]) -> list[dict[str, bool | None]]:
    columns = {c: explained[f"{c}_met"].tolist() for c in criteria if f"{c}_met" in explained}
    return [
        {c: (None if pd.isna(v[i]) else bool(v[i])) for c, v in columns.items()}
        for i in range(len(explained))
    ]


def decision_columns(
    model: LeadModel,
    x: np.ndarray,
    probability: np.ndarray,
    explained: pd.DataFrame,
    framework: str = "bant",
    num_threads: int = 0,
) -> pd.DataFrame:
    """``next_steps`` (texts joined by " | "), ``certainty``, ``interval_low`` and
    ``interval_high`` (the 90 % outcome interval), ``unfamiliar`` and ``unfamiliar_reasons``,
    indexed like ``explained``."""
    criteria = tuple(framework_criteria(framework))
    steps = next_steps(model, x, _met(explained, criteria), framework, num_threads)
    columns: dict[str, object] = {"next_steps": next_steps_column(model, steps)}
    columns.update(interval_columns(model.meta.get("interval"), probability))
    flags = unfamiliar(model, x)
    # By the model, not the rows: every part of a table on Dask gets the same columns.
    if novelty_table(model) is not None:
        columns["unfamiliar"] = pd.array(
            [None if f is None else f["unfamiliar"] for f in flags], dtype="boolean"
        )
        columns["unfamiliar_reasons"] = [
            "" if f is None else REASON_SEPARATOR.join(f["reasons"]) for f in flags
        ]
    return pd.DataFrame(columns, index=explained.index)


def lead_decisions(
    model: LeadModel,
    x: np.ndarray,
    probabilities: Sequence[float],
    explanations: Sequence[LeadExplanation] | None,
    warnings: Sequence[list[dict]] | None = None,
    num_threads: int = 0,
) -> list[dict[str, Any]]:
    """Per lead: ``interval`` and ``unfamiliar`` (None when the model has none), and with
    explanations ``next_steps`` (:class:`NextStep` objects); for the API, the card and the
    page alike. ``warnings``: each lead's input warnings, whose unseen categories count."""
    spec = model.meta.get("interval")
    flags = unfamiliar(model, x, list(warnings) if warnings is not None else None)
    steps: list[list[Any]] = [[] for _ in probabilities]
    if explanations is not None and len(explanations):
        framework = explanations[0].framework
        met = [criteria_met(e) for e in explanations]
        steps = next_steps(model, x, met, framework, num_threads=num_threads)
    return [
        {"interval": interval_one(spec, float(p)), "unfamiliar": flag, "next_steps": lead_steps}
        for p, flag, lead_steps in zip(probabilities, flags, steps, strict=True)
    ]
