"""The promotion gate: champion moves only to a challenger that is not worse on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import generate_leads

SCHEMA = str(Path(__file__).resolve().parents[2] / "data" / "schemas" / "synthetic.toml")
#: The synthetic project's registered model: the schema's name.
NAME = "synthetic-crm"
runner = CliRunner()


def cli(home: Path, *args: str):
    return runner.invoke(app, list(args), env={"LEADML_HOME": str(home), "MLFLOW_TRACKING_URI": ""})


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("promote")
    good = generate_leads(5000, seed=31)
    good.to_csv(home / "good.csv", index=False)
    noisy = good.copy()
    flip = np.random.default_rng(0).random(len(noisy)) < 0.35
    noisy.loc[flip, "converted"] = 1 - noisy.loc[flip, "converted"]
    noisy.to_csv(home / "noisy.csv", index=False)
    generate_leads(4000, seed=99).to_csv(home / "holdout.csv", index=False)
    for name in ("good", "noisy"):
        done = cli(
            home,
            "train",
            "--data",
            str(home / f"{name}.csv"),
            "--schema",
            SCHEMA,
            "--out",
            str(home / "models" / name),
        )
        assert done.exit_code == 0, done.output
    return home


def client(home: Path) -> MlflowClient:
    uri = f"sqlite:///{home / 'mlflow.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_promotion_needs_leads_neither_model_learned_from(home: Path) -> None:
    done = cli(home, "promote")  # challenger v2, champion v1
    assert done.exit_code == 2
    assert "give --data FILE: labelled leads neither model learned from" in done.output
    assert str(client(home).get_model_version_by_alias(NAME, "champion").version) == "1"


def test_worse_challenger_is_refused_with_both_numbers(home: Path) -> None:
    c = client(home)
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert str(c.get_model_version_by_alias(NAME, "challenger").version) == "2"
    done = cli(home, "promote", "--data", str(home / "holdout.csv"))
    assert done.exit_code == 2
    assert "promotion refused" in done.output and "ROC AUC" in done.output
    assert "challenger v2" in done.output and "champion v1" in done.output
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "1"


def test_better_challenger_is_promoted_and_recorded(home: Path) -> None:
    # Retrain on clean data: version 3 becomes challenger and passes the gate against v1.
    done = cli(
        home,
        "train",
        "--data",
        str(home / "good.csv"),
        "--schema",
        SCHEMA,
        "--out",
        str(home / "models" / "again"),
    )
    assert done.exit_code == 0, done.output
    done = cli(home, "promote", "--data", str(home / "holdout.csv"))
    assert done.exit_code == 0, done.output
    c = client(home)
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "3"
    tags = c.get_model_version(NAME, "3").tags
    assert tags["leadml.promoted_from"] == "1" and tags["leadml.promoted_to"] == "3"
    assert tags["leadml.promoted_by"] and tags["leadml.promoted_at"]
    assert "roc_auc" in tags["leadml.promotion_evidence"]
