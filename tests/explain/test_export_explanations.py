"""A real-looking export, end to end: the promise "scores explained in BANT that a rep would
sign" holds on a messy web-form export, not only on the tidy synthetic history.

One model is trained by the CLI exactly as a new user would (``leadml train --data FILE
--target Converted``, no schema) on :func:`generate_export`, which plants what real exports
carry: form placeholders that convert differently from blanks, a sales-set profile field,
a score with its binned copy, staff names, column names in Portuguese and no timing field.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from leadml.bundle.model import LeadModel
from leadml.cli.app import app
from leadml.data.synthetic_export import generate_export
from leadml.explain.attributions import explain_matrix, explain_rows
from leadml.explain.rollup import plan_for
from tests.support.servers import LiveServer, serve_settings

ROWS = 4_000
EXPLAINED = 1_000
PLANTED = (
    "Lead Profile",
    "Lead Quality",
    "Tags",
    "Asymmetrique Activity Score",
    "Asymmetrique Activity Index",
)
STAFF = ("Sales Agent", "Manager")
SENTENCE = "This export records no timing field."


@pytest.fixture(scope="module")
def trained_export(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    home = tmp_path_factory.mktemp("export-home")
    data = home / "Leads export.csv"
    generate_export(ROWS, seed=3).to_csv(data, index=False)
    env = {"LEADML_HOME": str(home), "LEADML_HISTORY_URL": "none", "LEADML_BOOTSTRAP": "20"}
    args = ["train", "--data", str(data), "--target", "Converted", "--out", str(home / "bundle")]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    yield home, result.output


@pytest.fixture(scope="module")
def model(trained_export: tuple[Path, str]) -> LeadModel:
    return LeadModel.load(trained_export[0] / "bundle")


@pytest.fixture(scope="module")
def matrix(model: LeadModel) -> np.ndarray:
    fresh = generate_export(EXPLAINED, seed=11).drop(columns=["Converted"])
    return model.encoder.transform(model.encoder.parse(fresh))


def test_three_criteria_are_fed_and_other_carries_little(
    model: LeadModel, matrix: np.ndarray
) -> None:
    rollup = model.rollup("bant")
    assert set(rollup.recorded) >= {"budget", "authority", "need"}
    assert rollup.unrecorded == ("timing",)
    rows = explain_rows(model, matrix)
    points = np.abs(rows.criterion_points).sum(axis=0)
    share = dict(zip(rows.criteria, points / points.sum(), strict=True))
    assert share.get("other", 0.0) <= 0.25, share
    for criterion in ("budget", "authority", "need"):
        assert share[criterion] > 0.01, share


def test_planted_fields_and_staff_are_left_out(
    model: LeadModel, trained_export: tuple[Path, str]
) -> None:
    columns = {f.column for f in model.schema.features if f.name in model.encoder.names}
    assert not columns & set(PLANTED + STAFF), columns & set(PLANTED + STAFF)
    output = " ".join(trained_export[1].split())
    for column in PLANTED:
        assert f"--allow {shlex.quote(column)}" in output, column
    for column in STAFF:
        assert column in output


def test_a_skipped_question_is_its_own_state_and_still_asked(
    model: LeadModel, matrix: np.ndarray
) -> None:
    assert model.encoder.knows_not_answered("Specialization")
    lead = generate_export(1, seed=5).drop(columns=["Converted"]).iloc[0].to_dict()
    scores = {}
    for value in ("Select", None):
        lead["Specialization"] = value
        row = model.encoder.transform(model.encoder.parse(_frame(lead)))
        scores[value] = float(model.predict_proba(row)[0])
    assert abs(scores["Select"] - scores[None]) > 0.005, scores
    # A budget answer skipped on the form ("Selecione") is a state the model scores, and still
    # something to ask: the verdict treats it as unknown, the rep gets the question.
    lead["Orçamento disponível"] = "Selecione"
    row = model.encoder.transform(model.encoder.parse(_frame(lead)))
    plan = plan_for(model, "bant")
    assert not plan.answered(row)[0, model.encoder.names.index("Orçamento disponível")]
    explanation = explain_matrix(model, row)[0]
    assert explanation.criteria["budget"].met is None
    assert any(q.criterion == "budget" for q in explanation.questions)


def test_no_timing_is_said_once_per_model_never_per_lead(
    model: LeadModel, matrix: np.ndarray, trained_export: tuple[Path, str]
) -> None:
    for explanation in explain_matrix(model, matrix[:300]):
        assert all(q.criterion != "timing" for q in explanation.questions)
    report = (trained_export[0] / "bundle" / "report.html").read_text(encoding="utf-8")
    assert report.count(SENTENCE) == 1
    server = LiveServer(serve_settings(trained_export[0], trained_export[0] / "bundle")).start()
    try:
        with server.client() as http:
            described = http.get("/v1/model").json()
    finally:
        server.stop()
    assert described["unrecorded_criteria"] == ["timing"]
    assert described["unrecorded_sentence"] == SENTENCE


def _frame(lead: dict) -> pd.DataFrame:
    return pd.DataFrame([lead])
