"""The data's one way through training: each date parsed once, the encoder fitted once, and
the leakage audit shown the training rows only."""

from __future__ import annotations

import sys
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from leadml.config import Settings
from leadml.data import parse
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.prepare import prepare_training
from leadml.modeling.train import train_leads
from leadml.schema import FeatureSpec, LeadSchema

N = 3000


def dated_leads(seed: int = 0) -> pd.DataFrame:
    """Leads with a time column and a second date that feeds three derived features."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 500, N)), "D")
    visited = created - pd.to_timedelta(rng.integers(0, 90, N), "D")
    visits = rng.poisson(3, N)
    converted = (rng.random(N) < 1 / (1 + np.exp(2.5 - 0.4 * visits))).astype(int)
    return pd.DataFrame(
        {
            "created": created.strftime("%d/%m/%Y"),  # day first, parsed the slow way
            "last_visit": visited.strftime("%Y-%m-%dT%H:%M:%S"),
            "visits": visits,
            "industry": rng.choice(["Retail", "Software", "Banking"], N),
            "converted": converted,
        }
    )


def dated_schema() -> LeadSchema:
    return LeadSchema(
        name="dated",
        target="converted",
        time="created",
        features=[
            FeatureSpec(name="visits", kind="numeric"),
            FeatureSpec(name="industry", kind="categorical"),
            FeatureSpec(name="visit_month", kind="month", source="last_visit"),
            FeatureSpec(name="visit_weekday", kind="weekday", source="last_visit"),
            FeatureSpec(name="visit_age", kind="age_days", source="last_visit"),
            FeatureSpec(name="created_month", kind="month", source="created"),
        ],
    )


def test_each_date_source_is_parsed_once_per_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrap the one date parser wherever leadml imported it, and count what it parses."""
    parsed: Counter[str] = Counter()
    original = parse.parse_dates

    def counting(series: pd.Series, day_first: bool | None = None) -> pd.Series:
        if not pd.api.types.is_datetime64_any_dtype(series):  # typed dates are not parsed
            parsed[str(series.name)] += 1
        return original(series, day_first)

    wrapped = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("leadml") and getattr(module, "parse_dates", None) is original:
            monkeypatch.setattr(module, "parse_dates", counting)
            wrapped += 1
    assert wrapped >= 2  # the parser itself and at least one module that imported it

    fits = Counter()
    fit = FeatureEncoder.fit.__func__

    def counting_fit(cls, schema, frame):  # type: ignore[no-untyped-def]
        fits["fit"] += 1
        return fit(cls, schema, frame)

    monkeypatch.setattr(FeatureEncoder, "fit", classmethod(counting_fit))
    settings = Settings(num_threads=1)
    result = train_leads(dated_leads(), dated_schema(), settings, track=False)
    assert result.model.encoder.day_first  # 05/11 read as 5 November: the slow path ran
    # "created" is the time column and a source; "last_visit" feeds three features
    assert parsed == Counter({"created": 1, "last_visit": 1})
    assert fits["fit"] == 1


def test_the_leakage_audit_never_sees_the_test_labels() -> None:
    frame = dated_leads(1)
    y = frame["converted"].to_numpy()
    noise = np.random.default_rng(2).integers(0, 2, N)
    newest = np.arange(N) >= N - round(N * 0.2)  # the headline fold: rows are in time order
    # the outcome itself, but only where the model is judged: the audit must not know
    frame["late_flag"] = np.where(newest, y, noise)
    # the outcome itself among the headline fold's training leads: flagged
    frame["early_flag"] = np.where(~newest, y, noise)
    schema = dated_schema().model_copy(
        update={
            "features": [
                *dated_schema().features,
                FeatureSpec(name="late_flag", kind="numeric"),
                FeatureSpec(name="early_flag", kind="numeric"),
            ]
        }
    )
    prepared = prepare_training(frame, schema, Settings())
    flagged = prepared.leakage["flagged"]
    assert "early_flag" in flagged and "alone it separates" in flagged["early_flag"][0]
    assert "late_flag" not in flagged
    assert "late_flag" in prepared.encoder.names and "early_flag" not in prepared.encoder.names
    # the matrix follows the encoder: the dropped column left both
    assert prepared.rows.x.shape[1] == len(prepared.encoder.names) == len(prepared.schema.features)
