"""The backtest and the shipped model: folds that only learn from the past, a shipped booster
that learned from every lead, and a calibrator that never saw a score of a model that had
learned the lead it scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.data.split import backtest_folds
from leadml.data.synthetic import generate_leads
from leadml.data.validate import validate
from leadml.errors import DataError
from leadml.modeling import judge as judge_module
from leadml.modeling.finish import TrainResult
from leadml.modeling.metrics import bootstrap_intervals, classification_metrics, weighted_metrics
from leadml.modeling.prepare import prepare_training
from leadml.modeling.recency import candidate_half_lives, lead_ages, parse_recency
from leadml.modeling.train import run_backtest
from leadml.schema.spec import LeadSchema


def test_time_folds_expand_and_only_learn_from_the_past(
    leads: pd.DataFrame, schema: LeadSchema
) -> None:
    checked = validate(leads, schema)
    folds = backtest_folds(checked.frame, checked.y, checked.schema, 4, 0.2)
    stamps = checked.frame[schema.time].to_numpy(dtype="datetime64[ns]")
    assert len(folds) == 4 and folds.by_time
    newest = np.argsort(stamps, kind="stable")[-4000:]
    np.testing.assert_array_equal(folds.headline.test, np.sort(newest))
    previous_train = 0
    for fold in folds.folds:
        assert len(fold.test) == 4000
        assert stamps[fold.train].max() <= stamps[fold.test].min()  # the past only
        assert len(fold.train) == previous_train + 4000 or previous_train == 0  # expanding
        previous_train = len(fold.train)
    assert len(folds.headline.train) == 16_000  # everything before the headline fold


def test_without_a_time_order_the_folds_are_stratified_and_cover_every_lead(
    leads: pd.DataFrame, schema: LeadSchema
) -> None:
    untimed = schema.model_copy(update={"time": None})
    checked = validate(leads.drop(columns=[str(schema.time)]), untimed)
    folds = backtest_folds(checked.frame, checked.y, checked.schema, 4, 0.2)
    assert not folds.by_time and len(folds) == 5 and folds.method == "stratified folds"
    tested = np.concatenate([f.test for f in folds.folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(len(checked.y)))
    rate = checked.y.mean()
    assert all(abs(checked.y[f.test].mean() - rate) < 0.005 for f in folds.folds)
    assert candidate_half_lives("auto", lead_ages(checked.frame, untimed)) == [None]


def test_the_figures_name_their_model_and_the_shipped_booster_learned_from_every_lead(
    trained: TrainResult, leads: pd.DataFrame
) -> None:
    metrics = json.loads((trained.bundle / "metrics.json").read_text())
    backtest = metrics["backtest"]
    headline = backtest["folds"][-1]
    # the top level is the headline fold's figures, of the backtest's model
    for key in ("roc_auc", "pr_auc", "log_loss", "brier", "ece"):
        assert metrics[key] == headline[key]
    assert "headline fold" in metrics["figures_from"]
    assert len(backtest["folds"]) >= 3
    lo, hi = headline["intervals"]["roc_auc"]
    assert lo < headline["roc_auc"] < hi
    assert backtest["pooled"]["rows"] == sum(f["test_rows"] for f in backtest["folds"])

    # the shipped model: every lead of the table (none dropped by validation here)
    assert metrics["shipped"]["rows"] == len(leads) == trained.model.meta["rows"]["shipped"]
    model = LeadModel.load(trained.bundle)
    first_tree = model.booster.dump_model()["tree_info"][0]["tree_structure"]
    # LightGBM's own count of the rows the first tree saw: its bagging share of every lead
    # (a model fitted on the older 80 % would have seen 12,800)
    bagging = trained.model.booster.params["bagging_fraction"]
    assert abs(first_tree["internal_count"] - bagging * len(leads)) < 0.02 * len(leads)
    assert model.booster.current_iteration() == metrics["shipped"]["rounds"]
    assert metrics["shipped"]["rounds"] > metrics["best_iteration"]  # grown with the rows


def test_the_calibrator_never_saw_a_score_from_a_model_that_learned_that_lead(
    monkeypatch: pytest.MonkeyPatch, schema: LeadSchema
) -> None:
    leads = generate_leads(3000, seed=11)
    settings = Settings(num_threads=1, bootstrap=10, recency="none")
    data = prepare_training(leads, schema, settings)
    result = run_backtest(data, settings, "none", lambda _m: None)
    seen: list[np.ndarray] = []
    real = judge_module.fit_calibrator

    def recording(raw, y, *args, **kwargs):
        seen.append(np.asarray(raw).copy())
        return real(raw, y, *args, **kwargs)

    monkeypatch.setattr(judge_module, "fit_calibrator", recording)
    result.calibrator(data.rows.y, settings.seed)
    (raw,) = seen
    # every score it was fitted on came from a fold model; LightGBM's own record of the rows
    # each fold model learned from never holds a lead that model scored
    judged = result.judged
    np.testing.assert_array_equal(raw, result.shipped_scale(judged))
    # the fold models' own scores, at most moved by a constant per fold (their level)
    moved = raw - result.chosen.raw[judged]
    for scored in result.chosen.scored:
        at = np.isin(judged, scored)
        assert np.ptp(moved[at]) < 1e-9
    assert np.isfinite(raw).all()
    scored_by = np.full(len(data.rows.y), -1)
    for k, (learned, scored) in enumerate(
        zip(result.chosen.learned, result.chosen.scored, strict=True)
    ):
        assert not np.intersect1d(learned, scored).size
        scored_by[scored] = k
    assert (scored_by[judged] >= 0).all()


def test_recency_values_are_checked() -> None:
    assert parse_recency("auto") == "auto" and parse_recency(" None ") == "none"
    assert parse_recency("45") == 45.0
    for bad in ("-3", "0", "soon", "nan"):
        with pytest.raises(DataError, match="--recency must be auto, none or a half-life"):
            parse_recency(bad)
    with pytest.raises(DataError, match="needs a time order"):
        candidate_half_lives(30.0, None)


def test_the_bootstrap_counts_a_lead_as_if_it_were_there_that_many_times() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.2).astype(int)
    p = np.round(np.clip(y * 0.2 + rng.random(3000) * 0.7, 0, 1), 2)  # many ties
    counts = rng.poisson(1.0, 3000)
    copies = np.repeat(np.arange(3000), counts)
    assert weighted_metrics(y, p, counts) == pytest.approx(
        classification_metrics(y[copies], p[copies]), abs=1e-12
    )
    assert weighted_metrics(y, p, np.ones(3000)) == pytest.approx(
        classification_metrics(y, p), abs=1e-12
    )
    low, high = bootstrap_intervals(y, p, resamples=200)["roc_auc"]
    assert low < classification_metrics(y, p)["roc_auc"] < high and high - low < 0.1
