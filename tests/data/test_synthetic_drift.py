"""The synthetic history's time window and drift knobs: the default table never changes, a later
window continues the process, and each knob moves only the fields it names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import (
    BUDGET_LEVELS,
    NEW_SOURCE,
    SOURCES,
    Drift,
    generate_leads,
    parse_drift,
)
from leadml.errors import LeadMLError

#: Fingerprints of the tables the generator made before it had a window or knobs (golden
#: tests and documented figures are built on them): rows, seed → hash of every cell.
GOLDEN = {
    (1, 5): 1696921378866018247,
    (500, 3): 7472744386947550769,
    (3000, 21): 194250884940482357,
    (777, 0): 2586832384815567191,
}
COLUMNS = [
    "lead_id", "created_at", "full_name", "email", "phone", "job_title", "seniority",
    "department", "country", "industry", "employees", "annual_revenue", "company_age_years",
    "budget_range", "decision_role", "stated_need", "purchase_timeline", "site_visits",
    "pages_viewed", "time_on_site_min", "email_opens", "email_clicks", "webinar_attended",
    "content_downloads", "demo_requested", "pricing_page_views", "days_since_last_activity",
    "lead_source", "converted",
]  # fmt: skip
NUMBERS = {
    "employees": "float64", "annual_revenue": "float64", "company_age_years": "float64",
    "site_visits": "int64", "pages_viewed": "int64", "time_on_site_min": "float64",
    "email_opens": "int64", "email_clicks": "int64", "content_downloads": "int64",
    "pricing_page_views": "int64", "days_since_last_activity": "float64", "converted": "int64",
}  # fmt: skip


def fingerprint(frame: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(frame, index=True).sum() % (2**63))


@pytest.mark.parametrize(("rows", "seed"), list(GOLDEN))
def test_the_default_table_is_the_one_it_always_was(rows: int, seed: int) -> None:
    frame = generate_leads(rows, seed)
    assert list(frame.columns) == COLUMNS
    assert {c: str(frame[c].dtype) for c in NUMBERS} == NUMBERS
    assert fingerprint(frame) == GOLDEN[(rows, seed)]
    # Spelling the defaults out, or asking for no drift at all, changes nothing either.
    spelled = generate_leads(rows, seed, start="2024-11-01", months=24, drift=Drift())
    pd.testing.assert_frame_equal(frame, spelled)


def test_a_later_month_continues_the_process() -> None:
    after = generate_leads(6000, seed=1, start="2026-11-01", months=1)
    created = pd.to_datetime(after["created_at"])
    assert created.min() >= pd.Timestamp("2026-11-01")
    assert created.max() < pd.Timestamp("2026-12-02")
    # The same seed gives the same leads in the first month of the history: only the clock
    # differs, so each lead's outcome can move only as the trends say.
    first = generate_leads(6000, seed=1, start="2024-11-01", months=1)
    assert after.drop(columns=["created_at", "converted"]).equals(
        first.drop(columns=["created_at", "converted"])
    )
    webinar = (after["webinar_attended"] == "Yes").to_numpy()
    was, now = first["converted"].to_numpy(), after["converted"].to_numpy()
    # The base rate kept climbing: a lead without a webinar never converts less ...
    assert (now[~webinar] >= was[~webinar]).all() and now[~webinar].sum() > was[~webinar].sum()
    # ... and the webinar, worth +0.9 at the start, has faded to nothing (more than the +0.35).
    assert (now[webinar] <= was[webinar]).all() and now[webinar].sum() < was[webinar].sum()


def test_each_knob_moves_only_its_fields() -> None:
    base = generate_leads(4000, seed=8)
    for drift, fields in (
        (Drift(budget_shift=0.8), {"budget_range"}),
        (Drift(new_source=0.3), {"lead_source"}),
        (Drift(budget_shift=0.8, new_source=0.3), {"budget_range", "lead_source"}),
    ):
        moved = generate_leads(4000, seed=8, drift=drift)
        changed = {c for c in base.columns if not base[c].equals(moved[c])}
        assert changed == fields | {"converted"}, drift  # and the outcomes that follow them


def test_the_budget_knob_only_ever_lowers_an_answer() -> None:
    base = generate_leads(4000, seed=9)
    moved = generate_leads(4000, seed=9, drift=Drift(budget_shift=0.8))
    rank = {level: i for i, level in enumerate(BUDGET_LEVELS)}
    before, after = base["budget_range"].map(rank), moved["budget_range"].map(rank)
    answered = before.notna()
    assert (after[answered] <= before[answered]).all()
    assert base["budget_range"].isna().equals(moved["budget_range"].isna())  # blanks stay blank
    low_before = (base["budget_range"] == "< 10k").mean()
    low_after = (moved["budget_range"] == "< 10k").mean()
    assert low_before < 0.15 and low_after > 0.35
    assert moved["converted"].mean() < base["converted"].mean()  # smaller budgets convert less


def test_the_new_source_is_a_share_of_leads_and_never_seen_without_drift() -> None:
    base = generate_leads(5000, seed=10)
    moved = generate_leads(5000, seed=10, drift=Drift(new_source=0.3))
    assert NEW_SOURCE not in set(base["lead_source"]) and NEW_SOURCE not in SOURCES
    share = (moved["lead_source"] == NEW_SOURCE).mean()
    assert abs(share - 0.3) < 0.03
    kept = moved["lead_source"] != NEW_SOURCE
    assert (moved.loc[kept, "lead_source"] == base.loc[kept, "lead_source"]).all()


def test_drift_options_read_as_the_cli_writes_them() -> None:
    assert parse_drift([]) is None
    assert parse_drift(["budget=0.8", "new-source=0.3"]) == Drift(0.8, 0.3)
    with pytest.raises(LeadMLError, match="unknown drift 'colour=red'; use budget=SHIFT"):
        parse_drift(["colour=red"])
    with pytest.raises(LeadMLError, match="needs a number"):
        parse_drift(["budget=lots"])
    with pytest.raises(LeadMLError, match="share in"):
        parse_drift(["new-source=1.5"])


def test_cli_generate_writes_a_drifted_later_month(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "month.csv"
    done = runner.invoke(
        app,
        [
            "generate", "--rows", "300", "--seed", "4", "--out", str(out),
            "--start", "2026-11-01", "--months", "1",
            "--drift", "budget=0.8", "--drift", "new-source=0.3",
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    frame = pd.read_csv(out)
    assert len(frame) == 300 and (frame["lead_source"] == NEW_SOURCE).any()
    assert pd.to_datetime(frame["created_at"]).min() >= pd.Timestamp("2026-11-01")

    bad = runner.invoke(app, ["generate", "--rows", "10", "--out", str(out), "--drift", "x=1"])
    assert bad.exit_code == 2
    assert "unknown drift 'x=1'" in bad.output and "Traceback" not in bad.output
    late = runner.invoke(app, ["generate", "--rows", "10", "--out", str(out), "--start", "soon"])
    assert late.exit_code == 2 and "start 'soon' is not a date" in late.output
    assert np.isfinite(frame["employees"].dropna()).all()
