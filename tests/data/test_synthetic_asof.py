"""``generate_leads(as_of=...)``: the synthetic history as a CRM would export it that day.

A live funnel instead of eventual outcomes: only the leads created by then, still-open leads,
young leads that have not had time to convert, a status spelled a few ways per class. The
default table must not move by a single cell, so the rest of the test suite stays valid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import Drift, eventual_outcomes, generate_leads
from leadml.data.synthetic_funnel import STATUS_LOST, STATUS_OPEN, STATUS_WON
from leadml.errors import LeadMLError

AS_OF = "2026-06-01"
MOMENT = pd.Timestamp(AS_OF)
ROWS, SEED = 6000, 5
NEW = ["status", "converted_at", "closed_at"]
#: Fingerprints of default tables measured before ``as_of`` existed: they must never move.
GOLDEN = {
    "plain": 2597170514770591651,  # generate_leads(2000, 7)
    "drift+accounts": 6295832968110884146,  # generate_leads(500, 3, drift=..., accounts=40)
}


def fingerprint(frame: pd.DataFrame) -> int:
    return int(pd.util.hash_pandas_object(frame, index=True).sum() % (2**63))


def classes(status: pd.Series) -> pd.Series:
    """converted / lost / open, by the module's own spellings."""
    out = np.select([status.isin(STATUS_WON), status.isin(STATUS_LOST)], ["won", "lost"], "open")
    return pd.Series(out, index=status.index)


@pytest.fixture(scope="module")
def default() -> pd.DataFrame:
    return generate_leads(ROWS, SEED)


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return generate_leads(ROWS, SEED, as_of=AS_OF)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return eventual_outcomes(ROWS, SEED, as_of=AS_OF)


def test_default_table_is_unchanged() -> None:
    drift = Drift(budget_shift=0.8, new_source=0.3)
    assert fingerprint(generate_leads(2000, 7)) == GOLDEN["plain"]
    assert fingerprint(generate_leads(500, 3, drift=drift, accounts=40)) == GOLDEN["drift+accounts"]
    pd.testing.assert_frame_equal(generate_leads(800, 9, as_of=None), generate_leads(800, 9))


@pytest.mark.parametrize(
    "kwargs", [{}, {"drift": Drift(budget_shift=0.5, new_source=0.2), "accounts": 30}]
)
def test_other_columns_are_the_default_tables_row_for_row(kwargs: dict) -> None:
    plain = generate_leads(3000, 13, **kwargs)
    shown = generate_leads(3000, 13, as_of="2025-09-15", **kwargs)
    assert list(shown.columns) == [c for c in plain.columns if c != "converted"] + NEW
    assert 0 < len(shown) < len(plain)
    pd.testing.assert_frame_equal(
        shown.drop(columns=NEW), plain.drop(columns="converted").iloc[: len(shown)]
    )


def test_no_lead_created_after_as_of(default: pd.DataFrame, export: pd.DataFrame) -> None:
    created = pd.to_datetime(export["created_at"])
    assert created.max() <= MOMENT
    # ... and every lead created by then is there.
    assert len(export) == (pd.to_datetime(default["created_at"]) <= MOMENT).sum()


def test_statuses_and_dates_agree(export: pd.DataFrame) -> None:
    assert export["status"].isin(STATUS_WON + STATUS_LOST + STATUS_OPEN).all()
    kind = classes(export["status"])
    assert set(kind) == {"won", "lost", "open"}
    assert (export["converted_at"].notna() == (kind == "won")).all()
    assert (export["closed_at"].notna() == kind.isin(["won", "lost"])).all()
    won = kind == "won"
    assert (export.loc[won, "converted_at"] == export.loc[won, "closed_at"]).all()
    created = pd.to_datetime(export["created_at"])
    for column in ("converted_at", "closed_at"):
        assert export[column].dropna().str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
        moment = pd.to_datetime(export[column])
        present = moment.notna()
        assert (moment[present] <= MOMENT).all()
        assert (moment[present] >= created[present]).all()


def test_spellings_mix_as_crms_do(export: pd.DataFrame) -> None:
    won = export.loc[classes(export["status"]) == "won", "status"]
    assert 0.7 < (won == "Closed Won").mean() < 0.9
    assert set(export["status"]) == set(STATUS_WON + STATUS_LOST + STATUS_OPEN)


def test_old_leads_are_settled_and_young_ones_still_open(
    export: pd.DataFrame, truth: pd.DataFrame
) -> None:
    age = MOMENT - pd.to_datetime(export["created_at"])
    eventual = truth["converted"] == 1
    still_open = classes(export["status"]) == "open"
    old = eventual & (age > pd.Timedelta(days=365))
    young = eventual & (age < pd.Timedelta(days=14))
    assert old.sum() > 200 and young.sum() > 10
    assert still_open[old].mean() < 0.02
    assert still_open[young].mean() > 0.6


def test_young_leads_have_not_had_time_to_convert(
    export: pd.DataFrame, truth: pd.DataFrame
) -> None:
    last_month = MOMENT - pd.to_datetime(export["created_at"]) < pd.Timedelta(days=30)
    shown = (classes(export["status"])[last_month] == "won").mean()
    eventual = truth.loc[last_month, "converted"].mean()
    assert eventual > 0.1
    assert shown < 0.6 * eventual


def test_eventual_outcomes_are_the_truth_behind_the_export(
    default: pd.DataFrame, export: pd.DataFrame, truth: pd.DataFrame
) -> None:
    assert list(truth.columns) == [
        "lead_id",
        "created_at",
        "converted",
        "converted_at",
        "days_to_convert",
    ]
    assert truth["lead_id"].tolist() == export["lead_id"].tolist()
    kept = default.iloc[: len(export)]
    assert truth["converted"].tolist() == kept["converted"].tolist()
    # Every converter has its moment, even after as_of; the export shows those up to as_of.
    assert (truth["converted_at"].notna() == (truth["converted"] == 1)).all()
    by_then = pd.to_datetime(truth["converted_at"]) <= MOMENT
    assert (by_then == (classes(export["status"]) == "won")).all()
    assert (truth.loc[by_then, "converted_at"] == export.loc[by_then, "converted_at"]).all()
    assert (truth["days_to_convert"].notna() == (truth["converted"] == 1)).all()
    everyone = eventual_outcomes(ROWS, SEED)
    assert len(everyone) == ROWS
    assert everyone["converted"].tolist() == default["converted"].tolist()


def test_conversion_delays_have_a_long_tail() -> None:
    days = eventual_outcomes(ROWS, SEED)["days_to_convert"].dropna()
    assert len(days) > 600
    assert 15 < days.median() < 28
    assert 0.05 < (days > 90).mean() < 0.14
    assert (days >= 0).all()


def test_a_later_export_never_undoes_an_earlier_one() -> None:
    early = generate_leads(3000, 17, as_of="2025-08-01")
    late = generate_leads(3000, 17, as_of="2026-02-01").iloc[: len(early)]
    settled = classes(early["status"]) != "open"
    assert settled.any()
    for column in NEW:
        assert early.loc[settled, column].equals(late.loc[settled, column])
    # Some of the leads open in August have closed by February.
    assert (classes(late["status"])[~settled] != "open").any()


def test_same_seed_same_export_other_seed_other_export(export: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(export, generate_leads(ROWS, SEED, as_of=AS_OF))
    other = generate_leads(ROWS, SEED + 1, as_of=AS_OF)
    assert not export["status"].equals(other["status"].iloc[: len(export)])


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", ""])
def test_a_bad_date_is_one_clear_error(bad: str) -> None:
    with pytest.raises(LeadMLError, match=f"as-of '{bad}' is not a date"):
        generate_leads(100, 1, as_of=bad)
    with pytest.raises(LeadMLError, match="as-of"):
        eventual_outcomes(100, 1, as_of=bad)


def test_an_as_of_before_every_lead_is_an_error() -> None:
    with pytest.raises(LeadMLError, match="before the first lead"):
        generate_leads(100, 1, as_of="2020-01-01")


def test_cli_writes_the_export(tmp_path) -> None:
    out = tmp_path / "leads.csv"
    args = ["generate", "--rows", "1500", "--seed", "3", "--as-of", AS_OF, "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert list(written.columns[-3:]) == NEW
    assert "converted" not in written.columns
    assert written["status"].isin(STATUS_WON + STATUS_LOST + STATUS_OPEN).all()
    text = " ".join(result.output.split())
    assert f"Wrote {len(written):,} leads" in text
    for word in ("converted", "lost", "open"):
        assert word in text


def test_cli_names_a_bad_date(tmp_path) -> None:
    args = ["generate", "--rows", "50", "--as-of", "2026-02-30", "--out", str(tmp_path / "x.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "2026-02-30" in result.output
    assert not (tmp_path / "x.csv").exists()
