"""The table ``leadml score`` writes, on one machine or per Dask partition: every input column
(id first), then probability, score, grade, tier and stage, and with explanations the criteria
and reasons. Each lead is parsed and encoded once for both.
"""

from __future__ import annotations

import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.explain.attributions import explanation_columns

#: Columns scoring adds; an input that already has them gets fresh ones.
SCORE_COLUMNS = ("probability", "score", "grade", "tier", "stage")


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
    """``frame`` scored (see the module's docstring); its index is reset."""
    frame = frame.drop(columns=replaced_columns(list(frame.columns))).reset_index(drop=True)
    x = model.encoder.transform(model.encoder.parse(frame))
    labels = model.bands.labels(model.predict_proba(x, num_threads=num_threads))
    parts = [frame, labels]
    if explain:
        parts.append(explanation_columns(model, frame, framework, num_threads, x=x))
    result = pd.concat(parts, axis=1)
    key = model.schema.id
    if key and key in result.columns:
        result = result[[key, *(c for c in result.columns if c != key)]]
    return result
