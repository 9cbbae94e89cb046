"""Accounts: a buying group covers criteria its leads cover one by one, and the chance of a deal
is the chance that not every lead fails, under the real trained model's verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.errors import DataError
from leadml.explain.accounts import account_keys, account_table, check_account_column
from leadml.explain.table import score_table
from leadml.modeling.finish import TrainResult
from leadml.schema import LeadSchema
from leadml.schema.frameworks import framework_criteria

BANT = framework_criteria("bant")


def truth(value: object) -> bool | None:
    """A cell of a nullable boolean column as True, False or None (<NA>)."""
    return None if pd.isna(value) else bool(value)


def _lead(template: pd.Series, lead_id: str, company: str, **answers: object) -> dict:
    return {**template.to_dict(), "lead_id": lead_id, "company": company, **answers}


@pytest.fixture(scope="module")
def buying_group(leads: pd.DataFrame, trained: TrainResult) -> pd.DataFrame:
    """Acme: a C-level decision maker with no budget, and a junior end user holding a big
    budget. Tiny Co: one lead weak on every count. One lead with no company."""
    template = leads.drop(columns=["converted"]).iloc[0]
    shared = {
        "employees": 400.0,
        "stated_need": "Important",
        "purchase_timeline": "3–6 months",
        "department": "Finance",
    }
    signer = {
        "job_title": "Chief Finance Officer",
        "seniority": "C-level",
        "decision_role": "Decision maker",
        "budget_range": "< 10k",
        "annual_revenue": 400_000.0,
    }
    payer = {
        "job_title": "Junior Finance Associate",
        "seniority": "Junior",
        "decision_role": "End user",
        "budget_range": "> 250k",
        "annual_revenue": 300_000_000.0,
    }
    weak = {
        **signer,
        **payer,
        "budget_range": "< 10k",
        "annual_revenue": 400_000.0,
        "stated_need": "No clear need",
        "purchase_timeline": "Just researching",
        "demo_requested": "No",
        "days_since_last_activity": 200.0,
    }
    rows = [
        _lead(template, "A-SIGN", "Acme", **shared, **signer),
        _lead(template, "T-WEAK", "Tiny Co", **weak),
        _lead(template, "A-PAY", " acme ", **shared, **payer),  # same account, spelt apart
        _lead(template, "NO-CO", "N/A", **shared, **signer),  # a missing-value marker
    ]
    return pd.DataFrame(rows)


def test_a_buying_group_covers_what_its_leads_cover(
    buying_group: pd.DataFrame, trained: TrainResult, schema: LeadSchema
) -> None:
    scored = score_table(trained.model, buying_group, True, "bant").set_index("lead_id")
    # The premise, as the model itself judges each lead (so the test cannot pass by accident).
    assert truth(scored.loc["A-SIGN", "authority_met"]) is True
    assert truth(scored.loc["A-SIGN", "budget_met"]) is False
    assert truth(scored.loc["A-PAY", "budget_met"]) is True
    assert truth(scored.loc["A-PAY", "authority_met"]) is False
    assert [truth(scored.loc["T-WEAK", f"{c}_met"]) for c in BANT] == [False] * 4

    result = account_table(
        scored.reset_index(),
        buying_group["company"],
        buying_group["lead_id"],
        BANT,
        missing=schema.missing_values,
    )
    assert (result.leads, result.no_account) == (3, 1)
    table = result.table.set_index("account")
    assert list(table.index) == ["Acme", "Tiny Co"]  # first spelling; best chance first
    acme, tiny = table.loc["Acme"], table.loc["Tiny Co"]

    p1, p2 = scored.loc["A-SIGN", "probability"], scored.loc["A-PAY", "probability"]
    assert acme["leads"] == 2
    assert acme["p_any"] == pytest.approx(1 - (1 - p1) * (1 - p2), rel=1e-12)
    assert acme["expected_conversions"] == pytest.approx(p1 + p2, rel=1e-12)
    best = "A-SIGN" if p1 >= p2 else "A-PAY"
    assert acme["best_lead"] == best
    assert acme["best_score"] == scored.loc[best, "score"]
    assert acme["best_grade"] == scored.loc[best, "grade"]
    assert truth(acme["budget_covered"]) is True and acme["budget_covered_by"] == "A-PAY"
    assert truth(acme["authority_covered"]) is True and acme["authority_covered_by"] == "A-SIGN"
    assert {"budget", "authority"} <= set(acme["covered"].split(", "))

    assert tiny["leads"] == 1
    assert tiny["p_any"] == pytest.approx(scored.loc["T-WEAK", "probability"], rel=1e-12)
    assert tiny["covered"] == "" and tiny["open"] == "budget, authority, need, timing"
    assert all(truth(tiny[f"{c}_covered"]) is False for c in BANT)
    assert all(pd.isna(tiny[f"{c}_covered_by"]) for c in BANT)


def _explained(met: dict[str, list[object]], p: list[float], points: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"probability": p, "score": [round(v * 100) for v in p]})
    frame["grade"] = ["A" if v > 0.5 else "C" for v in p]
    for c in BANT:
        frame[f"{c}_met"] = pd.array(met.get(c, [None] * len(p)), dtype="boolean")
        frame[f"{c}_points"] = points
    return frame


def test_unknown_stays_unknown_and_the_strongest_lead_covers() -> None:
    scored = _explained(
        {"budget": [True, True, None, False], "need": [False, None, None, None]},
        p=[0.2, 0.2, 0.9, 0.1],
        points=[1.0, 4.0, 0.0, -2.0],
    )
    result = account_table(scored, pd.Series(["x", "x", "", "y"]), pd.Series([1, 2, 3, 4]), BANT)
    assert (result.leads, result.no_account) == (3, 1)
    x, y = (result.table.set_index("account").loc[k] for k in ("x", "y"))
    assert truth(x["budget_covered"]) is True and x["budget_covered_by"] == "2"  # most points
    assert truth(x["need_covered"]) is False  # one lead answered, and fails it
    assert truth(x["authority_covered"]) is None
    assert truth(y["budget_covered"]) is False
    assert x["open"] == "authority, need, timing" and x["covered"] == "budget"
    assert x["best_lead"] == "1"  # a tie: the first in the file
    assert x["p_any"] == pytest.approx(0.36) and result.covering_all() == 0


def test_verdicts_read_back_from_a_csv_and_numeric_account_ids() -> None:
    scored = _explained({}, p=[0.5, 0.5, 1.0], points=[1.0, 1.0, 1.0])
    scored["budget_met"] = ["True", "False", ""]  # as a scored CSV reads back
    result = account_table(scored, pd.Series([7.0, 7.0, np.nan]), pd.Series(list("abc")), BANT)
    row = result.table.iloc[0]
    assert (
        row["account"] == "7"
        and truth(row["budget_covered"]) is True
        and row["p_any"] == pytest.approx(0.75)
    )
    assert account_keys(pd.Series([" a ", "Select", None]), ["Select"]).isna().tolist() == [
        False,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("column", "words"),
    [
        ("compnay", ["no column 'compnay'", "did you mean 'company'"]),
        ("email", ["personal data", "use a company or domain column"]),
        ("contact", ["looks like personal data", "e-mail"]),
        ("converted", ["outcome"]),
        ("lead_id", ["lead id"]),
    ],
)
def test_account_columns_refused(column: str, words: list[str], schema: LeadSchema) -> None:
    frame = pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "company": ["Acme", "Initech"],
            "email": ["a@acme.com", "b@initech.com"],
            "contact": ["a@acme.com", "b@initech.com"],
            "converted": [0, 1],
        }
    )
    with pytest.raises(DataError) as error:
        check_account_column(column, frame, schema)
    assert all(w in str(error.value) for w in words) and "\n" not in str(error.value)
    check_account_column("company", frame, schema)  # a company column passes
