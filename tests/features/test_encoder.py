"""Encoding: the batch path and the one-lead path agree exactly; placeholders are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.schema import LeadSchema


def fitted(leads: pd.DataFrame, schema: LeadSchema) -> FeatureEncoder:
    """An encoder fitted as training fits it: on validated, typed leads."""
    return FeatureEncoder.fit(schema, validate(leads, schema).frame)


def test_row_path_equals_frame_path(leads: pd.DataFrame, schema: LeadSchema) -> None:
    encoder = fitted(leads, schema)
    sample = leads.sample(300, random_state=1)
    matrix = encoder.transform(encoder.parse(sample))
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
    encoder = fitted(leads, schema)
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
    encoder = fitted(leads, schema)
    levels = schema.feature("purchase_timeline").levels
    frame = pd.DataFrame({"purchase_timeline": levels})
    j = encoder.names.index("purchase_timeline")
    assert encoder.transform(encoder.parse(frame))[:, j].tolist() == list(range(len(levels)))


def test_encoder_survives_json(leads: pd.DataFrame, schema: LeadSchema) -> None:
    encoder = fitted(leads, schema)
    again = FeatureEncoder.from_dict(encoder.to_dict())
    sample = leads.head(200)
    np.testing.assert_array_equal(
        np.nan_to_num(encoder.transform(encoder.parse(sample)), nan=-1),
        np.nan_to_num(again.transform(again.parse(sample)), nan=-1),
    )


def test_raw_text_is_refused_not_misread(leads: pd.DataFrame, schema: LeadSchema) -> None:
    import pytest

    encoder = fitted(leads, schema)
    with pytest.raises(TypeError, match="not typed"):
        encoder.transform(leads.head(5))  # raw: " Decision maker " and "Select" unparsed
