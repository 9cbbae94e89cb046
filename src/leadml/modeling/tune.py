"""Tuning, off by default: Optuna searches LightGBM's settings with the backtest as the judge.

Each trial is one ``lightgbm.cv`` over the backtest's folds with the chosen recency weighting,
and its value is the folds' mean log loss, the very figure the backtest stops on; Optuna's TPE
sampler proposes the next settings and its median pruner stops a trial whose loss, after the
same number of rounds, is worse than the median of the earlier trials'. The first trial is
leadml's own settings, so tuning can only ship settings that did at least as well on the
backtest. Every trial is kept (settings, loss, pruned or not) and logged to MLflow as a child
run of the training run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadml.config import Settings
from leadml.modeling.backtest import CvRun, cross_validate
from leadml.modeling.prepare import Prepared
from leadml.modeling.recency import recency_weights

Progress = Callable[[str], None]
#: How often (in boosting rounds) a trial reports its loss to the pruner.
REPORT_EVERY = 10


@dataclass
class Tuning:
    """The best settings found, and every trial for the record."""

    params: dict[str, Any]
    best: CvRun
    default_log_loss: float
    trials: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trials": self.trials,
            "best_log_loss": self.best.log_loss,
            "default_log_loss": self.default_log_loss,
            "best_params": {k: self.params[k] for k in SEARCHED},
        }


#: The settings searched, with the default's values taken from ``lgb_params``.
SEARCHED = ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "lambda_l2")


def _suggest(trial: Any) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 10, 400, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
    }


def _pruning(trial: Any) -> Callable[[Any], None]:
    """A ``lightgbm.cv`` callback reporting the folds' mean log loss to Optuna."""
    import optuna

    def report(env: Any) -> None:
        if (env.iteration + 1) % REPORT_EVERY:
            return
        for item in env.evaluation_result_list:
            if item[1] == "binary_logloss":
                trial.report(float(item[2]), env.iteration + 1)
                if trial.should_prune():
                    raise optuna.TrialPruned()

    return report


def tune(
    data: Prepared, params: dict[str, Any], chosen: CvRun, settings: Settings, say: Progress
) -> Tuning:
    """Run up to ``settings.tune`` trials (or until ``settings.tune_minutes`` have passed)
    with ``chosen``'s recency weighting, starting from ``params``, and return the best."""
    import optuna

    rows, folds, encoder, half_life = data.rows, data.folds, data.encoder, chosen.half_life
    weights = recency_weights(data.ages, half_life) if data.ages else None
    trials, minutes = settings.tune, settings.tune_minutes

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=5 * REPORT_EVERY),
    )
    study.enqueue_trial({k: params[k] for k in SEARCHED})  # leadml's own settings first
    runs: dict[int, CvRun] = {}

    def objective(trial: Any) -> float:
        say(f"Tuning: trial {trial.number + 1} of {trials}")
        tried = params | _suggest(trial)
        run = cross_validate(
            rows,
            folds,
            encoder,
            tried,
            weights=weights,
            half_life=half_life,
            callbacks=[_pruning(trial)],
        )
        runs[trial.number] = run
        return run.log_loss

    study.optimize(objective, n_trials=trials, timeout=minutes * 60 if minutes else None)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = min(done, key=lambda t: t.value)
    record = [
        {
            "number": t.number,
            "params": t.params,
            "log_loss": t.value,
            "state": t.state.name.lower(),
            "rounds": runs[t.number].rounds if t.number in runs else None,
        }
        for t in study.trials
    ]
    chosen = runs[best.number].score_held_out(rows.x)
    return Tuning(params | best.params, chosen, runs[0].log_loss, record)
