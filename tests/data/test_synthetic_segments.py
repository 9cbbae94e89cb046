"""The synthetic history's regions: old tables untouched, APAC's own rule confined to APAC's
``converted``, a segment drift confined to its region, and the funnel following the re-draw."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import (
    BUDGET_LEVELS,
    COUNTRIES,
    INDUSTRIES,
    SOURCES,
    TIMELINE_LEVELS,
    Drift,
    eventual_outcomes,
    generate_leads,
    parse_drift,
)
from leadml.data.synthetic_funnel import STATUS_WON
from leadml.data.synthetic_segments import (
    APAC_BUDGET,
    APAC_INDUSTRIES,
    APAC_SOURCES,
    APAC_TIMELINE,
    REGION_NAMES,
    REGIONS,
    region_of,
)
from leadml.errors import LeadMLError

#: SHA-256 of ``generate_leads(2000, seed=3)`` written as CSV (and of three variants),
#: recorded before segments existed: asking for none must leave every table as it was.
BEFORE = {
    "plain": "d02c6919a30e9e2eb7d80e83fe48fa3f426e7183469a43c8ba7aef180501f26c",
    "as_of": "92cc11b3e3f130f8af9da6cab526670f8b74383d99e3e7d8fcb31818646c5977",
    "drift": "f16ffe6b461911c06ff7e18b777b7cf1668f5d8da36d0cf8ab66221c46cfc065",
    "accounts": "31362bad8d8eee81f221db79e3d3a2d4cf04106f75a2eecf2f4536bb0db2bb10",
}
ROWS, SEED = 6000, 5


def sha(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {
        "plain": generate_leads(ROWS, SEED),
        "same": generate_leads(ROWS, SEED, segments="same"),
        "different": generate_leads(ROWS, SEED, segments="different"),
    }


def test_tables_without_segments_are_byte_identical_to_before() -> None:
    assert sha(generate_leads(2000, seed=3)) == BEFORE["plain"]
    assert sha(generate_leads(2000, seed=3, as_of="2026-01-01")) == BEFORE["as_of"]
    drift = Drift(budget_shift=0.8, new_source=0.3)
    assert sha(generate_leads(2000, seed=3, drift=drift)) == BEFORE["drift"]
    assert sha(generate_leads(2000, seed=3, accounts=50)) == BEFORE["accounts"]


def test_same_arguments_same_table() -> None:
    for kind in ("same", "different"):
        first = generate_leads(1500, seed=9, segments=kind)
        pd.testing.assert_frame_equal(first, generate_leads(1500, seed=9, segments=kind))


def test_region_derives_from_country(tables: dict[str, pd.DataFrame]) -> None:
    assert set(REGIONS) == set(COUNTRIES)  # every country the generator draws has a region
    assert set(REGIONS.values()) == set(REGION_NAMES)
    same = tables["same"]
    assert list(same.columns).index("region") == list(same.columns).index("country") + 1
    known = same["country"].notna()
    assert (same.loc[known, "region"] == same.loc[known, "country"].map(REGIONS)).all()
    assert same.loc[~known, "region"].isna().all() and (~known).sum() > 0
    assert region_of(pd.Series(["IN", "AU", "US", "PL"])).tolist() == [
        "APAC",
        "APAC",
        "Americas",
        "EMEA",
    ]
    # APAC is large enough to learn from: about 15 % of leads (2,500+ of 20,000).
    assert (same["region"] == "APAC").mean() > 0.13


def test_same_is_the_default_table_plus_a_region_column(tables: dict[str, pd.DataFrame]) -> None:
    pd.testing.assert_frame_equal(tables["same"].drop(columns="region"), tables["plain"])


def test_different_redraws_only_apac_conversion(tables: dict[str, pd.DataFrame]) -> None:
    same, different = tables["same"], tables["different"]
    pd.testing.assert_frame_equal(
        same.drop(columns="converted"), different.drop(columns="converted")
    )
    assert different["converted"].dtype == same["converted"].dtype
    apac = (same["region"] == "APAC").to_numpy()
    moved = (same["converted"] != different["converted"]).to_numpy()
    assert not moved[~apac].any()
    assert moved[apac].mean() > 0.15  # really re-drawn, not a copy


def test_apac_rule_really_differs(tables: dict[str, pd.DataFrame]) -> None:
    """Budget reversed and partners strong in APAC, as the docstring says; not elsewhere."""
    different = tables["different"]
    apac = different[different["region"] == "APAC"]
    rest = different[different["region"].isin(["Americas", "EMEA"])]

    def rate(frame: pd.DataFrame, column: str, value: str) -> float:
        return float(frame.loc[frame[column] == value, "converted"].mean())

    assert rate(apac, "budget_range", "< 10k") > rate(apac, "budget_range", "> 250k") + 0.15
    assert rate(rest, "budget_range", "< 10k") < rate(rest, "budget_range", "> 250k") - 0.1
    assert rate(apac, "lead_source", "Partner") > rate(apac, "lead_source", "Cold outbound") + 0.3
    assert rate(apac, "demo_requested", "Yes") < rate(rest, "demo_requested", "Yes") - 0.2


def test_apac_rule_names_every_answer_the_generator_writes() -> None:
    assert list(APAC_BUDGET) == BUDGET_LEVELS
    assert set(APAC_SOURCES) == set(SOURCES)
    assert set(APAC_INDUSTRIES) == set(INDUSTRIES)
    assert set(APAC_TIMELINE) <= set(TIMELINE_LEVELS)


def test_the_as_of_export_follows_the_redrawn_conversion() -> None:
    kwargs = {"rows": 3000, "seed": 4, "segments": "different"}
    truth = eventual_outcomes(**kwargs)
    full = generate_leads(**kwargs)
    assert (truth["converted"] == full["converted"]).all()
    export = generate_leads(**kwargs, as_of="2026-06-01")
    assert "region" in export.columns and "converted" not in export.columns
    fates = eventual_outcomes(**kwargs, as_of="2026-06-01")
    won = export["status"].isin(STATUS_WON).to_numpy()
    assert won.any() and (fates.loc[won, "converted"] == 1).all()
    same = generate_leads(3000, 4, segments="same", as_of="2026-06-01")
    pd.testing.assert_frame_equal(
        export.drop(columns=["status", "converted_at", "closed_at"]),
        same.drop(columns=["status", "converted_at", "closed_at"]),
    )
    apac = (export["region"] == "APAC").to_numpy()
    assert (export["status"] != same["status"]).to_numpy()[apac].any()
    assert (export["status"] == same["status"]).to_numpy()[~apac].all()


def test_a_segment_drift_touches_only_that_region() -> None:
    knobs = {"budget_shift": 0.8, "new_source": 0.3}
    confined = generate_leads(4000, 6, drift=Drift(**knobs, segment="EMEA"))
    calm = generate_leads(4000, 6, segments="same")
    everywhere = generate_leads(4000, 6, drift=Drift(**knobs), segments="same")
    assert list(confined.columns) == list(calm.columns)  # a segment drift names its region
    emea = (calm["region"] == "EMEA").to_numpy()
    pd.testing.assert_frame_equal(confined[~emea], calm[~emea])
    pd.testing.assert_frame_equal(confined[emea], everywhere[emea])
    assert (confined.loc[emea, "budget_range"] != calm.loc[emea, "budget_range"]).mean() > 0.2
    assert (confined.loc[emea, "lead_source"] == "AI chat assistant").mean() > 0.2
    for column in calm.columns:
        assert confined[column].dtype == calm[column].dtype, column


def test_segment_drift_and_segments_parse_and_fail_plainly() -> None:
    assert parse_drift(["budget=0.8", "segment=EMEA"]) == Drift(0.8, segment="EMEA")
    with pytest.raises(LeadMLError, match="segment=REGION"):
        parse_drift(["region=EMEA"])
    with pytest.raises(LeadMLError, match="drift segment 'Mars' is not a region"):
        parse_drift(["segment=Mars"])
    with pytest.raises(LeadMLError, match="segments 'some' is not one of: same, different"):
        generate_leads(100, 1, segments="some")


def test_cli_generate_writes_the_region_column(tmp_path) -> None:
    out = tmp_path / "leads.csv"
    args = ["generate", "--rows", "800", "--seed", "2", "--segments", "different"]
    done = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert done.exit_code == 0, done.output
    written = pd.read_csv(out)
    expected = generate_leads(800, 2, segments="different")
    assert written["region"].fillna("").tolist() == expected["region"].fillna("").tolist()
    assert np.array_equal(written["converted"].to_numpy(), expected["converted"].to_numpy())
    refused = CliRunner().invoke(app, [*args, "--style", "export", "--out", str(out)])
    assert refused.exit_code != 0 and "--segments" in refused.output
