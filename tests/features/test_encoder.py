"""Encoding: the batch path and the one-lead path agree exactly; placeholders are missing, but
a form default is "(not answered)" where the schema keeps it apart."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.data.validate import validate
from leadml.data.values import NOT_ANSWERED
from leadml.features.encoder import NOT_ANSWERED_RANK, FeatureEncoder
from leadml.schema import LeadSchema
from tests.support.forms import BUDGETS, form_schema


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


# -- not answered is not missing -----------------------------------------------------------------
def test_a_form_placeholder_is_not_answered_and_a_blank_is_not_sent(forms: pd.DataFrame) -> None:
    schema = form_schema(unanswered=["Select", "Selecione"])
    encoder = fitted(forms, schema)
    assert NOT_ANSWERED in encoder.levels["specialization"]  # a category LightGBM sees
    assert encoder.not_answered == {"budget"}
    j, b, v = (encoder.names.index(n) for n in ("specialization", "budget", "visits"))
    skipped = encoder.code_of("specialization", NOT_ANSWERED)
    for spelling in ("Select", " select ", "-- Select --", "Please choose", "--None--"):
        row = encoder.encode_row({"specialization": spelling, "budget": spelling})[0]
        assert (row[j], row[b]) == (skipped, NOT_ANSWERED_RANK), spelling
    for blank in ({"specialization": ""}, {"specialization": None}, {}, {"specialization": "N/A"}):
        assert np.isnan(encoder.encode_row(blank)[0][j]), blank
    # An ordinal's answers keep their ranks; "(not answered)" sits below the scale.
    ranks = [encoder.encode_row({"budget": level})[0][b] for level in BUDGETS]
    assert ranks == [0.0, 1.0, 2.0]
    # Numbers read a placeholder as missing all the same.
    assert np.isnan(encoder.encode_row({"visits": "Select"})[0][v])
    # The batch path reads a file's cells as the one-lead path reads a lead.
    sample = forms.head(400)
    matrix = encoder.transform(encoder.parse(sample))
    rows = np.vstack(
        [
            encoder.encode_row(r)[0]
            for r in sample.astype(object).where(sample.notna(), None).to_dict("records")
        ]
    )
    np.testing.assert_array_equal(np.nan_to_num(matrix, nan=-9), np.nan_to_num(rows, nan=-9))
    select = (sample["specialization"] == "Select").to_numpy()
    assert (matrix[select, j] == skipped).all()
    assert np.isnan(matrix[sample["specialization"].isna().to_numpy(), j]).all()
    # Read back as the model read it: the state is a value, worded for reasons.
    lead = encoder.known_values(
        encoder.encode_row({"specialization": "Select", "budget": "Selecione"})[0]
    )
    assert lead["specialization"] == lead["budget"] == NOT_ANSWERED


def test_an_older_schema_reads_placeholders_as_missing_as_before(forms: pd.DataFrame) -> None:
    old = fitted(forms, form_schema())
    assert NOT_ANSWERED not in old.levels["specialization"] and not old.not_answered
    assert "unanswered" not in old.to_dict()  # an old bundle's encoder is written as it was
    j = old.names.index("specialization")
    assert np.isnan(old.encode_row({"specialization": "Select"})[0][j])
    # An encoder saved before the field existed loads, and encodes alike.
    saved = old.to_dict()
    again = FeatureEncoder.from_dict(saved)
    sample = forms.head(300)
    np.testing.assert_array_equal(
        np.nan_to_num(old.transform(old.parse(sample)), nan=-9),
        np.nan_to_num(again.transform(again.parse(sample)), nan=-9),
    )
    new = fitted(forms, form_schema(unanswered=["Select"]))
    both = np.isfinite(new.transform(new.parse(sample))[:, j])
    assert both.sum() > np.isfinite(old.transform(old.parse(sample))[:, j]).sum()


def test_the_state_survives_json_and_a_monotone_ordinal_keeps_it_missing(
    forms: pd.DataFrame,
) -> None:
    encoder = fitted(forms, form_schema(unanswered=["Select"]))
    again = FeatureEncoder.from_dict(encoder.to_dict())
    assert (again.unanswered, again.not_answered) == (encoder.unanswered, encoder.not_answered)
    sample = forms.head(300)
    np.testing.assert_array_equal(
        np.nan_to_num(encoder.transform(encoder.parse(sample)), nan=-9),
        np.nan_to_num(again.transform(again.parse(sample)), nan=-9),
    )
    # Held monotone, any code on the axis would rank skipping against the answers: missing.
    held = fitted(forms, form_schema(unanswered=["Select"], monotone_budget=True))
    b = held.names.index("budget")
    assert not held.not_answered
    assert np.isnan(held.encode_row({"budget": "Selecione"})[0][b])
    # A state too rare in training to learn from is missing, like a rare category.
    rare = forms.assign(specialization=forms["specialization"].replace("Select", "Finance"))
    rare.loc[:1, "specialization"] = "Select"
    few = fitted(rare, form_schema(unanswered=["Select"]))
    assert NOT_ANSWERED not in few.levels["specialization"]
    assert np.isnan(
        few.encode_row({"specialization": "Select"})[0][few.names.index("specialization")]
    )
