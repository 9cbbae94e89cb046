"""A trained model's metrics on labelled leads it is given (a newer month, a hold-out)."""

from __future__ import annotations

import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.data.maturity import LabelRule
from leadml.data.validate import validate
from leadml.modeling.metrics import classification_metrics


def evaluate_model(model: LeadModel, frame: pd.DataFrame) -> dict[str, float]:
    """Validate ``frame`` against the model's schema, score it, and measure: the same metrics
    as training reports, plus the number of leads they rest on. Outcomes are read as the
    model's label: within its horizon, open and too-young leads left out."""
    rule = LabelRule(horizon=model.horizon_days or "none")
    checked = validate(frame, model.schema, min_class_count=1, rule=rule)
    p = model.predict_proba(model.encoder.transform(checked.frame))
    return classification_metrics(checked.y, p) | {"rows": len(checked.frame)}
