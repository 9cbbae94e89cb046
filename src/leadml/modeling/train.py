"""The training pipeline, end to end, as one function a data scientist can call from a notebook.

read → validate → backtest folds (by time when there is one) → encode → leakage audit on the
headline fold's training rows → backtest (recency and rounds chosen, baselines on the same
folds) → the shipped booster on every lead → calibrate on the backtest's held-out scores →
grade bands → log everything to MLflow → register as challenger → write the bundle
(:mod:`leadml.modeling.prepare`, :mod:`leadml.modeling.backtest`, :mod:`leadml.modeling.judge`,
:mod:`leadml.modeling.booster`, :mod:`leadml.modeling.finish`).

The MLflow store is checked before any work, and the data is validated before a run is opened,
so an unreachable store or bad data costs nothing and leaves nothing half-written.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from leadml.config import Settings
from leadml.counts import plural
from leadml.modeling.backtest import choose_recency, shipped_rounds
from leadml.modeling.booster import fit_shipped, lgb_params
from leadml.modeling.finish import Progress, RunOptions, TrainResult, finish_training
from leadml.modeling.judge import Backtest, judge_folds
from leadml.modeling.prepare import Prepared, prepare_training
from leadml.modeling.recency import candidate_half_lives, parse_recency
from leadml.schema.spec import LeadSchema


def open_store(
    settings: Settings,
    experiment: str | None,
    track: bool,
    say: Progress,
    opened: str | None = None,
) -> str | None:
    """The experiment id, once the MLflow store has answered; before any work is done, so an
    unreachable store costs nothing and leaves nothing half-written (None: not tracked).
    ``opened``: the id the caller got from ``connect`` itself, so the store is asked once."""
    if not track:
        return None
    if opened is not None:
        return opened
    from leadml.tracking.store import connect

    say("Checking the MLflow store")
    return connect(settings, experiment)


def open_run(
    settings: Settings,
    schema: LeadSchema,
    *,
    name: str | None = None,
    experiment: str | None = None,
    track: bool = True,
    out: str | Path | None = None,
    progress: Progress | None = None,
    source: str | None = None,
    force: bool = False,
    experiment_id: str | None = None,
) -> RunOptions:
    """Where a training run goes (one machine or Dask alike), once the store has answered.

    ``name`` is the registered model (default: ``LEADML_REGISTERED_MODEL``, else the schema's
    name), and so the project: runs of one project compete for its champion, never another
    project's. ``experiment`` defaults to the same name.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    name = settings.project_name(schema.name, name)
    return RunOptions(
        settings=settings,
        name=name,
        experiment_id=open_store(settings, experiment or name, track, say, experiment_id),
        out=Path(out) if out is not None else None,
        say=say,
        source=source,
        started=started,
        force=force,
    )


def train_leads(
    frame: pd.DataFrame,
    schema: LeadSchema,
    settings: Settings | None = None,
    *,
    out: str | Path | None = None,
    experiment: str | None = None,
    track: bool = True,
    progress: Progress | None = None,
    source: str | None = None,
    name: str | None = None,
    force: bool = False,
    experiment_id: str | None = None,
) -> TrainResult:
    """Train, evaluate, log and register a lead model; write its bundle to ``out``
    (``name`` and ``experiment``: see ``open_run``; ``experiment_id``: the caller connected
    already, see ``open_store``). A model that loses to its baselines gets no alias unless
    ``force`` (:mod:`leadml.modeling.verdict`)."""
    settings = settings or Settings()
    run = open_run(
        settings,
        schema,
        name=name,
        experiment=experiment,
        track=track,
        out=out,
        progress=progress,
        source=source,
        force=force,
        experiment_id=experiment_id,
    )
    recency = parse_recency(settings.recency)
    data = prepare_training(frame, schema, settings, run.say)
    backtest = run_backtest(data, settings, recency, run.say)
    rounds = shipped_rounds(backtest.chosen.rounds, data.folds, data.total_rows)
    run.say(
        f"Fitting the shipped model on all {data.total_rows:,} leads ({plural(rounds, 'round')})"
    )
    fitted = fit_shipped(data.rows, data.encoder, backtest.params, rounds, backtest.weights)
    return finish_training(fitted, data, backtest, run)


def run_backtest(
    data: Prepared, settings: Settings, recency: str | float, say: Progress
) -> Backtest:
    """The backtest on prepared leads (all of them, or Dask's sample): choose the recency
    weighting and the rounds (and, with ``settings.tune``, LightGBM's settings), then judge
    every fold with the baselines beside it."""
    params = lgb_params(data.encoder, settings.seed, settings.num_threads)
    candidates = candidate_half_lives(recency, data.ages)
    chosen, tried = choose_recency(data, params, candidates, say)
    tuning = None
    if settings.tune:
        from leadml.modeling.tune import tune

        found = tune(data, params, chosen, settings, say)
        params, chosen, tuning = found.params, found.best, found.to_dict()
    say(f"Judging {len(data.folds)} backtest folds against the baselines")
    result = judge_folds(data, chosen, tried, params, settings)
    result.tuning = tuning
    return result
