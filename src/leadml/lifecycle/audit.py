"""The fairness audit of a trained model on any lead table (``leadml audit``): the model's
probabilities and the table's settled outcomes, per group of each audit column
(:mod:`leadml.fairness`). Training audits its own held-out leads the same way
(:mod:`leadml.modeling.finish`); this is the rule for later data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from leadml.errors import LeadMLError

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.fairness.audit import Audit


def model_features(
    lead_model: LeadModel, frame: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The model's features as the audit reads them, the probabilities and each lead's SQL
    cut-off (its segment's), from one pass through the encoder."""
    from leadml.modeling.audit import audit_features

    x = lead_model.matrix(frame)
    features = audit_features(lead_model.encoder, x)
    return features, lead_model.predict_proba(x), lead_model.sql_cutoffs(x)


def settled_outcomes(lead_model: LeadModel, frame: pd.DataFrame) -> np.ndarray | None:
    """1 converted, 0 not, NaN open or blank; None when the file has no target column."""
    from leadml.data.target import CONVERTED, NOT_CONVERTED, outcome_codes

    target = lead_model.schema.target
    if target not in frame.columns:
        return None
    codes = outcome_codes(frame[target], lead_model.schema)
    y = np.where(codes == CONVERTED, 1.0, np.where(codes == NOT_CONVERTED, 0.0, np.nan))
    return y.astype(np.float64)


def audit_file(
    lead_model: LeadModel,
    frame: pd.DataFrame,
    columns: list[str],
    *,
    seed: int,
    resamples: int,
) -> tuple[Audit, list[str]]:
    """The audit of ``lead_model`` on ``frame`` by ``columns`` (the schema's when empty), and
    notes for the user (opted-out leads left out, audit columns that are features)."""
    from leadml.data.objections import audit_frame, drop_opted_out, opted_out_note
    from leadml.fairness.audit import audit_leads

    schema = lead_model.schema
    chosen = list(columns) or list(schema.audit)
    if not chosen:
        raise LeadMLError("give --audit COL: the model's schema names no audit columns")
    notes: list[str] = []
    if schema.opt_out and schema.opt_out in frame.columns:
        frame, count = drop_opted_out(frame, schema)
        notes += opted_out_note(schema, count)
    audit = audit_frame(frame, schema.model_copy(update={"audit": chosen}))
    if audit is None or frame.empty:
        raise LeadMLError("the data holds no leads to audit")
    used = set(lead_model.encoder.names) | set(lead_model.encoder.sources.values())
    notes += [
        f"'{c}' is a feature of this model: audited all the same" for c in chosen if c in used
    ]
    features, p, cutoff = model_features(lead_model, frame)
    y = settled_outcomes(lead_model, frame)
    result = audit_leads(audit, features, p, y, cutoff, seed=seed, resamples=resamples)
    return result, notes
