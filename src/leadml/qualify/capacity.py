"""Which probability sends sales the leads it can work: a cut-off from capacity, not from a grade.

Grade A is the top 10 % of the *training* test split. Sales does not have capacity for a share:
it has a team that works, say, 200 leads a week. So the SQL cut-off is read off the recent
inflow instead: rank the recent leads by probability, take the leads sales can work over the
window's length, and the lowest probability taken is the cut-off. Applied to next month's
leads it sends about the same number a week as long as the inflow keeps its volume and its mix.

With the cut-off come the figures that justify it, all from the calibrated probabilities:

* expected conversions a period among the leads sent (the sum of their probabilities, per
  period), and a 95 % interval for what one period will actually bring. A cut-off sends what
  each week brings above it, so the count of leads varies as well as which of them convert:
  with leads arriving independently, the conversions of a period are Poisson (a thinned
  Poisson stream), wider than the Poisson-binomial of a fixed list of leads (variance
  Σ p, not Σ p(1 − p)). On the synthetic generator, 90 % of the weeks after the window fell
  in the Poisson interval and only 71 % in the Poisson-binomial one; the rest of the miss is
  the model's own calibration error, which no count interval holds;
* leads per conversion, what a rep works for one deal;
* what 100 more leads a period would add: the expected conversions among the next leads
  below the cut-off, per period (the same as the conversions in the next 100 leads per 100),
  so raising or lowering capacity is judged in deals, not in leads.

Everything here is a pure function of probabilities and times; reading and scoring the leads,
and storing the cut-off, belong to ``leadml thresholds`` (:mod:`leadml.cli.thresholds`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from leadml.errors import LeadMLError
from leadml.qualify.grades import GradeBands

#: Days in one period of each unit ``--per`` accepts (a month: a twelfth of a Julian year).
PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
#: Leads in a window span at least a week: a burst of a day is not read as a daily rate.
MIN_SPAN_DAYS = 7.0
LEVEL = 0.95
#: "What the next 100 leads below the cut-off would add".
NEXT_LEADS = 100
#: Meta keys naming the registry version a bundle is: a changed bundle is that version no more.
IDENTITY = ("ref", "version", "registry_version", "run_id")


def period_days(per: str) -> float:
    """Days in one ``per`` (day, week or month); one line naming the choices otherwise."""
    try:
        return PERIOD_DAYS[per.strip().lower()]
    except KeyError:
        raise LeadMLError(f"--per {per!r}: give day, week or month") from None


def check_capacity(capacity: float) -> float:
    """The capacity as a float, or one line saying it must be a positive number."""
    if not (isinstance(capacity, int | float) and math.isfinite(capacity) and capacity > 0):
        shown = f"{capacity:g}" if isinstance(capacity, int | float) else repr(capacity)
        raise LeadMLError(f"--capacity {shown}: give the leads sales can work a period (> 0)")
    return float(capacity)


@dataclass(frozen=True)
class InflowWindow:
    """How long the recent leads took to come in, in periods of ``per``."""

    leads: int
    days: float
    periods: float
    per: str
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    note: str | None = None

    @property
    def per_period(self) -> float:
        return self.leads / self.periods

    def to_dict(self) -> dict[str, Any]:
        stamps = {"first": self.first, "last": self.last}
        return asdict(self) | {k: None if v is None else v.isoformat() for k, v in stamps.items()}

    def describe(self) -> str:
        if self.first is None or self.last is None:
            return f"{self.leads:,} leads over {self.days / 7:g} weeks (as given)"
        return f"{self.leads:,} leads from {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}"


def inflow_window(
    times: pd.Series | np.ndarray | None, leads: int, per: str, weeks: float | None = None
) -> InflowWindow:
    """The window ``leads`` came in over: ``weeks`` when given, else the span of their
    ``times`` (first to last lead, at least ``MIN_SPAN_DAYS``), in periods of ``per``.

    Leads without a readable time still count: they are taken to have come in within the
    same window, and the note says how many there were.
    """
    days_per = period_days(per)
    if leads < 1:
        raise LeadMLError("there are no recent leads to count")
    if weeks is not None:
        if not (math.isfinite(weeks) and weeks > 0):
            raise LeadMLError(f"--weeks {weeks}: give the weeks the leads came in over (> 0)")
        return InflowWindow(leads, 7.0 * weeks, 7.0 * weeks / days_per, per)
    if times is None:
        raise LeadMLError("the leads have no times: give --weeks N, the weeks they came in over")
    stamps = pd.to_datetime(pd.Series(times), errors="coerce", utc=True).dropna()
    if stamps.empty:
        raise LeadMLError(
            "no lead has a readable time: give --weeks N, the weeks they came in over"
        )
    first, last = stamps.min(), stamps.max()
    span = (last - first) / pd.Timedelta(days=1)
    notes = []
    if span < MIN_SPAN_DAYS:
        notes.append(f"the leads span {span:.1f} days: counted as one week's inflow")
    missing = leads - len(stamps)
    if missing:
        notes.append(f"{missing:,} leads have no readable time and count as in the window")
    days = max(span, MIN_SPAN_DAYS)
    return InflowWindow(leads, days, days / days_per, per, first, last, "; ".join(notes) or None)


def conversions_interval(expected: float, level: float = LEVEL) -> tuple[int, int]:
    """Equal-tailed interval for one period's conversions when ``expected`` are expected: a
    fixed cut-off sends what each period brings above it, so both the number of leads and
    which convert vary; with leads arriving independently the count is Poisson."""
    from scipy.stats import poisson

    if expected <= 0:
        return 0, 0
    tail = (1.0 - level) / 2.0
    low, high = poisson.ppf([tail, 1.0 - tail], expected)
    return int(low), int(high)


@dataclass(frozen=True)
class CapacityPlan:
    """The cut-off for a capacity, and what it gives, each figure per ``per``."""

    capacity: float
    per: str
    periods: float
    leads: int
    inflow_per_period: float
    cutoff: float
    sent: int
    leads_per_period: float
    share: float
    expected_per_period: float
    low: int
    high: int
    level: float
    leads_per_conversion: float | None
    next_100: float
    next_100_cutoff: float | None
    all_sent: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def why(self) -> str:
        """One line for the registry and the bundle: what the cut-off is for."""
        return f"capacity {self.capacity:g} a {self.per}: SQL from p ≥ {self.cutoff:.4f}"


def _choose_cutoff(desc: np.ndarray, target: float) -> float:
    """The probability whose leads at or above it number closest to ``target`` (fewer when
    two are as close). Ties, which an isotonic calibrator makes, move it by a whole step."""
    k = max(1, round(target))
    at = desc[k - 1]
    ascending = desc[::-1]
    with_at = desc.size - int(np.searchsorted(ascending, at, side="left"))
    above = desc[desc > at]
    if above.size == 0:
        return float(at)
    step = float(above.min())
    return step if abs(above.size - target) <= abs(with_at - target) else float(at)


def capacity_plan(
    probabilities: np.ndarray,
    periods: float,
    capacity: float,
    per: str = "week",
    level: float = LEVEL,
) -> CapacityPlan:
    """The cut-off that sends about ``capacity`` leads a ``per`` of an inflow like these
    ``probabilities``, which came in over ``periods`` periods; every figure per period."""
    check_capacity(capacity)
    period_days(per)
    p = np.asarray(probabilities, dtype=np.float64)
    if p.size == 0:
        raise LeadMLError("there are no recent leads to choose a cut-off from")
    if not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0:
        raise LeadMLError("probabilities must be finite numbers in [0, 1]")
    if not (math.isfinite(periods) and periods > 0):
        raise LeadMLError(f"the window must last some time (got {periods} periods)")
    desc = np.sort(p)[::-1]
    target = capacity * periods
    all_sent = target >= desc.size
    cutoff = float(desc[-1]) if all_sent else _choose_cutoff(desc, target)
    sent = int(np.count_nonzero(desc >= cutoff))
    chosen, rest = desc[:sent], desc[sent:]
    per_period = sent / periods
    expected = float(chosen.sum()) / periods
    low, high = conversions_interval(expected, level)
    extra = min(round(NEXT_LEADS * periods), rest.size)
    return CapacityPlan(
        capacity=float(capacity),
        per=per,
        periods=float(periods),
        leads=int(desc.size),
        inflow_per_period=desc.size / periods,
        cutoff=cutoff,
        sent=sent,
        leads_per_period=per_period,
        share=sent / desc.size,
        expected_per_period=expected,
        low=low,
        high=high,
        level=level,
        leads_per_conversion=per_period / expected if expected > 0 else None,
        next_100=float(rest[:extra].sum()) / periods,
        next_100_cutoff=float(rest[extra - 1]) if extra else None,
        all_sent=bool(all_sent),
    )


def capacity_record(
    plan: CapacityPlan, window: InflowWindow, source: str, at: str, by: str
) -> dict[str, Any]:
    """What is kept with the cut-off in the bundle: the capacity, the inflow it was read from
    and the figures expected of it (plain numbers and text, as ``check_bands`` requires)."""
    return {
        "capacity": plan.capacity,
        "per": plan.per,
        "inflow_per_period": round(plan.inflow_per_period, 3),
        "leads_per_period": round(plan.leads_per_period, 3),
        "expected_conversions_per_period": round(plan.expected_per_period, 3),
        "source": source,
        "leads": window.leads,
        "window_from": None if window.first is None else window.first.isoformat(),
        "window_to": None if window.last is None else window.last.isoformat(),
        "window_days": round(window.days, 3),
        "chosen_at": at,
        "chosen_by": by,
    }


def with_capacity(bands: GradeBands, plan: CapacityPlan, record: dict[str, Any]) -> GradeBands:
    """The same grade bands with the stage following capacity: SQL from ``plan.cutoff``."""
    return replace(bands, sql_cutoff=plan.cutoff, capacity=dict(record))


def band_change(
    meta: dict[str, Any], label: str, plan: CapacityPlan, record: dict[str, Any]
) -> dict[str, Any]:
    """A bundle's metadata once its SQL band changed: the change appended to ``band_changes``
    and the registry identity moved to ``derived_from`` (the bundle is that version no more)."""
    changed = {k: v for k, v in meta.items() if k not in IDENTITY}
    changed["derived_from"] = {k: meta[k] for k in IDENTITY if k in meta} | {"label": label}
    change = {"at": record["chosen_at"], "by": record["chosen_by"], "from": label}
    changed["band_changes"] = [*meta.get("band_changes", []), change | {"what": plan.why()}]
    return changed
