"""Cut-offs from sales capacity: the pure functions, then the claim that matters, on leads the
model never saw: a cut-off read off one month's inflow sends about the capacity a week of the
month after it, and its weeks convert within the interval it gives."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from leadml.data.synthetic import generate_leads
from leadml.data.target import CONVERTED, outcome_codes
from leadml.errors import LeadMLError
from leadml.modeling.finish import TrainResult
from leadml.qualify.capacity import (
    PERIOD_DAYS,
    band_change,
    capacity_plan,
    capacity_record,
    conversions_interval,
    inflow_window,
    period_days,
    with_capacity,
)
from leadml.qualify.grades import GradeBands

START = pd.Timestamp("2026-03-02", tz="UTC")


def times_over(days: float, n: int) -> pd.Series:
    """``n`` lead times from START to START + days, evenly spread (both ends included)."""
    return pd.Series(START + pd.to_timedelta(np.linspace(0, days, n), unit="D"))


def test_inflow_counts_leads_a_period_over_the_span_of_their_times() -> None:
    times = times_over(28, 400)
    for per, days in PERIOD_DAYS.items():
        window = inflow_window(times, 400, per)
        assert window.days == pytest.approx(28)
        assert window.per_period == pytest.approx(400 / (28 / days))
    assert inflow_window(times, 400, " Week ").per_period == pytest.approx(100)
    assert period_days("Month") == pytest.approx(365.25 / 12)
    assert inflow_window(times, 400, "week").note is None
    # given weeks win over the times, and need none
    assert inflow_window(None, 400, "week", weeks=8).per_period == pytest.approx(50)
    assert inflow_window(times, 400, "day", weeks=2).per_period == pytest.approx(400 / 14)


def test_a_short_burst_counts_as_one_week_and_timeless_leads_are_said() -> None:
    burst = inflow_window(times_over(2, 50), 50, "week")
    assert burst.per_period == pytest.approx(50) and "2.0 days" in str(burst.note)
    gaps = pd.concat([times_over(14, 90), pd.Series([pd.NaT] * 10)], ignore_index=True)
    window = inflow_window(gaps, 100, "week")
    assert window.per_period == pytest.approx(50) and "10 leads have no readable time" in str(
        window.note
    )


@pytest.mark.parametrize(
    ("times", "leads", "per", "weeks", "says"),
    [
        (None, 10, "week", None, "--weeks N"),
        (pd.Series(["soon", None]), 2, "week", None, "no lead has a readable time"),
        (None, 10, "fortnight", 2, "--per 'fortnight'"),
        (None, 10, "week", 0, "--weeks 0"),
        (None, 0, "week", 2, "no recent leads"),
    ],
)
def test_inflow_refusals_are_one_line(
    times: pd.Series | None, leads: int, per: str, weeks: float | None, says: str
) -> None:
    with pytest.raises(LeadMLError) as caught:
        inflow_window(times, leads, per, weeks)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_the_plan_takes_the_top_leads_for_the_capacity_and_adds_them_up() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(1.5, 4, 2_000)
    plan = capacity_plan(p, periods=4, capacity=120, per="week")
    top = np.sort(p)[::-1]
    assert plan.sent == 480 and plan.cutoff == top[479]
    assert np.count_nonzero(p >= plan.cutoff) == plan.sent
    assert plan.leads_per_period == pytest.approx(120)
    assert plan.inflow_per_period == pytest.approx(500) and plan.share == pytest.approx(0.24)
    assert plan.expected_per_period == pytest.approx(top[:480].sum() / 4)
    assert plan.leads_per_conversion == pytest.approx(120 / plan.expected_per_period)
    # 100 more leads a week: the next 400 below the cut-off, per week
    assert plan.next_100 == pytest.approx(top[480:880].sum() / 4)
    assert plan.next_100_cutoff == top[879]
    assert plan.next_100 < 100 * plan.cutoff  # leads below the cut-off convert less
    assert (plan.low, plan.high) == conversions_interval(plan.expected_per_period)
    assert plan.low < plan.expected_per_period < plan.high
    assert not plan.all_sent and "capacity 120 a week: SQL from p ≥" in plan.why()


def test_tied_probabilities_move_the_cut_off_a_whole_step_to_the_nearest_count() -> None:
    # an isotonic calibrator gives few distinct probabilities: 300 leads at each of 5 values
    p = np.repeat([0.5, 0.4, 0.3, 0.2, 0.1], 300)
    counts = {v: int(np.count_nonzero(p >= v)) for v in np.unique(p)}
    for capacity in (100, 400, 520, 700, 1000):
        plan = capacity_plan(p, periods=1, capacity=capacity)
        best = min(abs(c - capacity) for c in counts.values())
        assert abs(plan.sent - capacity) == best and plan.sent == counts[plan.cutoff]


def test_capacity_beyond_the_inflow_sends_every_lead() -> None:
    p = np.array([0.9, 0.5, 0.2, 0.05])
    plan = capacity_plan(p, periods=2, capacity=10)
    assert plan.all_sent and plan.cutoff == 0.05 and plan.sent == 4 and plan.share == 1.0
    assert plan.expected_per_period == pytest.approx(p.sum() / 2)
    assert plan.next_100 == 0.0 and plan.next_100_cutoff is None


@pytest.mark.parametrize(
    ("p", "periods", "capacity", "says"),
    [
        ([0.2, 0.3], 1, 0, "--capacity 0"),
        ([0.2, 0.3], 1, -5, "--capacity -5"),
        ([0.2, 0.3], 1, math.nan, "--capacity nan"),
        ([], 1, 10, "no recent leads"),
        ([0.2, 1.3], 1, 10, "in [0, 1]"),
        ([0.2, math.nan], 1, 10, "in [0, 1]"),
        ([0.2, 0.3], 0, 10, "must last"),
    ],
)
def test_plan_refusals(p: list[float], periods: float, capacity: float, says: str) -> None:
    with pytest.raises(LeadMLError) as caught:
        capacity_plan(np.array(p), periods, capacity)
    assert says in str(caught.value)


def test_the_interval_holds_a_cut_offs_weeks_as_volume_and_outcomes_vary() -> None:
    """A fixed cut-off's week: Poisson arrivals, each lead converting with its probability.
    The interval must hold about 95 % of such weeks (a fixed-list Poisson-binomial interval,
    blind to the volume, holds far fewer)."""
    rng = np.random.default_rng(11)
    history = rng.beta(1.2, 4, 8_000)
    plan = capacity_plan(history, periods=8, capacity=250)
    weeks = []
    for _ in range(3_000):
        p = rng.beta(1.2, 4, rng.poisson(1_000))
        weeks.append(int((rng.random(p.size) < p)[p >= plan.cutoff].sum()))
    inside = np.mean([plan.low <= w <= plan.high for w in weeks])
    assert 0.94 <= inside <= 0.99, inside
    assert conversions_interval(0.0) == (0, 0)


def test_the_band_record_and_meta_change() -> None:
    p = np.linspace(0.01, 0.9, 300)
    times = times_over(21, 300)
    window = inflow_window(times, 300, "week")
    plan = capacity_plan(p, window.periods, 40)
    record = capacity_record(plan, window, "recent.csv", "2026-03-30T10:00:00+00:00", "ana")
    bands = with_capacity(GradeBands((0.6, 0.3, 0.1)), plan, record)
    assert bands.sql_cutoff == plan.cutoff and bands.cutoffs == (0.6, 0.3, 0.1)
    assert bands.capacity is not None and bands.capacity["leads"] == 300
    assert bands.capacity["window_from"].startswith("2026-03-02")
    meta = {"version": "crm-v3-1a2b3c4d", "registry_version": "3", "run_id": "r", "x": 1}
    changed = band_change(meta, "crm-v3-1a2b3c4d", plan, record)
    assert "version" not in changed and "registry_version" not in changed and changed["x"] == 1
    assert changed["derived_from"]["registry_version"] == "3"
    assert changed["band_changes"][-1]["from"] == "crm-v3-1a2b3c4d"
    assert meta["version"] == "crm-v3-1a2b3c4d"  # the loaded model's meta is not changed


@pytest.fixture(scope="module")
def following_months(trained: TrainResult) -> pd.DataFrame:
    """Two months after the training window, ~1,000 leads a week: the model's probability,
    the outcome and the creation time of each."""
    frame = generate_leads(8_700, seed=21, start="2026-11-01", months=2)
    model = trained.model
    return pd.DataFrame(
        {
            "p": model.predict_proba(model.matrix(frame)),
            "y": (outcome_codes(frame[model.schema.target], model.schema) == CONVERTED).astype(int),
            "at": pd.to_datetime(frame["created_at"], utc=True),
        }
    )


@pytest.mark.parametrize("capacity", [300, 600])
def test_a_months_cut_off_sends_the_capacity_of_the_month_after(
    following_months: pd.DataFrame, capacity: int
) -> None:
    leads = following_months
    planned = leads[leads["at"] < "2026-12-01"]
    window = inflow_window(planned["at"], len(planned), "week")
    assert 950 < window.per_period < 1_050  # what 8,700 leads over two months give
    plan = capacity_plan(planned["p"].to_numpy(), window.periods, capacity)
    assert 0.25 < plan.share < 0.65

    # the following month sends capacity ± 10 % a week
    month = leads[leads["at"] >= "2026-12-01"]
    month_window = inflow_window(month["at"], len(month), "week")
    sent = month["p"] >= plan.cutoff
    weekly = sent.sum() / month_window.periods
    assert abs(weekly / capacity - 1) <= 0.10, weekly
    # what its leads brought a week is within what the plan said one week brings
    realized = month.loc[sent, "y"].sum() / month_window.periods
    assert plan.low <= realized <= plan.high, (plan.low, realized, plan.high)

    # and week by week, at least three of its four full weeks fall in the interval (a
    # fixed-list interval, blind to the week's volume, is too narrow for that)
    week = ((month["at"] - pd.Timestamp("2026-12-01", tz="UTC")) / pd.Timedelta(days=7)).astype(int)
    full = (week < 4).to_numpy()
    converted = month.loc[sent & full, "y"].groupby(week[sent & full]).sum()
    inside = ((converted >= plan.low) & (converted <= plan.high)).sum()
    assert len(converted) == 4 and inside >= 3, (plan.low, converted.tolist(), plan.high)
