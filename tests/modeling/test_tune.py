"""Tuning: Optuna over LightGBM's settings with the backtest as the judge, trials in MLflow."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.modeling.booster import lgb_params
from leadml.modeling.train import train_leads
from leadml.modeling.tune import SEARCHED
from leadml.schema.spec import LeadSchema


def test_tuning_ships_the_best_trial_and_logs_every_trial(
    tmp_path: Path, schema: LeadSchema
) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings = Settings(
        home=tmp_path, mlflow_tracking_uri=store, num_threads=1, bootstrap=10,
        recency="none", tune=4,
    )  # fmt: skip
    result = train_leads(generate_leads(3000, seed=3), schema, settings, name="tuned")
    tuning = result.metrics["backtest"]["tuning"]
    trials = tuning["trials"]
    assert len(trials) == 4 and [t["number"] for t in trials] == [0, 1, 2, 3]
    # the first trial is leadml's own settings, so the shipped ones did at least as well
    defaults = lgb_params(result.model.encoder, 42, 1)
    assert trials[0]["params"] == {k: defaults[k] for k in SEARCHED}
    assert tuning["best_log_loss"] <= tuning["default_log_loss"]
    done = [t for t in trials if t["state"] == "complete"]
    assert min(t["log_loss"] for t in done) == tuning["best_log_loss"]
    assert result.metrics["backtest"]["log_loss"] == tuning["best_log_loss"]
    shipped = result.model.booster.dump_model()
    assert shipped["tree_info"][0]["num_leaves"] <= tuning["best_params"]["num_leaves"]

    client = MlflowClient(tracking_uri=store)
    children = client.search_runs(
        [client.get_experiment_by_name("tuned").experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
    )
    assert len(children) == 4
    assert {c.data.tags["leadml.trial_state"] for c in children} <= {"complete", "pruned"}
