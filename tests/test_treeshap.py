"""The compiled TreeSHAP gives LightGBM's own pred_contrib numbers, edge cases included."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadml.train import TrainResult
from leadml.treeshap import PARALLEL_MIN_ROWS, build_tables, compile_tables


def _stress_rows(booster: lgb.Booster, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real rows, plus rows that sit exactly on split thresholds, are all missing, carry
    unseen or negative category codes, zeros and huge values."""
    tables = build_tables(booster)
    assert tables is not None
    rows = [x]
    on_edge = x[rng.integers(0, len(x), 200)].copy()
    numeric = np.flatnonzero(~tables.node_categorical)
    picks = rng.choice(numeric, size=(200, 6))
    for i, nodes in enumerate(picks):
        on_edge[i, tables.node_feature[nodes]] = tables.node_threshold[nodes]
    rows.append(on_edge)
    rows.append(np.full((3, x.shape[1]), np.nan))
    odd = x[:50].copy()
    odd[:10] = 0.0
    odd[10:20] = 1e12
    odd[20:30] = -1e12
    odd[30:40] = -1.0  # negative category codes go right in LightGBM
    odd[40:50] = 999.0  # codes never seen in training
    rows.append(odd)
    return np.vstack(rows)


def test_matches_pred_contrib_on_the_trained_model(trained: TrainResult, leads: pd.DataFrame):
    model = trained.model
    rng = np.random.default_rng(3)
    x = _stress_rows(model.booster, model.matrix(leads.sample(1500, random_state=4)), rng)
    expected = model.booster.predict(x, pred_contrib=True)
    engine = compile_tables(model.booster)
    assert engine is not None
    np.testing.assert_allclose(engine.matrix(x), expected, atol=1e-9, rtol=0)
    np.testing.assert_allclose(engine.matrix(x, num_threads=1), expected, atol=1e-9, rtol=0)
    for i in rng.integers(0, len(x), 60):
        np.testing.assert_allclose(engine.row(x[i]), expected[i], atol=1e-9, rtol=0)
    raw = model.booster.predict(x, raw_score=True)
    np.testing.assert_allclose(engine.matrix(x).sum(axis=1), raw, atol=1e-9, rtol=0)


def test_parallel_batches_match_serial(trained: TrainResult, leads: pd.DataFrame) -> None:
    engine = compile_tables(trained.model.booster)
    x = trained.model.matrix(leads.head(PARALLEL_MIN_ROWS + 100))
    np.testing.assert_array_equal(engine.matrix(x, num_threads=2), engine.matrix(x, num_threads=1))


def test_zero_as_missing_default_directions_and_long_paths() -> None:
    """A model unlike ours: zeros as missing, deep trees whose paths skip the tables."""
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=(n, 6))
    x[rng.random((n, 6)) < 0.2] = 0.0
    x[rng.random((n, 6)) < 0.1] = np.nan
    x[:, 5] = rng.integers(0, 12, n)
    y = (x[:, 0] * x[:, 1] + np.nan_to_num(x[:, 2]) + (x[:, 5] % 3 == 0) > 0.3).astype(int)
    params = {
        "objective": "binary",
        "num_leaves": 63,
        "min_data_in_leaf": 5,
        "zero_as_missing": True,
        "max_cat_to_onehot": 4,
        "verbose": -1,
        "num_threads": 1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y, categorical_feature=[5]), num_boost_round=40)
    tables = build_tables(booster)
    assert tables is not None
    assert (tables.node_missing == 1).any()  # LightGBM's "Zero" missing type is exercised
    from leadml import treeshap

    long_paths = np.diff(tables.leaf_slot_start) > 4
    assert long_paths.any()
    old = treeshap.MAX_TABLE_SLOTS
    try:
        treeshap.MAX_TABLE_SLOTS = 4  # send the longer paths down the polynomial branch
        engine = compile_tables(booster)
    finally:
        treeshap.MAX_TABLE_SLOTS = old
    assert (engine.tables.table_start < 0).any() and (engine.tables.table_start >= 0).any()
    probe = np.vstack([x[:500], np.zeros((2, 6)), np.full((2, 6), np.nan)])
    expected = booster.predict(probe, pred_contrib=True)
    np.testing.assert_allclose(engine.matrix(probe), expected, atol=1e-9, rtol=0)


def test_declines_what_it_does_not_model() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3))
    y = rng.integers(0, 3, 400)
    multiclass = lgb.train(
        {"objective": "multiclass", "num_class": 3, "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, y),
        num_boost_round=3,
    )
    assert compile_tables(multiclass) is None
    linear = lgb.train(
        {"objective": "binary", "linear_tree": True, "verbose": -1, "num_threads": 1},
        lgb.Dataset(x, (y > 0).astype(int)),
        num_boost_round=3,
    )
    assert compile_tables(linear) is None


@pytest.mark.parametrize("engine", ["compiled", "lightgbm"])
def test_explanations_are_the_same_whichever_engine(
    trained: TrainResult, leads: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    from leadml import explain

    monkeypatch.setenv("LEADML_TREESHAP", engine)
    monkeypatch.setattr(explain, "_ENGINES", type(explain._ENGINES)())
    model = trained.model
    x = model.matrix(leads.tail(200))
    got = explain.contributions(model, x)
    assert (explain._engine(model) is None) == (engine == "lightgbm")
    np.testing.assert_allclose(got, model.booster.predict(x, pred_contrib=True), atol=1e-9)
