"""The table ``leadml score`` writes, on one machine or per Dask partition: every input column
(id first), then probability, score, grade, tier, stage and the lead's warnings (unseen
categories, unreadable values, numbers beyond the training range), and with explanations the
criteria in points, the verdict, fit and engagement, reasons, concerns and questions, and
the decisions (next steps, the 90 % outcome interval, the unfamiliar flag). Each lead is parsed and
encoded once for all of them.
"""

from __future__ import annotations

import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.explain.attributions import explanation_columns
from leadml.explain.decisions import decision_columns
from leadml.features.inputs import check_negatives, table_warnings

#: Columns scoring adds; an input that already has them gets fresh ones.
SCORE_COLUMNS = ("probability", "score", "grade", "tier", "stage", "warnings")


def replaced_columns(columns: list[str]) -> list[str]:
    """Input columns that scoring will replace with fresh scores (say so to the user)."""
    return [c for c in SCORE_COLUMNS if c in columns]


def score_table(
    model: LeadModel,
    frame: pd.DataFrame,
    explain: bool = False,
    framework: str = "bant",
    num_threads: int = 0,
) -> pd.DataFrame:
    """``frame`` scored (see the module's docstring); its index is reset. A negative value
    where training never had one stops it with a :class:`DataError` naming column and rows."""
    frame = frame.drop(columns=replaced_columns(list(frame.columns))).reset_index(drop=True)
    typed, parsed = model.encoder.parse_details(frame)
    x = model.encoder.transform(typed)
    check_negatives(model, x)
    probability = model.predict_proba(x, num_threads=num_threads)
    labels = model.labels(probability, x)
    labels["warnings"] = table_warnings(model, typed, parsed, x)
    parts = [frame, labels]
    if explain:
        explained = explanation_columns(model, frame, framework, num_threads, x=x)
        decided = decision_columns(model, x, probability, explained, framework, num_threads)
        parts += [explained, decided]
    result = pd.concat(parts, axis=1)
    key = model.schema.id
    if key and key in result.columns:
        result = result[[key, *(c for c in result.columns if c != key)]]
    return result
