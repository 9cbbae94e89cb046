"""End to end through the real CLI: a real MLflow SQLite store and registry in a temp folder."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from leadml.bundle.model import LeadModel
from tests.support.cli import leadml_process as leadml
from tests.support.paths import SCHEMA, folder_digest

#: The registered model (and bundle folder) of the synthetic project: the schema's name.
NAME = "synthetic-crm"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generate → train once, through the CLI; later tests inspect and try to break it."""
    home = tmp_path_factory.mktemp("cli")
    done = leadml("generate", "--rows", "6000", "--seed", "5", "--out", "leads.csv", cwd=home)
    assert done.returncode == 0, done.stderr
    done = leadml("train", "--data", "leads.csv", "--schema", SCHEMA, cwd=home)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Headline fold" in done.stdout and "Backtest (" in done.stdout
    (home / "train.out").write_text(done.stdout, encoding="utf-8")  # what a log would keep
    return home


@pytest.fixture()
def client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{project / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_run_metrics_artifacts_and_aliases(project: Path, client: MlflowClient) -> None:
    bundle = project / "models" / NAME
    assert {"model.txt", "leadml.json", "metrics.json"} <= {p.name for p in bundle.iterdir()}
    runs = client.search_runs([client.get_experiment_by_name(NAME).experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.metrics["test_roc_auc"] > 0.8
    assert "baseline_logistic_regression_roc_auc" in run.data.metrics
    assert int(run.data.params["rows_headline_test"]) == 1200
    assert int(run.data.params["rows_shipped"]) == 6000  # the shipped model: every lead
    assert "pooled_roc_auc" in run.data.metrics
    # the backtest's ROC AUC fold by fold, oldest first, as one metric's steps
    steps = client.get_metric_history(run.info.run_id, "backtest_roc_auc")
    assert [m.step for m in steps] == list(range(1, int(run.data.params["backtest_folds"]) + 1))
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"data_fingerprint.json", "schema.toml", "plots", "metrics.json"} <= artifacts
    assert "backtest_folds.csv" in artifacts
    plots = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"roc.png", "pr.png", "reliability.png", "gains.png", "score_histogram.png"} <= plots
    assert "backtest.png" in plots
    champion = client.get_model_version_by_alias(NAME, "champion")
    challenger = client.get_model_version_by_alias(NAME, "challenger")
    assert str(champion.version) == str(challenger.version) == "1"
    assert champion.run_id == run.info.run_id
    # The store lives in the project home, named as MLflow names it (mlflow ui finds it).
    assert (project / "mlflow.db").is_file() and (project / "mlruns").is_dir()
    assert not (project / "mlflow").exists()


def test_train_output_in_a_log_cuts_no_number(project: Path) -> None:
    """Off a terminal rich assumes 80 columns and cut the backtest's "(0.851–…": a log keeps
    whole numbers, and the report it names carries the version label."""
    out = (project / "train.out").read_text(encoding="utf-8")
    assert "…" not in out
    intervals = re.findall(r"\d\.\d{3} \((\d\.\d{3})–(\d\.\d{3})\)", out)
    assert len(intervals) >= 3  # every fold's ROC AUC with its interval, on one line
    version = LeadModel.load(project / "models" / NAME).version
    assert version.startswith(f"{NAME}-v1-") and f"model {version}" in " ".join(out.split())
    page = (project / "models" / NAME / "report.html").read_text(encoding="utf-8")
    assert f"<h1>Lead model report — {version}</h1>" in page


def test_score_from_the_registry_keeps_columns(project: Path) -> None:
    done = leadml(
        "score",
        "--model",
        f"models:/{NAME}@champion",
        "--data",
        "leads.csv",
        "--out",
        "s.csv",
        cwd=project,
    )
    assert done.returncode == 0, done.stderr
    scored = pd.read_csv(project / "s.csv")
    original = pd.read_csv(project / "leads.csv")
    assert scored.columns[0] == "lead_id"
    assert set(original.columns) <= set(scored.columns)
    assert {"probability", "score", "grade", "tier", "stage"} <= set(scored.columns)
    assert scored["score"].between(0, 100).all()
    assert set(scored["grade"]) <= set("ABCD")
    local = LeadModel.load(project / "models" / NAME).score_frame(original)
    np.testing.assert_allclose(scored["probability"], local["probability"], rtol=0, atol=1e-12)


def test_logged_pyfunc_predicts_like_the_bundle(project: Path, client: MlflowClient) -> None:
    pyfunc = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    sample = pd.read_csv(project / "leads.csv").head(300)
    served = pyfunc.predict(sample.astype(str).replace("nan", None))
    local = LeadModel.load(project / "models" / NAME).score_frame(sample)
    np.testing.assert_allclose(served["probability"], local["probability"], atol=1e-12)

    # the signature names the fields a CRM may send, all optional, and nothing private
    signature = mlflow.models.get_model_info(f"models:/{NAME}@champion").signature
    names = signature.inputs.input_names()
    schema = LeadModel.load(project / "models" / NAME).schema
    assert set(names) == {f.column for f in schema.features}
    assert signature.inputs.optional_input_names() == names
    assert not set(names) & {*schema.pii, schema.id, schema.target}
    assert signature.outputs.input_names() == ["probability", "score", "grade", "tier", "stage"]
    # a lead with fields left out is scored with them missing, as the bundle does
    few = sample[["lead_id", "budget_range", "demo_requested"]].head(5)
    np.testing.assert_allclose(
        pyfunc.predict(few)["probability"],
        LeadModel.load(project / "models" / NAME).score_frame(few)["probability"],
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda f: f.drop(columns="converted"), "target column 'converted' not found"),
        (lambda f: f.assign(converted=0), "only one class"),
        (lambda f: f.assign(converted=(np.arange(len(f)) < 30).astype(int)), "at least 40"),
        (
            lambda f: f.astype({"employees": object}).assign(employees="many"),
            "'employees' has 6000 non-numeric values",
        ),
        (lambda f: f.head(0), "no rows"),
    ],
    ids=["no-target", "one-class", "few-positives", "bad-numbers", "no-rows"],
)
def test_bad_training_files_fail_cleanly_and_lose_nothing(
    project: Path, client: MlflowClient, breakage, message: str
) -> None:
    bundle = project / "models" / NAME
    before = folder_digest(bundle)
    runs_before = len(client.search_runs([client.get_experiment_by_name(NAME).experiment_id]))
    broken = breakage(pd.read_csv(project / "leads.csv"))
    broken.to_csv(project / "broken.csv", index=False)
    done = leadml("train", "--data", "broken.csv", "--schema", SCHEMA, cwd=project)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Project home:")  # then one error line
    assert folder_digest(bundle) == before
    runs_after = len(client.search_runs([client.get_experiment_by_name(NAME).experiment_id]))
    assert runs_after == runs_before
    assert str(client.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert str(client.get_model_version_by_alias(NAME, "challenger").version) == "1"
