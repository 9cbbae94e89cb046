"""One store, several projects: each has its own registered model, champion and versions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from leadml.data.synthetic import generate_leads
from tests.support.cli import cli
from tests.support.homes import copy_home
from tests.support.paths import SCHEMA


def client(home: Path) -> MlflowClient:
    uri = f"sqlite:///{home / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def aliases(home: Path, name: str) -> tuple[str, str]:
    c = client(home)
    return tuple(  # type: ignore[return-value]
        str(c.get_model_version_by_alias(name, a).version) for a in ("champion", "challenger")
    )


def label(home: Path, name: str) -> str:
    return json.loads((home / "models" / name / "leadml.json").read_text())["meta"]["version"]


@pytest.fixture(scope="module")
def trained_projects(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """A synthetic project and a bank project, trained into one store."""
    home = tmp_path_factory.mktemp("projects")
    generate_leads(5000, seed=3).to_csv(home / "leads.csv", index=False)
    generate_leads(3000, seed=4).to_csv(home / "holdout.csv", index=False)
    bank = pd.read_csv(shared_data / "bank-marketing" / "bank-full.csv", sep=";")
    bank.head(12_000).to_csv(home / "bank-full.csv", sep=";", index=False)
    done = cli(home, "train", "--data", str(home / "leads.csv"), "--schema", SCHEMA)
    assert done.exit_code == 0, done.output
    # The oldest 12,000 bank leads rank their newest fifth no better than chance, so the model
    # is not crowned on its own (modeling.verdict): forced, as the point here is the projects.
    done = cli(
        home, "train", "--data", str(home / "bank-full.csv"), "--target", "y",
        "--positive", "yes", "--time-order", "--force",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return home


@pytest.fixture
def home(trained_projects: Path, tmp_path: Path) -> Path:
    """A copy of the two projects for this test alone: tests promote, train and delete."""
    return copy_home(trained_projects, tmp_path)


def test_each_project_registers_under_its_own_name(home: Path) -> None:
    names = sorted(m.name for m in client(home).search_registered_models())
    assert names == ["bank-full", "synthetic-crm"]  # the schema's name; the data file's
    assert aliases(home, "synthetic-crm") == aliases(home, "bank-full") == ("1", "1")
    assert {p.name for p in (home / "models").iterdir()} == {"bank-full", "synthetic-crm"}
    experiments = {e.name for e in client(home).search_experiments()}
    assert {"bank-full", "synthetic-crm"} <= experiments


def test_promote_asks_which_project_when_there_are_several(home: Path) -> None:
    done = cli(home, "promote")
    assert done.exit_code == 2
    assert "bank-full, synthetic-crm" in done.output and "--model" in done.output


def test_projects_are_promoted_independently(home: Path) -> None:
    before = label(home, "synthetic-crm")
    done = cli(home, "train", "--data", str(home / "leads.csv"), "--schema", SCHEMA)
    assert done.exit_code == 0, done.output
    assert aliases(home, "synthetic-crm") == ("1", "2")  # a challenger for its own champion
    assert aliases(home, "bank-full") == ("1", "1")  # the other project is untouched
    done = cli(
        home, "promote", "--model", "models:/synthetic-crm@challenger",
        "--data", str(home / "holdout.csv"),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert aliases(home, "synthetic-crm") == ("2", "2")
    assert aliases(home, "bank-full") == ("1", "1")
    assert label(home, "synthetic-crm") != before


def test_version_labels_are_never_reused_after_the_store_is_deleted(home: Path) -> None:
    first = label(home, "bank-full")
    assert first.startswith("bank-full-v1-")
    (home / "mlflow.db").unlink()  # what `make clean` does, between two processes
    shutil.rmtree(home / "mlruns")
    env = {**os.environ, "LEADML_HOME": str(home), "LEADML_NUM_THREADS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("leadml")), "train", "--data", "bank-full.csv",
         "--target", "y", "--positive", "yes", "--time-order"],
        cwd=home, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    again = label(home, "bank-full")
    assert again.startswith("bank-full-v1-")  # the registry counts from 1 again ...
    assert again != first  # ... but the label a score history keys on is new


def test_a_long_registered_name_still_gives_a_label_the_history_stores() -> None:
    from leadml.bundle.check import version_label_limit
    from leadml.tracking.registry import version_label

    long_name = "emea-inbound-" * 40  # MLflow takes it; the history's column would not
    labels = {version_label(long_name, n, f"{n:08d}abcdef") for n in (1, 2, 10_000)}
    assert len(labels) == 3
    assert all(len(label) <= version_label_limit() for label in labels)
    assert version_label("crm", 3, "0123456789") == "crm-v3-01234567"
