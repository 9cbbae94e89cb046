"""The messy web-form export: deterministic, shaped like a real CRM export, with the planted
traits the module docstring promises (placeholders that carry signal, sales-set fields drawn
after the outcome, a binned copy of a score, staff with close rates of their own)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.read import read_table
from leadml.data.synthetic_export import FORM_ORIGINS, generate_export

COLUMNS = [
    "Prospect ID",
    "Lead Number",
    "Data de criação",
    "Lead Origin",
    "Lead Source",
    "Do Not Email",
    "Do Not Call",
    "Converted",
    "TotalVisits",
    "Total Time Spent on Website",
    "Page Views Per Visit",
    "Last Activity",
    "Country",
    "City",
    "Specialization",
    "What is your current occupation",
    "What matters most to you in choosing a course",
    "Orçamento disponível",
    "How did you hear about us",
    "Search",
    "Newspaper Article",
    "Through Recommendations",
    "A free copy of Mastering The Interview",
    "Lead Profile",
    "Lead Quality",
    "Tags",
    "Asymmetrique Activity Score",
    "Asymmetrique Activity Index",
    "Sales Agent",
    "Manager",
    "Email",
    "Phone",
]
#: The questions where a skipped web form writes "Select" and a lead who never saw it a blank.
FORM_QUESTIONS = ("Specialization", "How did you hear about us", "City")


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return generate_export(20_000, seed=11)


def rate(export: pd.DataFrame, mask: pd.Series) -> float:
    return float(export.loc[mask, "Converted"].mean())


def invoke(*args: str, home: Path):
    return CliRunner().invoke(app, list(args), env={"LEADML_HOME": str(home), "COLUMNS": "200"})


def test_same_seed_same_table_other_seed_other_table() -> None:
    a = generate_export(800, seed=3)
    pd.testing.assert_frame_equal(a, generate_export(800, seed=3))
    assert not a.equals(generate_export(800, seed=4))


def test_columns_and_values_written_as_a_crm_exports_them(export: pd.DataFrame) -> None:
    assert list(export.columns) == COLUMNS
    assert 0.33 <= export["Converted"].mean() <= 0.42
    assert set(export["Converted"]) == {0, 1}
    for flag in ("Do Not Email", "Do Not Call", "Search", "Through Recommendations"):
        assert set(export[flag]) == {"Yes", "No"}, flag
    created = pd.to_datetime(export["Data de criação"], format="%Y-%m-%d %H:%M:%S")
    assert 500 <= (created.max() - created.min()).days <= 560  # about 18 months
    assert created.is_monotonic_increasing and export["Lead Number"].is_monotonic_increasing
    assert export["Lead Number"].is_unique and export["Prospect ID"].is_unique
    assert all(uuid.UUID(v).version == 4 for v in export["Prospect ID"].head(200))
    assert export["Email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.com").all()
    assert export["Phone"].str.fullmatch(r"\+55 \d\d 9\d{4}-\d{4}").all()
    assert export["Lead Source"].isna().any() and (export["Lead Source"] == "google").any()
    assert (export["Orçamento disponível"] == "Selecione").any()


def test_no_timing_field(export: pd.DataFrame) -> None:
    timing = re.compile(r"tim(e|ing)line|when|prazo|quando|urgen|deadline|months?\b", re.I)
    assert not [c for c in export.columns if timing.search(c)]


def test_select_and_blank_are_different_leads(export: pd.DataFrame) -> None:
    """Skipped on the form (Select) converts far more than never shown the form (blank)."""
    saw_form = export["Lead Origin"].isin(FORM_ORIGINS)
    for column in FORM_QUESTIONS:
        select, blank = export[column] == "Select", export[column].isna()
        assert not (select & ~saw_form).any() and not (blank & saw_form).any(), column
        assert rate(export, select) >= 0.30, column
        assert rate(export, blank) <= 0.20, column
        assert select.mean() > 0.1 and blank.mean() > 0.1, column


def test_honest_signals_point_the_documented_way(export: pd.DataFrame) -> None:
    def by(column: str) -> pd.Series:
        return export.groupby(column)["Converted"].mean()

    assert by("Lead Origin")["Lead Add Form"] > 0.6 > by("Lead Origin")["API"]
    source = by("Lead Source")
    assert source["Reference"] > source["Google"] > source["Olark Chat"]
    occupation = by("What is your current occupation")
    assert occupation["Working Professional"] > occupation["Unemployed"] > occupation["Student"]
    matters = by("What matters most to you in choosing a course")
    assert matters["Better Career Prospects"] > max(
        matters["Flexibility & Convenience"], matters["Other"]
    )
    budget = by("Orçamento disponível")
    assert budget["Mais de R$ 5.000"] > budget["R$ 1.000 – 5.000"] > budget["Até R$ 1.000"]
    assert by("Do Not Email")["Yes"] < by("Do Not Email")["No"]
    visited = export[export["Total Time Spent on Website"] > 0]  # others never browsed
    quintile = pd.qcut(visited["Total Time Spent on Website"], 5, labels=False)
    time_rate = visited.groupby(quintile)["Converted"].mean()
    assert time_rate.is_monotonic_increasing and time_rate.iloc[-1] > time_rate.iloc[0] + 0.3


def test_sales_set_fields_follow_the_outcome(export: pd.DataFrame) -> None:
    profile = export["Lead Profile"]
    assert rate(export, profile == "Potential Lead") >= 0.7
    assert 0.35 <= (profile == "Select").mean() <= 0.55 and profile.isna().mean() > 0.15
    assert rate(export, export["Lead Quality"] == "High in Relevance") > 0.7
    assert rate(export, export["Lead Quality"] == "Worst") < 0.15
    assert rate(export, export["Tags"] == "Closed by Horizzon") > 0.9
    assert rate(export, export["Tags"] == "Ringing") < 0.15
    score = export["Asymmetrique Activity Score"]
    assert 0.40 <= score.isna().mean() <= 0.50
    assert score.dropna().between(7, 18).all() and (score.dropna() % 1 == 0).all()
    means = score.groupby(export["Converted"]).mean()
    assert means[1] > means[0] + 0.8


def test_the_index_is_a_binned_copy_of_the_score(export: pd.DataFrame) -> None:
    score, index = export["Asymmetrique Activity Score"], export["Asymmetrique Activity Index"]
    assert (score.isna() == index.isna()).all()
    expected = pd.cut(score, [0, 12, 14, 18], labels=["03.Low", "02.Medium", "01.High"])
    assert (index.dropna() == expected.dropna().astype(str)).all()
    assert set(index.dropna()) == {"01.High", "02.Medium", "03.Low"}


def test_staff_have_close_rates_of_their_own(export: pd.DataFrame) -> None:
    agents = export.groupby("Sales Agent")
    assert len(agents) == 20 and export["Manager"].nunique() == 5
    assert (agents["Manager"].nunique() == 1).all()  # each agent has one manager
    close = agents["Converted"].mean()
    assert close.max() - close.min() > 0.12  # chance alone spreads ~1,000 leads each by ~0.06


def test_the_cli_writes_the_export_and_schema_infer_reads_it(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    args = ["--style", "export", "--rows", "2000", "--out", str(out)]
    done = invoke("generate", *args, home=tmp_path)
    assert done.exit_code == 0, done.output
    assert "2,000 leads × 32 columns" in done.output
    written = read_table(str(out))
    assert list(written.columns) == COLUMNS and len(written) == 2000
    inferred = invoke("schema", "infer", "--data", str(out), "--target", "Converted", home=tmp_path)
    assert inferred.exit_code == 0, inferred.output
    assert "Data de criação" in inferred.output


def test_the_cli_refuses_options_export_does_not_take(tmp_path: Path) -> None:
    out = tmp_path / "export.csv"
    done = invoke(
        "generate", "--style", "export", "--as-of", "2024-01-01", "--out", str(out), home=tmp_path
    )
    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and "--as-of" in lines[0] and "--style export" in lines[0]
    assert not out.exists()
