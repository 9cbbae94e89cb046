"""Leads that objected to profiling (GDPR Art. 21) at training and in ``leadml score``: never
learned from (the shipped row count is exactly the others'), the opt-out column never a
feature, and a table's objecting rows answered ``scored`` false with no probability or grade.

One cheap training of 3,000 synthetic leads, 137 of them objecting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadml.api.scoring import score_frame
from leadml.bundle.model import LeadModel
from leadml.data.synthetic import generate_leads
from leadml.data.validate import validate
from leadml.modeling.finish import TrainResult
from leadml.modeling.train import train_leads
from leadml.schema.spec import LeadSchema
from tests.support.training import cheap_settings

OBJECTING = 137


@pytest.fixture(scope="module")
def objecting_leads() -> pd.DataFrame:
    leads = generate_leads(3000, seed=137)
    flags = np.full(len(leads), "no", dtype=object)
    flags[np.random.default_rng(137).choice(len(leads), OBJECTING, replace=False)] = " YES "
    leads["objected"] = flags
    return leads


@pytest.fixture(scope="module")
def objecting_schema(schema: LeadSchema) -> LeadSchema:
    return LeadSchema.model_validate({**schema.model_dump(), "opt_out": "objected"})


@pytest.fixture(scope="module")
def trained_objecting(
    objecting_leads: pd.DataFrame,
    objecting_schema: LeadSchema,
    tmp_path_factory: pytest.TempPathFactory,
) -> TrainResult:
    home = tmp_path_factory.mktemp("objections")
    return train_leads(
        objecting_leads, objecting_schema, cheap_settings(home), out=home / "bundle", track=False
    )


def test_objecting_leads_are_never_learned_from(
    objecting_leads: pd.DataFrame, objecting_schema: LeadSchema, trained_objecting: TrainResult
) -> None:
    checked = validate(objecting_leads, objecting_schema)
    assert checked.opted_out == OBJECTING
    everyone = validate(
        objecting_leads.drop(columns="objected"),
        objecting_schema.model_copy(update={"opt_out": None}),
    )
    assert len(everyone.frame) == 3000  # the synthetic table drops no other row
    assert len(checked.frame) == 3000 - OBJECTING
    rows = trained_objecting.model.meta["rows"]
    assert rows["shipped"] == 3000 - OBJECTING and rows["opted out"] == OBJECTING
    assert trained_objecting.metrics["shipped"]["rows"] == 3000 - OBJECTING
    assert any("137 leads objected to profiling" in w for w in trained_objecting.warnings)


def test_the_opt_out_column_is_never_a_feature(trained_objecting: TrainResult) -> None:
    model = trained_objecting.model
    assert "objected" not in model.encoder.names
    assert all(f.source != "objected" and f.name != "objected" for f in model.schema.features)
    bundle = trained_objecting.bundle
    assert bundle is not None
    for path in Path(bundle).rglob("*"):  # only its name, in the schema: never a value
        if path.is_file() and path.suffix in {".json", ".txt", ".html", ".md", ".csv"}:
            text = path.read_text(errors="replace")
            assert " YES " not in text, path
    meta = json.loads((Path(bundle) / "leadml.json").read_text())
    assert meta["schema"]["opt_out"] == "objected"
    with pytest.raises(ValueError, match="opt-out"):
        LeadSchema.model_validate(
            {**model.schema.model_dump(), "opt_out": model.schema.features[0].name}
        )


def test_score_leaves_objecting_rows_unscored(
    objecting_leads: pd.DataFrame, trained_objecting: TrainResult
) -> None:
    model = LeadModel.load(trained_objecting.bundle)  # type: ignore[arg-type]
    table = objecting_leads.drop(columns="converted").head(200).copy()
    table.index = range(500, 700)  # any index: rows come back in order, positions kept
    flagged = table["objected"].str.strip().str.lower() == "yes"
    assert 0 < flagged.sum() < len(table)
    out = score_frame(model, table).table
    assert len(out) == len(table) and list(out["lead_id"]) == list(table["lead_id"])
    assert list(out.columns[:2]) == ["lead_id", "scored"]
    assert (out["scored"].to_numpy() == ~flagged.to_numpy()).all()
    assert out.loc[~out["scored"], ["probability", "score", "grade"]].isna().all().all()
    assert out.loc[out["scored"], "probability"].between(0, 1).all()
    alone = score_frame(model, table.loc[~flagged.to_numpy()]).table
    kept = out.loc[out["scored"], "probability"].to_numpy()
    assert np.allclose(kept, alone["probability"].to_numpy(), rtol=0, atol=1e-12)
    every = score_frame(model, table.loc[flagged.to_numpy()]).table
    assert not every["scored"].any() and every["probability"].isna().all()
    without = score_frame(model, table.drop(columns="objected")).table
    assert without["scored"].all()
