"""What the model makes of a lead's inputs: warnings per lead, negative counts refused, and
tables that share too few of the model's fields stopped with one line."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.errors import DataError
from leadml.explain.table import score_table
from leadml.features.inputs import (
    check_table_fields,
    input_fields,
    lead_warnings,
    never_negative,
    training_ranges,
)
from leadml.modeling.finish import TrainResult

#: How this older (synthetic) schema's leads write "no value": absent, null, placeholders.
BLANK_WORDS = {"None", "", "Select", "N/A"}


@pytest.fixture(scope="module")
def fresh(leads: pd.DataFrame) -> pd.DataFrame:
    return leads.tail(50).drop(columns=["converted"]).reset_index(drop=True)


def test_training_ranges_come_from_the_booster(trained: TrainResult, leads: pd.DataFrame) -> None:
    ranges = training_ranges(trained.model)
    assert ranges["pricing_page_views"][0] == 0
    assert ranges["pricing_page_views"][1] <= leads["pricing_page_views"].max()
    assert "pricing_page_views" in never_negative(trained.model)
    assert "job_title" not in ranges  # numbers only


def test_an_unseen_category_warns_naming_field_and_value(
    trained: TrainResult, fresh: pd.DataFrame
) -> None:
    model = trained.model
    lead = {k: v for k, v in fresh.iloc[0].to_dict().items() if v == v}
    lead["job_title"] = "Chief Unicorn Wrangler"
    row = model.encoder.encode_row(lead)[0]
    warnings = lead_warnings(model, lead, row)
    unseen = [w for w in warnings if w["kind"] == "unseen"]
    assert unseen == [
        {
            "field": "job_title",
            "kind": "unseen",
            "value": "Chief Unicorn Wrangler",
            "message": "Job title 'Chief Unicorn Wrangler' was never seen in training: "
            "scored as unknown",
        }
    ]
    # the same in a table's warnings column
    table = fresh.head(4).assign(job_title="Chief Unicorn Wrangler")
    table.loc[3, "job_title"] = None  # a gap in the column: no warning, and no error
    scored = score_table(model, table)
    seen = scored["warnings"].str.contains("'Chief Unicorn Wrangler' was never seen")
    assert seen.tolist() == [True, True, True, False]


def test_fields_not_sent_and_numbers_beyond_training_are_said(
    trained: TrainResult, fresh: pd.DataFrame
) -> None:
    model = trained.model
    lead = {k: (v if v == v else None) for k, v in fresh.iloc[1].to_dict().items()}
    del lead["industry"]
    lead["employees"] = None  # sent as null: no value either
    lead["job_title"] = "N/A"  # a placeholder that means unknown
    hi = training_ranges(model)["pricing_page_views"][1]
    lead["pricing_page_views"] = hi + 500
    warnings = lead_warnings(model, lead, model.encoder.encode_row(lead)[0])
    kinds = {w["kind"]: w for w in warnings}
    blank = [c for c in input_fields(model) if str(lead.get(c)).strip() in BLANK_WORDS]
    assert {"industry", "employees", "job_title"} <= set(blank)
    assert kinds["left_out"]["fields"] == blank  # in the model's order, whatever the reason
    assert warnings[0] is kinds["left_out"]
    assert kinds["clipped"]["field"] == "pricing_page_views"
    assert "above anything seen in training" in kinds["clipped"]["message"]
    # a clipped number scores exactly as the highest value seen: the trees cannot tell
    at_edge = {**lead, "pricing_page_views": hi}
    assert model.score_one(lead)["probability"] == model.score_one(at_edge)["probability"]


def test_a_negative_count_in_a_file_is_refused_naming_column_and_rows(
    trained: TrainResult, fresh: pd.DataFrame
) -> None:
    table = fresh.head(6).copy()
    table.loc[3, "pricing_page_views"] = -3
    with pytest.raises(
        DataError, match=r"column 'pricing_page_views' has negative values \(rows 5\)"
    ):
        score_table(trained.model, table)


def test_crm_spellings_in_a_file_score_as_the_clean_values(
    trained: TrainResult, fresh: pd.DataFrame
) -> None:
    clean = fresh.head(4).copy()
    clean["budget_range"] = "100k–250k"
    clean["seniority"] = "VP"
    clean["employees"] = 1200
    clean["annual_revenue"] = 50000
    clean["industry"] = None
    messy = clean.astype({"employees": object, "annual_revenue": object, "industry": object})
    messy["budget_range"] = "100k-250k"
    messy["seniority"] = "vp"
    messy["employees"] = "1,200"
    messy["annual_revenue"] = "$50,000"
    messy["industry"] = "--None--"
    a, b = score_table(trained.model, clean), score_table(trained.model, messy)
    assert a["probability"].tolist() == b["probability"].tolist()
    # Spellings are no warning; a blank and "--None--" are the same field not sent.
    assert a["warnings"].tolist() == b["warnings"].tolist()
    assert b["warnings"].str.startswith("Not sent, scored as unknown: ").all()
    assert b["warnings"].str.contains("industry").all()
    assert not b["warnings"].str.contains("never seen|above|below|is not").any()


def test_a_table_sharing_no_field_stops_with_one_line(trained: TrainResult, tmp_path, home) -> None:
    fields = input_fields(trained.model)
    with pytest.raises(DataError, match=r"0 of the model's \d+ fields given"):
        check_table_fields(trained.model, ["age", "balance", "duration"])
    few = fields[:3]
    with pytest.raises(DataError, match="--allow-sparse"):
        check_table_fields(trained.model, few)
    assert check_table_fields(trained.model, few, None) == fields[3:]
    with pytest.raises(DataError, match="0 of the model"):  # even sparse needs one field
        check_table_fields(trained.model, [], None)

    other = tmp_path / "bank.csv"
    pd.DataFrame({"age": [30, 41], "balance": [100, -5], "y": ["no", "yes"]}).to_csv(
        other, index=False
    )
    out = tmp_path / "scored.csv"
    args = ["score", "--model", str(trained.bundle), "--data", str(other), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "0 of the model's" in errors[0], result.output
    assert not out.exists()


def test_per_model_tables_are_made_once_and_kept_with_the_model(trained: TrainResult) -> None:
    """Single-lead scoring reads the training ranges, the novelty table and the roll-up plan
    from the model's own facts: made on first use, the same object after, never shared with
    another model (a model reloaded starts empty)."""
    from leadml.bundle.model import LeadModel
    from leadml.explain.rollup import plan_for
    from leadml.features.novelty import novelty_table

    model = LeadModel.load(trained.bundle)
    assert model.facts.ranges is None and model.facts.novelty is None and not model.facts.plans
    ranges, table, plan = training_ranges(model), novelty_table(model), plan_for(model, "bant")
    assert ranges and table is not None
    assert training_ranges(model) is ranges and model.facts.ranges is ranges
    assert novelty_table(model) is table and plan_for(model, "bant") is plan
    assert ranges == training_ranges(trained.model)
    again = LeadModel.load(trained.bundle)
    assert again.facts.ranges is None and again.facts is not model.facts
