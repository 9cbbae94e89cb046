"""LightGBM's prepared one-row predictor gives Booster.predict's numbers, bit for bit."""

from __future__ import annotations

import gc
import pickle
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from leadml.bundle.single_row import SingleRowPredictor
from leadml.data.synthetic import generate_leads
from leadml.modeling.finish import TrainResult


@pytest.fixture(scope="module")
def rows(trained: TrainResult) -> np.ndarray:
    """Fresh leads with holes: missing numbers, unknown and missing categories."""
    frame = generate_leads(400, seed=31)
    rng = np.random.default_rng(3)
    for column in ("employees", "budget_range", "industry", "pricing_page_views"):
        frame.loc[rng.random(len(frame)) < 0.3, column] = pd.NA
    frame.loc[frame.index[:20], "industry"] = "Basket weaving"
    return trained.model.matrix(frame)


@pytest.mark.parametrize("kind", ["raw", "contrib"])
def test_the_numbers_are_booster_predicts_to_the_last_bit(
    trained: TrainResult, rows: np.ndarray, kind: str
) -> None:
    booster = trained.model.booster
    predictor = SingleRowPredictor(booster, kind)  # type: ignore[arg-type]
    options = {"raw_score": True} if kind == "raw" else {"pred_contrib": True}
    want = booster.predict(rows, num_threads=1, **options).reshape(len(rows), -1)
    got = np.stack([predictor(row) for row in rows])
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_the_model_uses_it_for_one_row_on_one_thread(trained: TrainResult, rows: np.ndarray):
    model = trained.model
    for row in rows[:50]:
        one = row[np.newaxis, :]
        assert (
            model.raw_scores(one, num_threads=1)[0]
            == model.booster.predict(one, raw_score=True, num_threads=1)[0]
        )
        np.testing.assert_array_equal(
            model.contributions(one, num_threads=1),
            model.booster.predict(one, pred_contrib=True, num_threads=1),
        )
    assert set(model._single) == {"raw", "contrib"}


def test_the_best_iteration_is_honoured_as_booster_predict_does(rows: np.ndarray) -> None:
    """A booster with early stopping predicts with its best iteration: so does the fast path."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, rows.shape[1]))
    y = (x[:, 0] + rng.normal(size=500) > 0).astype(int)
    booster = lgb.train({"verbose": -1, "num_leaves": 4}, lgb.Dataset(x, y), num_boost_round=30)
    booster.best_iteration = 7
    fast = SingleRowPredictor(booster, "raw")
    want = booster.predict(x[:20], raw_score=True, num_threads=1)
    assert not np.allclose(want, booster.predict(x[:20], raw_score=True, num_iteration=-1))
    np.testing.assert_array_equal([fast(r)[0] for r in x[:20]], want)


def test_concurrent_callers_get_their_own_answers(trained: TrainResult, rows: np.ndarray) -> None:
    booster = trained.model.booster
    predictor = SingleRowPredictor(booster, "contrib")
    want = booster.predict(rows, pred_contrib=True, num_threads=1)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(predictor, list(rows) * 3))
    np.testing.assert_array_equal(np.stack(got), np.concatenate([want] * 3))


def test_a_row_of_the_wrong_length_is_refused(trained: TrainResult) -> None:
    predictor = SingleRowPredictor(trained.model.booster, "raw")
    with pytest.raises(ValueError, match=r"expected \d+ values, got 3"):
        predictor(np.zeros(3))


def test_prepared_predictors_are_freed_with_the_model(trained: TrainResult) -> None:
    """Reloads drop models: their prepared predictors go with them, and nothing crashes."""
    model = LeadModel.load(trained.bundle)
    one = model.matrix(generate_leads(1, seed=5))
    model.contributions(one, num_threads=1)
    predictor = model._single["contrib"]
    freed = threading.Event()
    weakref.finalize(predictor, freed.set)
    del model, predictor
    gc.collect()
    assert freed.is_set()


def test_a_model_that_scored_one_lead_still_pickles(trained: TrainResult, rows: np.ndarray):
    """Dask sends whole models to its workers; the copy prepares its own predictors."""
    model = LeadModel.load(trained.bundle)
    one = rows[:1]
    before = model.contributions(one, num_threads=1)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.contributions(one, num_threads=1), before)
    assert copy._single["contrib"] is not model._single["contrib"]
