"""The promotion gate: champion moves only to a challenger that is not worse on the same data.

Every test starts from its own copy of a store (``tests/support/homes.copy_home``): trained
once per module (v1 the champion, v2 a noisy challenger) or, for the tests about what follows a
promotion, promoted once (v3 champion). No test sees what another did, so they pass in any order.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.bundle.model import LeadModel
from leadml.cli import app
from leadml.cli import progress as progress_module
from leadml.data.synthetic import generate_leads
from leadml.modeling.promotion import promotion_summary
from tests.support.homes import copy_home

SCHEMA = str(Path(__file__).resolve().parents[2] / "data" / "schemas" / "synthetic.toml")
#: The synthetic project's registered model: the schema's name.
NAME = "synthetic-crm"
runner = CliRunner()
#: A progress line off a terminal (CliRunner's streams are no terminal): "… Training, 12 s".
PROGRESS = re.compile(r"^… .+, \d+ s$", re.MULTILINE)


def cli(home: Path, *args: str):
    return runner.invoke(app, list(args), env={"LEADML_HOME": str(home), "MLFLOW_TRACKING_URI": ""})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 trained on clean leads (champion), v2 on the same leads with a third of the labels
    flipped (challenger)."""
    home = tmp_path_factory.mktemp("promote")
    good = generate_leads(5000, seed=31)
    good.to_csv(home / "good.csv", index=False)
    noisy = good.copy()
    flip = np.random.default_rng(0).random(len(noisy)) < 0.35
    noisy.loc[flip, "converted"] = 1 - noisy.loc[flip, "converted"]
    noisy.to_csv(home / "noisy.csv", index=False)
    generate_leads(4000, seed=99).to_csv(home / "holdout.csv", index=False)
    for name in ("good", "noisy"):
        # the noisy model may lose to its own baselines (modeling.verdict): forced to be the
        # challenger, as the point here is the gate against the champion
        done = cli(
            home, "train", "--data", str(home / f"{name}.csv"), "--schema", SCHEMA,
            "--out", str(home / "models" / name), *(["--force"] if name == "noisy" else []),
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert PROGRESS.search(done.output), done.output  # off a terminal: lines, no spinner
    return home


@pytest.fixture(scope="module")
def promoted(trained: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``trained`` and then v3 (clean leads again) promoted over v1 on held-out leads; the
    promotion's output."""
    home = copy_home(trained, tmp_path_factory.mktemp("promoted"))
    again = ["--schema", SCHEMA, "--out", str(home / "models" / "again")]
    done = cli(home, "train", "--data", str(home / "good.csv"), *again)
    assert done.exit_code == 0, done.output
    done = cli(home, "promote", "--data", str(home / "holdout.csv"))
    return home, done.output if done.exit_code == 0 else f"exit {done.exit_code}: {done.output}"


@pytest.fixture
def home(trained: Path, tmp_path: Path) -> Path:
    """A copy of ``trained`` for this test alone."""
    return copy_home(trained, tmp_path)


@pytest.fixture
def after_promotion(promoted: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A copy of ``promoted`` for this test alone, and the promotion's output."""
    return copy_home(promoted[0], tmp_path), promoted[1]


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


def test_better_challenger_is_promoted_and_recorded(after_promotion: tuple[Path, str]) -> None:
    # Retrained on clean data, version 3 became challenger and passed the gate against v1.
    home, output = after_promotion
    assert "challenger v3 promoted: ROC AUC" in output, output
    assert "within the tolerance −0.0050" in output and ", not gated)" in output
    c = client(home)
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "3"
    # models/<name>/, what a container mounts, holds the new champion (v3 was trained into
    # models/again, v1 into models/good: nothing had written models/synthetic-crm before)
    folder = LeadModel.load(home / "models" / NAME)
    assert folder.meta["registry_version"] == "3" and folder.version.startswith(f"{NAME}-v3-")
    assert (home / "models" / NAME / "report.html").is_file()
    assert not [p for p in (home / "models").iterdir() if p.name.startswith(".")]  # no staging
    tags = c.get_model_version(NAME, "3").tags
    assert tags["leadml.promoted_from"] == "1" and tags["leadml.promoted_to"] == "3"
    assert tags["leadml.promoted_by"] and tags["leadml.promoted_at"]
    assert "roc_auc" in tags["leadml.promotion_evidence"]


def test_versions_lists_every_version_with_alias_window_and_figures(
    after_promotion: tuple[Path, str],
) -> None:
    home = after_promotion[0]
    done = cli(home, "versions")
    assert done.exit_code == 0, done.output
    for version in ("v1", "v2", "v3"):
        assert version in done.output
    assert "champion" in done.output and "challenger" in done.output
    assert "2024-11-01" in done.output  # the data window's first day
    assert "promotion v1 → v3" in done.output


def test_rollback_restores_the_previous_champion_and_records_it(
    after_promotion: tuple[Path, str],
) -> None:
    home = after_promotion[0]
    c = client(home)
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "3"
    done = cli(home, "rollback", "--why", "grades drifted")
    assert done.exit_code == 0, done.output
    assert "v1 again (was v3)" in done.output
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "1"
    tags = c.get_model_version(NAME, "1").tags
    assert tags["leadml.rolled_back_from"] == "3" and tags["leadml.rolled_back_to"] == "1"
    assert tags["leadml.rolled_back_why"] == "grades drifted" and tags["leadml.rolled_back_by"]
    assert LeadModel.load(home / "models" / NAME).meta["registry_version"] == "1"


def test_rollback_with_nothing_before_says_so_and_changes_nothing(home: Path) -> None:
    c = client(home)
    before = c.get_registered_model(NAME).tags
    done = cli(home, "rollback")  # v1 is the first champion: nothing before it
    assert done.exit_code == 2
    assert "nothing to roll back to" in done.output
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "1"
    assert c.get_registered_model(NAME).tags == before
    done = cli(home, "rollback", "--to", "7")
    assert done.exit_code == 2 and "no version 7" in done.output
    done = cli(home, "rollback", "--to", "2")  # to any version, by name
    assert done.exit_code == 0, done.output
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == "2"


def test_retrain_keeps_the_champion_when_the_challenger_is_worse_on_the_newest_leads(
    home: Path,
) -> None:
    c = client(home)
    champion = str(c.get_model_version_by_alias(NAME, "champion").version)
    done = cli(home, "retrain", "--data", str(home / "noisy.csv"), "--promote")
    assert done.exit_code == 3, done.output  # kept
    steps = PROGRESS.findall(done.output)
    assert len(steps) >= 2, done.output  # minutes of work: lines every few seconds
    assert "Gate on the newest 1,000 leads" in done.output
    assert f"Kept champion v{champion}" in done.output and "ROC AUC" in done.output
    assert "learned from 1,000 of these leads" in done.output  # same leads as its own file
    assert str(c.get_model_version_by_alias(NAME, "champion").version) == champion
    new = str(max(int(v.version) for v in c.search_model_versions(f"name='{NAME}'")))
    assert "'passed': False" in c.get_model_version(NAME, new).tags["leadml.retrain_gate"]
    run = c.get_run(c.get_model_version(NAME, new).run_id)
    assert run.data.metrics["gate_champion_roc_auc"] > run.data.metrics["gate_challenger_roc_auc"]


def test_retrain_refuses_bad_input_before_training(home: Path) -> None:
    done = cli(home, "retrain", "--data", str(home / "good.csv"), "--since", "someday")
    assert done.exit_code == 2 and "--since 'someday' is not a date" in done.output
    done = cli(home, "retrain", "--data", str(home / "good.csv"), "--since", "2031-01-01")
    assert done.exit_code == 2 and "no lead in the data was created on or after" in done.output


def test_evaluate_shows_progress_off_a_terminal(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_module, "QUIET_S", 0.0)  # this evaluation takes a second
    done = cli(
        home, "evaluate", "--model", f"models:/{NAME}/1", "--data", str(home / "holdout.csv")
    )
    assert done.exit_code == 0, done.output
    assert PROGRESS.search(done.output) and "… Scoring" in done.output


def test_a_promotion_says_the_figures_and_tolerances_it_passed_on() -> None:
    champion = {"roc_auc": 0.731, "ece": 0.020, "log_loss": 0.450, "brier": 0.140}
    worse = {"roc_auc": 0.727, "ece": 0.028, "log_loss": 0.452, "brier": 0.141}
    line = promotion_summary("7", worse, champion)
    assert line.startswith("challenger v7 promoted: ROC AUC 0.7270 vs champion 0.7310 (−0.0040")
    assert "within the tolerance −0.0050" in line and "within the tolerance +0.0100" in line
    assert line.endswith("Worse on every metric, within tolerance")
    better = {**worse, "roc_auc": 0.74}
    assert "Worse on every metric" not in promotion_summary("7", better, champion)
    assert "(+0.0090, within the tolerance" in promotion_summary("7", better, champion)


def test_models_folder_keeps_the_champion_when_a_challenger_is_trained(
    tmp_path: Path,
) -> None:
    """``models/<name>/`` is what a container mounts: a second training registered beside the
    champion goes to ``models/<name>-challenger/`` and leaves the champion's folder alone."""
    generate_leads(2500, seed=5).to_csv(tmp_path / "leads.csv", index=False)
    for _ in range(2):
        done = cli(tmp_path, "train", "--data", str(tmp_path / "leads.csv"), "--schema", SCHEMA)
        assert done.exit_code == 0, done.output
    champion = LeadModel.load(tmp_path / "models" / NAME)
    challenger = LeadModel.load(tmp_path / "models" / f"{NAME}-challenger")
    assert champion.meta["registry_version"] == "1"
    assert challenger.meta["registry_version"] == "2"
    assert f"Bundle: {tmp_path / 'models' / NAME}-challenger" in done.output
