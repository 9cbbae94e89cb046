"""``leadml train --target``: the hint to edit an inferred schema, and --allow for staff."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.bundle.model import LeadModel
from leadml.cli import app
from leadml.cli.options import OutcomeOptions
from leadml.cli.train import schema_edit_hint
from leadml.schema import LeadSchema
from leadml.schema.spec import FeatureSpec


def form_leads(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    """Web-form leads whose budget and need answers drive conversion; a rep per lead."""
    rng = np.random.default_rng(seed)
    budget = rng.integers(0, 3, n)
    need = rng.integers(0, 2, n)
    odds = -2.0 + 0.9 * budget + 1.2 * need + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "Orçamento disponível": np.array(
                ["Até R$ 1.000", "R$ 1.000 – 5.000", "Mais de R$ 5.000"]
            )[budget],
            "What matters most to you in choosing a course": np.array(
                ["Flexibility & Convenience", "Better Career Prospects"]
            )[need],
            "TotalVisits": rng.poisson(3, n),
            "q9": rng.normal(size=n),
            "Sales Agent": rng.choice(["Ana Silva", "Piotr Nowak", "John Smith"], n),
            "Manager": rng.choice(["Melvin Marxen", "Dustin Brinkmann"], n),
            "Converted": (rng.random(n) < 1 / (1 + np.exp(-odds))).astype(int),
        }
    )


def test_train_prints_the_commands_that_edit_the_schema_and_allow_keeps_staff(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADML_NUM_THREADS", "1")  # a shared 2-core box
    form_leads().to_csv(home / "my leads.csv", index=False)
    done = CliRunner().invoke(
        app,
        ["train", "--data", "my leads.csv", "--target", "Converted", "--allow", "Sales Agent"],
    )
    assert done.exit_code == 0, done.output
    lines = [line.strip() for line in done.output.splitlines()]
    assert (
        "Schema: 1 column unassigned ('q9') and no column tagged authority or timing: write"
        in " ".join(lines)
    )
    infer = (
        "leadml schema infer --data 'my leads.csv' --target Converted --out my-leads.schema.toml"
    )
    assert infer in lines
    assert "leadml train --data 'my leads.csv' --schema my-leads.schema.toml" in lines
    # Staff were said left out, with the flag; the one allowed came back as a feature.
    assert any("staff, left out: 'Manager'" in line for line in lines)
    assert "Schema: staff column 'Sales Agent' kept as a feature, as --allow asks" in lines
    model = LeadModel.load(home / "models" / "my-leads")
    assert "Sales Agent" in model.feature_names and "Manager" not in model.feature_names
    assert "Manager" in model.schema.exclude

    # The printed command pastes: it writes the schema a user edits and trains with.
    written = CliRunner().invoke(app, shlex.split(infer)[1:])
    assert written.exit_code == 0, written.output
    schema = LeadSchema.load(home / "my-leads.schema.toml")
    assert schema.feature("q9").group == "other" and "Sales Agent" in schema.exclude


def schema_of(*features: FeatureSpec) -> LeadSchema:
    return LeadSchema(name="crm", target="won", features=list(features))


def test_the_hint_quotes_every_name_and_carries_the_outcome_options() -> None:
    schema = schema_of(
        FeatureSpec(name="x", kind="numeric"),
        FeatureSpec(name="y", kind="numeric"),
        FeatureSpec(name="budget", kind="numeric", group="qualification", criterion="budget"),
    )
    outcome = OutcomeOptions(["Closed Won"], ["Lost"], None, "won at")
    lines = schema_edit_hint(schema, "exports/crm (1).csv", "Deal Stage", outcome, name="crm")
    assert lines[0].startswith(
        "2 columns unassigned ('x', 'y') and no column tagged authority or need or timing"
    )
    assert lines[1] == (
        "leadml schema infer --data 'exports/crm (1).csv' --target 'Deal Stage' --positive "
        "'Closed Won' --negative Lost --converted-at 'won at' --name crm --out crm.schema.toml"
    )
    assert lines[2] == (
        "leadml train --data 'exports/crm (1).csv' --schema crm.schema.toml --name crm"
    )
    labelled = schema_edit_hint(schema, "leads.csv", None, OutcomeOptions(), "deals.csv", "id")
    assert "--outcomes deals.csv --on id --out" in labelled[1]
    assert "--outcomes deals.csv --on id --schema" in labelled[2]


def test_no_hint_when_every_column_is_placed_and_every_criterion_recorded() -> None:
    placed = [
        FeatureSpec(name=c, kind="numeric", group="qualification", criterion=c)
        for c in ("budget", "authority", "need", "timing")
    ]
    assert schema_edit_hint(schema_of(*placed), "a.csv", "won", OutcomeOptions()) == []
    one = schema_of(*placed, FeatureSpec(name="z", kind="numeric"))
    assert schema_edit_hint(one, "a.csv", "won", OutcomeOptions())[0].startswith(
        "1 column unassigned ('z'):"
    )
