"""``leadml accounts`` end to end: 2,000 leads of 300 companies, ranked one row per company,
and an account column that is misspelt or personal refused in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import generate_leads
from leadml.modeling.finish import TrainResult

LEADS, COMPANIES, BLANK = 2_000, 300, 25


@pytest.fixture(scope="module")
def lead_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fresh leads, each given one of 300 companies; 25 have the company left blank."""
    frame = generate_leads(LEADS, seed=21)
    rng = np.random.default_rng(21)
    frame["company"] = [f"Company {i:03d}" for i in rng.integers(0, COMPANIES, LEADS)]
    frame.loc[frame.index[:BLANK], "company"] = ""
    path = tmp_path_factory.mktemp("accounts") / "leads.csv"
    frame.to_csv(path, index=False)
    return path


def run(home: Path, model: Path, data: Path, *args: str):
    return CliRunner().invoke(
        app,
        ["accounts", "--model", str(model), "--data", str(data), *args],
        env={"LEADML_HOME": str(home), "COLUMNS": "200"},
    )


def test_one_row_per_account_best_first(
    lead_file: Path, trained: TrainResult, tmp_path: Path
) -> None:
    assert trained.bundle is not None
    out = tmp_path / "accounts.csv"
    done = run(tmp_path, trained.bundle, lead_file, "--account", "company", "--out", str(out))
    assert done.exit_code == 0, done.output
    leads = pd.read_csv(lead_file, keep_default_na=False)
    table = pd.read_csv(out, keep_default_na=False)
    named = leads[leads["company"] != ""]
    assert len(table) == named["company"].nunique() and table["account"].is_unique
    assert table["leads"].sum() == LEADS - BLANK
    counts = named["company"].value_counts()
    assert (table.set_index("account")["leads"] == counts.reindex(table["account"])).all()
    assert table["p_any"].is_monotonic_decreasing
    assert ((table["p_any"] > 0) & (table["p_any"] <= 1)).all()
    assert (table["expected_conversions"] <= table["leads"]).all()
    owner = named.set_index("lead_id")["company"]
    assert (owner.reindex(table["best_lead"]).to_numpy() == table["account"].to_numpy()).all()
    by = table["authority_covered_by"].replace("", np.nan).dropna()
    assert (owner.reindex(by).to_numpy() == table.loc[by.index, "account"].to_numpy()).all()
    assert f"Ranked {len(table):,} accounts from {LEADS - BLANK:,} leads" in done.output
    assert f"{BLANK} leads without 'company' left out" in done.output
    assert table.loc[0, "account"] in done.output  # the table shows the best account
    assert "@" not in out.read_text()  # no e-mail reaches the account file


@pytest.mark.parametrize(
    ("column", "said"),
    [
        ("compnay", "no column 'compnay' in"),
        ("email", "'email' holds personal data"),
    ],
)
def test_refused_columns_exit_2_in_one_line(
    column: str, said: str, lead_file: Path, trained: TrainResult, tmp_path: Path
) -> None:
    assert trained.bundle is not None
    out = tmp_path / "accounts.csv"
    done = run(tmp_path, trained.bundle, lead_file, "--account", column, "--out", str(out))
    assert done.exit_code == 2
    errors = [line for line in done.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and said in errors[0], done.output
    assert "Traceback" not in done.output and not out.exists()
