"""The 90 % outcome interval and the unfamiliar flag, on held-out leads with known signal.

Both are fitted while training (``finish_training``): the interval on the backtest's held-out
scores, the novelty counts on the training leads. Here they meet leads the model never saw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.synthetic import generate_leads
from leadml.features.novelty import unfamiliar
from leadml.modeling.conformal import fit_outcome_interval
from leadml.modeling.finish import TrainResult
from leadml.qualify.interval import coverage, interval_columns, interval_one


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    """5,000 leads from the same flow as training (another seed): never seen by the model."""
    return generate_leads(5_000, seed=99)


def test_ninety_percent_interval_covers_ninety_percent_of_held_out_outcomes(
    trained: TrainResult, held_out: pd.DataFrame
) -> None:
    model = trained.model
    spec = model.meta["interval"]
    assert spec["level"] == 0.9 and spec["calibrated_on"] > 1_000
    p = model.predict_proba(model.matrix(held_out))
    y = held_out["converted"].to_numpy()
    measured = coverage(spec, p, y)
    print(f"\nheld-out 90 % interval: {measured}")
    assert 0.87 <= measured["coverage"] <= 0.93
    # Mondrian by class: it holds among converters and among the others, not only on average.
    assert measured["coverage_converted"] >= 0.85
    assert measured["coverage_not_converted"] >= 0.85
    # It says something: most leads get one outcome, not "either way".
    assert measured["width"] < 0.5


def test_interval_for_one_lead_agrees_with_the_table(trained: TrainResult) -> None:
    spec = trained.model.meta["interval"]
    p = np.linspace(0, 1, 501)
    columns = interval_columns(spec, p)
    for i in range(0, 501, 7):
        one = interval_one(spec, float(p[i]))
        assert one["verdict"] == columns["certainty"][i]
        low = columns["interval_low"][i]
        assert one["low"] == (None if pd.isna(low) else int(low))
    # Sure not to convert at the bottom, sure to convert at the top.
    assert interval_one(spec, 0.0)["outcomes"] == ["not converted"]
    assert interval_one(spec, 1.0)["outcomes"] == ["converted"]


def test_interval_needs_both_outcomes_among_the_held_out_leads() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(500)
    assert fit_outcome_interval(p, np.zeros(500, dtype=int)) is None
    y = (rng.random(500) < p).astype(int)
    spec = fit_outcome_interval(p, y)
    assert spec is not None and 0 < spec["convert_from"] < spec["stay_up_to"] < 1


def test_unfamiliar_flag_is_rare_on_leads_like_the_training_ones(
    trained: TrainResult, held_out: pd.DataFrame
) -> None:
    model = trained.model
    flags = unfamiliar(model, model.matrix(held_out))
    share = np.mean([f["unfamiliar"] for f in flags])
    print(f"\nunfamiliar among held-out leads of the same flow: {share:.2%}")
    assert share < 0.05


def test_unfamiliar_flag_names_what_is_unlike_training(trained: TrainResult) -> None:
    model = trained.model
    leads = generate_leads(200, seed=5)
    # Another company's export: revenue in thousands, time on site in seconds, no country.
    other = leads.assign(
        annual_revenue=leads["annual_revenue"] / 1_000,
        time_on_site_min=leads["time_on_site_min"] * 60,
        country=None,
    )
    flags = unfamiliar(model, model.matrix(other))
    share = np.mean([f["unfamiliar"] for f in flags])
    print(f"\nunfamiliar among another export's leads: {share:.2%}")
    assert share > 0.5
    reasons = " ".join(r for f in flags for r in f["reasons"])
    assert "Annual revenue" in reasons and "anything seen in training" in reasons
