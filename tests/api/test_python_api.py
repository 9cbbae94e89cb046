"""``import leadml``: train from a file or a frame, load by folder and registry name, and a
model that scores exactly as ``leadml score`` does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import leadml
from leadml.cli import app
from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.errors import LeadMLError
from tests.support.training import CHEAP, cheap_settings

NAME = "api-leads"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("api")
    generate_leads(2_500, seed=11).to_csv(folder / "leads.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def model(home: Path) -> leadml.Model:
    """Trained once from a path, with target='converted', tracked and registered; the MLflow
    store is asked once for the whole training."""
    from leadml.tracking import store

    said: list[str] = []
    connected: list[str | None] = []
    real = store.connect

    def counted(settings: Settings, experiment: str | None = None) -> str | None:
        connected.append(experiment)
        return real(settings, experiment)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "connect", counted)
        trained = leadml.train(
            str(home / "leads.csv"),
            target="converted",
            name=NAME,
            recency="none",
            settings=cheap_settings(home),
            progress=said.append,
        )
    assert "Checking the MLflow store" in said and "Training" in said
    assert connected == [NAME]
    return trained


def test_a_model_trained_from_a_path_is_registered_with_its_bundle(
    model: leadml.Model, home: Path
) -> None:
    assert model.name == NAME and model.schema.target == "converted"
    assert model.bundle == home / "models" / NAME
    assert model.report_path == home / "models" / NAME / "report.html"
    assert 0.6 < model.metrics["roc_auc"] <= 1.0
    assert model.result is not None and model.result.version == "1"
    assert NAME in repr(model) and "ROC AUC" in repr(model)


def test_a_model_trained_from_a_frame_needs_no_file_and_no_store(tmp_path: Path) -> None:
    frame = generate_leads(1_500, seed=4)
    trained = leadml.train(
        frame,
        schema=leadml.example_schema(),
        out=tmp_path / "bundle",
        track=False,
        recency="none",
        settings={"home": tmp_path, **CHEAP},
    )
    assert trained.bundle == tmp_path / "bundle" and trained.result is not None
    assert trained.result.run_id is None and not (tmp_path / "mlflow.db").exists()
    assert trained.score(frame.head(10))["grade"].isin(list("ABCD")).all()


def test_score_agrees_with_the_cli_on_the_same_rows(
    model: leadml.Model, home: Path, tmp_path: Path
) -> None:
    rows = pd.read_csv(home / "leads.csv").tail(40)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "scored.csv"
    rows_csv = str(tmp_path / "rows.csv")
    args = ["score", "--model", str(model.bundle), "--data", rows_csv, "--out", str(out)]
    done = CliRunner().invoke(app, [*args, "--explain"], env={"LEADML_HOME": str(home)})
    assert done.exit_code == 0, done.output
    cli = pd.read_csv(out)
    ours = model.score(pd.read_csv(tmp_path / "rows.csv"), explain=True)
    assert list(ours.columns) == list(cli.columns)
    assert ours["probability"].round(6).tolist() == cli["probability"].round(6).tolist()
    assert ours["grade"].tolist() == cli["grade"].tolist()


def test_explain_next_steps_and_monitor_shapes(model: leadml.Model, home: Path) -> None:
    leads = pd.read_csv(home / "leads.csv")
    one = model.explain(leads.iloc[0])
    assert one.grade in "ABCD" and one.title.startswith("Lead ")
    assert "Budget" in one.card() and set(one.criteria().columns) == {
        "points",
        "contribution",
        "met",
    }
    assert one.score == model.score(leads.head(1))["score"].iloc[0]
    same = model.explain(leads.iloc[0].to_dict())
    assert same.probability == pytest.approx(one.probability)
    table = model.explain(leads.head(7))
    assert len(table) == 7 and {"budget_met", "qualified", "reasons"} <= set(table.columns)
    steps = model.next_steps(leads.head(6))
    assert len(steps) == 6 and all(isinstance(s, list) for s in steps)
    assert model.next_steps(leads.iloc[0]) == steps[0]
    watched = model.monitor(leads.tail(600))
    assert isinstance(watched.drift_alarm, bool) and watched.summary_lines()


def test_load_by_folder_alias_and_run(model: leadml.Model, home: Path) -> None:
    settings = cheap_settings(home)
    assert model.result is not None
    for ref in (
        str(model.bundle),
        f"models:/{NAME}@champion",
        f"models:/{NAME}/1",
        f"runs:/{model.result.run_id}/model",
    ):
        loaded = leadml.load(ref, settings=settings)
        # the same model; a runs:/ reference has no registered version to label it with
        assert loaded.lead_model.meta["model_id"] == model.lead_model.meta["model_id"], ref
        if not ref.startswith("runs:/"):
            assert loaded.version == model.version, ref
    assert leadml.load(model.bundle, settings=settings).bundle == model.bundle
    assert leadml.load(f"models:/{NAME}@champion", settings=settings).bundle is None


@pytest.mark.parametrize(
    ("keywords", "names"),
    [
        ({"target": "no_such_column"}, "no_such_column"),
        ({"target": "converted", "recency": "soon"}, "--recency"),
        ({"target": "converted", "horizon": "a week"}, "--horizon"),
        ({"target": "converted", "tune": -1}, "--tune"),
        ({}, "--target"),
        ({"target": "converted", "outcomes": "deals.csv"}, "--on"),
        ({"target": "converted", "settings": {"num_threads": 0}}, "num_threads"),
    ],
    ids=["unknown-target", "recency", "horizon", "tune", "no-target", "outcomes", "settings"],
)
def test_bad_input_is_one_line_naming_what_is_wrong(
    home: Path, tmp_path: Path, keywords: dict, names: str
) -> None:
    keywords.setdefault("settings", cheap_settings(tmp_path))
    with pytest.raises(LeadMLError) as raised:
        leadml.train(str(home / "leads.csv"), **keywords)
    message = str(raised.value)
    assert names in message and "\n" not in message
    assert not (tmp_path / "models").exists()


def test_import_leadml_is_cheap() -> None:
    """The service imports ``leadml.*``: the package itself must not pull in the heavy ones."""
    heavy = "('sklearn', 'mlflow', 'lightgbm', 'pandas')"
    code = f"import sys, leadml; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert sorted(leadml.__all__) == sorted(
        ["LeadClassifier", "Model", "example_leads", "example_schema", "load", "train"]
    )
