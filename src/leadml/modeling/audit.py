"""The fairness audit made at training (:mod:`leadml.fairness`), on the backtest's headline
fold (the newest leads): each scored by a model that never learned from it, with its honest
probability and its segment's SQL cut-off. The newest fold, because the grade bands and the
SQL cut-off were chosen on it: on a history whose conversion climbs, older folds' leads sit
far below a cut-off chosen for the newest, and their selection rates would say nothing. The
audit columns come from the validated table (``Prepared.audit``) and leave this module only
as per-group aggregates, in ``metrics.json``, the report and MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.features.encoder import FeatureEncoder
    from leadml.modeling.judge import Backtest
    from leadml.modeling.prepare import Prepared


def audit_features(encoder: FeatureEncoder, x: np.ndarray) -> pd.DataFrame:
    """The model's features as the proxy search reads them: numbers as floats, categories as
    their codes in text (the values themselves are not needed to measure a proxy)."""
    features = pd.DataFrame(x, columns=encoder.names)
    for name, kind in zip(encoder.names, encoder.kinds, strict=True):
        if kind == "categorical":
            codes = features[name]
            features[name] = codes.map(lambda c: None if np.isnan(c) else f"{int(c)}")
    return features


def training_audit(
    model: LeadModel,
    data: Prepared,
    backtest: Backtest,
    settings: Settings,
    headline_p: np.ndarray,
) -> dict[str, Any] | None:
    """The audit of the headline fold's leads by the schema's audit columns (None: none
    named). ``headline_p``: each lead's probability as the grade bands were chosen on (the
    shipped model's scale), so the SQL cut-off selects the share it was chosen to."""
    if data.audit is None or data.audit.empty:
        return None
    from leadml.fairness.audit import audit_leads

    at = backtest.folds.headline.test
    x = data.rows.x[at]
    result = audit_leads(
        data.audit.iloc[at].reset_index(drop=True),
        audit_features(data.encoder, x),
        headline_p[at],
        data.rows.y[at].astype(np.float64),
        model.sql_cutoffs(x),
        seed=settings.seed,
        resamples=max(settings.bootstrap, 50),
    )
    judged = "the backtest's headline fold: the newest leads, by a model trained before them"
    return {**result.to_dict(), "lines": result.lines(), "judged": judged}
