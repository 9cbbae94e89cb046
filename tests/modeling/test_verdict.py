"""A model that loses to its baselines says so and is not crowned.

Unit tests of each reason on hand-written figures, then real trainings through the CLI (real
LightGBM, a real MLflow store and registry): leads with no signal at all, and leads where the
base rate wins, get the plain sentence and no alias unless ``--force``, and ``leadml promote``
refuses them; the synthetic history (strong signal) gets neither the sentence nor a refusal.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import generate_leads
from leadml.modeling.finish import TrainResult
from leadml.modeling.verdict import judge_against_baselines


def figures(auc: float, interval: tuple[float, float], loss: float, **baselines) -> dict:
    return {
        "roc_auc": auc,
        "log_loss": loss,
        "intervals": {"roc_auc": list(interval)},
        "baselines": {"base_rate": {"roc_auc": 0.5, "log_loss": 0.40}, **baselines},
    }


def test_each_reason_on_its_own() -> None:
    fine = judge_against_baselines(
        figures(0.80, (0.77, 0.83), 0.30, logistic_regression={"roc_auc": 0.78})
    )
    assert not fine.loses and fine.sentence == ""
    worse_loss = judge_against_baselines(figures(0.70, (0.66, 0.74), 0.42))
    assert worse_loss.loses and "worse than the base rate's (0.4000)" in worse_loss.sentence
    chance = judge_against_baselines(figures(0.52, (0.47, 0.57), 0.39))
    assert chance.reasons == [
        "its ROC AUC (0.520, 95 % interval 0.470–0.570) is no better than chance"
    ]
    beaten = judge_against_baselines(
        figures(0.64, (0.61, 0.67), 0.35, logistic_regression={"roc_auc": 0.68})
    )
    assert beaten.reasons == [
        "a logistic regression ranks leads better (ROC AUC 0.680 against 0.640, above its "
        "95 % interval 0.610–0.670)"
    ]
    # within the interval is noise, not a defeat
    close = figures(0.64, (0.61, 0.67), 0.35, logistic_regression={"roc_auc": 0.66})
    assert not judge_against_baselines(close).loses
    assert beaten.sentence.startswith("This model does not beat its baselines on the newest")
    assert "--force" in beaten.sentence


def no_signal(rows: int = 3000) -> pd.DataFrame:
    """The synthetic leads with their outcomes shuffled: nothing to learn."""
    leads = generate_leads(rows, seed=21)
    shuffled = np.random.default_rng(0).permutation(leads["converted"].to_numpy())
    return leads.assign(converted=shuffled)


def base_rate_wins(rows: int = 3000) -> pd.DataFrame:
    """Leads whose demo request meant a purchase (40 % against 5 %) until the newest fifth,
    when it turned around: the model is confidently wrong on exactly the leads it is judged
    on, and treating every lead alike (the base rate) does better."""
    leads = generate_leads(rows, seed=22).sort_values("created_at").reset_index(drop=True)
    demo = (leads["demo_requested"] == "Yes").to_numpy()
    newest = np.arange(rows) >= 0.8 * rows
    p = np.where(demo != newest, 0.40, 0.05)
    y = (np.random.default_rng(1).random(rows) < p).astype(int)
    return leads.assign(converted=y)


def train(home: Path, frame: pd.DataFrame, name: str, *extra: str):
    path = home / f"{name}.csv"
    frame.to_csv(path, index=False)
    done = CliRunner().invoke(
        app, ["train", "--data", str(path), "--target", "converted", "--name", name, *extra]
    )
    done.said = " ".join(done.output.split())  # as read, not as wrapped for the terminal
    return done


def aliases(name: str) -> dict[str, str]:
    return dict(MlflowClient().get_registered_model(name).aliases or {})


@pytest.fixture()
def one_thread(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LEADML_NUM_THREADS", "1")
    monkeypatch.setenv("LEADML_BOOTSTRAP", "30")
    return home


def test_a_model_with_nothing_to_learn_is_registered_without_a_crown(one_thread: Path) -> None:
    done = train(one_thread, no_signal(), "noise")
    assert done.exit_code == 0, done.output
    assert "This model does not beat its baselines on the newest leads" in done.said
    assert "no better than chance" in done.said
    assert "(no alias)" in done.said
    assert aliases("noise") == {}  # neither challenger nor, as a first version, champion
    run = MlflowClient().get_run(MlflowClient().get_model_version("noise", "1").run_id)
    assert run.data.tags["leadml.verdict"].startswith("This model does not beat")

    refused = CliRunner().invoke(
        app, ["promote", "--model", "models:/noise/1", "--data", str(one_thread / "noise.csv")]
    )
    assert refused.exit_code == 2
    assert "does not beat its own baselines" in " ".join(refused.output.split())
    assert aliases("noise") == {}

    forced = train(one_thread, no_signal(), "noise", "--force")
    assert forced.exit_code == 0, forced.output
    assert "aliases given anyway: --force" in forced.said
    assert {k: str(v) for k, v in aliases("noise").items()} == {"challenger": "2", "champion": "2"}


def test_where_the_base_rate_wins_it_says_so(one_thread: Path) -> None:
    done = train(one_thread, base_rate_wins(), "flat")
    assert done.exit_code == 0, done.output
    assert "worse than the base rate's" in done.said
    assert aliases("flat") == {}


def test_a_model_that_wins_is_crowned_and_says_nothing(trained: TrainResult) -> None:
    assert trained.metrics["verdict"] == {"loses": False, "reasons": [], "sentence": ""}
    assert trained.model.meta["verdict"]["loses"] is False
