"""Encoding: the batch path and the one-lead path agree exactly; placeholders are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.features import FeatureEncoder
from leadml.schema import LeadSchema


def test_row_path_equals_frame_path(leads: pd.DataFrame, schema: LeadSchema) -> None:
    encoder = FeatureEncoder.fit(schema, leads)
    sample = leads.sample(300, random_state=1)
    matrix = encoder.transform(sample)
    rows = np.vstack(
        [
            encoder.encode_row(r)
            for r in sample.astype(object).where(sample.notna(), None).to_dict("records")
        ]
    )
    np.testing.assert_array_equal(np.isnan(matrix), np.isnan(rows))
    np.testing.assert_allclose(np.nan_to_num(matrix, nan=-9), np.nan_to_num(rows, nan=-9))


def test_placeholders_unknown_levels_and_bad_numbers_are_missing(
    leads: pd.DataFrame, schema: LeadSchema
) -> None:
    encoder = FeatureEncoder.fit(schema, leads)
    lead = {
        "budget_range": "Select",
        "industry": "Underwater basket weaving",
        "employees": "lots",
        "demo_requested": "yes",
        "decision_role": " Decision maker ",
        "days_since_last_activity": float("inf"),
    }
    row = encoder.encode_row(lead)[0]
    col = {n: i for i, n in enumerate(encoder.names)}
    assert np.isnan(row[col["budget_range"]])
    assert np.isnan(row[col["industry"]])
    assert np.isnan(row[col["employees"]])
    assert np.isnan(row[col["days_since_last_activity"]])
    assert row[col["demo_requested"]] == 1.0
    assert row[col["decision_role"]] == 3.0  # rank in the schema's order, whitespace ignored
    assert np.isnan(row[col["lead_source"]])  # absent field → missing


def test_ordinal_codes_follow_the_schema_order(leads: pd.DataFrame, schema: LeadSchema) -> None:
    encoder = FeatureEncoder.fit(schema, leads)
    levels = schema.feature("purchase_timeline").levels
    frame = pd.DataFrame({"purchase_timeline": levels})
    j = encoder.names.index("purchase_timeline")
    assert encoder.transform(frame)[:, j].tolist() == list(range(len(levels)))


def test_encoder_survives_json(leads: pd.DataFrame, schema: LeadSchema) -> None:
    encoder = FeatureEncoder.fit(schema, leads)
    again = FeatureEncoder.from_dict(encoder.to_dict())
    sample = leads.head(200)
    np.testing.assert_array_equal(
        np.nan_to_num(encoder.transform(sample), nan=-1),
        np.nan_to_num(again.transform(sample), nan=-1),
    )
