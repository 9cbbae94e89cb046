"""The synthetic CRM history: deterministic, realistic in shape, with the documented traits."""

from __future__ import annotations

import pandas as pd

from leadml.data.synthetic import generate_leads


def test_same_seed_same_table_other_seed_other_table() -> None:
    a = generate_leads(500, seed=3)
    pd.testing.assert_frame_equal(a, generate_leads(500, seed=3))
    assert not a.equals(generate_leads(500, seed=4))


def test_looks_like_a_crm_export(leads: pd.DataFrame) -> None:
    assert leads.shape == (20_000, 29)
    assert leads["lead_id"].is_unique
    created = pd.to_datetime(leads["created_at"])
    assert (created.max() - created.min()).days >= 700  # ~24 months
    assert 0.10 <= leads["converted"].mean() <= 0.20
    # CRMs export "Select" for unanswered form fields, and enrichment leaves gaps.
    for column in ("budget_range", "decision_role", "stated_need", "purchase_timeline"):
        assert (leads[column] == "Select").mean() > 0.05
        assert leads[column].isna().mean() > 0.02
    assert leads["annual_revenue"].isna().mean() > 0.2
    assert leads["email"].str.contains("@").all()


def test_every_bant_answer_moves_conversion(leads: pd.DataFrame) -> None:
    """Best answers convert far more often than worst ones, for each criterion."""
    pairs = {
        "budget_range": ("< 10k", "> 250k"),
        "decision_role": ("End user", "Decision maker"),
        "stated_need": ("No clear need", "Critical"),
        "purchase_timeline": ("Just researching", "< 3 months"),
    }
    for column, (worst, best) in pairs.items():
        rate = leads.groupby(column)["converted"].mean()
        assert rate[best] > 2 * rate[worst], column


def test_webinar_effect_drifts_down(leads: pd.DataFrame) -> None:
    created = pd.to_datetime(leads["created_at"])
    early = leads[created < created.quantile(0.25)]
    late = leads[created > created.quantile(0.75)]

    def uplift(frame: pd.DataFrame) -> float:
        rate = frame.groupby("webinar_attended")["converted"].mean()
        return rate["Yes"] - rate["No"]

    assert uplift(early) > uplift(late) + 0.03


def test_accounts_add_a_company_column_and_change_nothing_else() -> None:
    plain = generate_leads(800, seed=11)
    with_accounts = generate_leads(800, seed=11, accounts=40)
    pd.testing.assert_frame_equal(plain, with_accounts.drop(columns="company"))
    assert with_accounts["company"].nunique() == 40
    assert with_accounts["company"].str.fullmatch(r"Company \d{5}").all()
