"""Labels that have had time to mature: which leads a model may learn from, and as what.

A CRM export is a live funnel: some leads are still open, and the newest have not had time to
convert. Learning from it as if every outcome were final teaches the model that young leads do
not convert (Olist as a CRM showed it on 2018-04-01: March's leads 7.0 % converted, 14.2 %
eventually), and recency weighting then trusts those young leads most.

So the label is **converted within a horizon** of H days after the lead came in, and a lead is
learned from only once that is settled *by its age*: it is at least H days old at the export
date (``as_of``). Younger leads are *immature*: counted, never learned from. Leads whose status
is still open are never learned from at all; a conversion after the horizon is "not within it".

Learning from the young leads that converted while leaving out the young ones that have not
(yet) would teach that young leads always convert, and, worse, that whatever is new this month
(a landing page, a campaign) is a sure win: measured on Olist as of 2018-05-01, weighting them
for their missing negatives still dropped the next leads' ROC AUC from 0.72 to 0.57. What the
young leads that already converted or closed can say, with that correction, is the newest
conversion *level* (``newest_level.Maturity.level_shift``): the backtest decides whether to use it.

The horizon is chosen from the time leads take to convert, measured by Kaplan–Meier
(scikit-survival): each lead is followed from its creation until it converts (the event), is
closed lost (its close date ends the follow-up) or the export date (censored). ``auto`` takes
the shortest horizon that covers most of the conversions the data can show, unless that leaves
too few leads old enough, in which case the longest horizon that keeps half the leads mature.

Every learnable lead also gets the moment its label became known (``known_at``): a backtest
fold may learn only from what was known at its cutoff (:func:`leadml.data.split.backtest_folds`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import setting_default
from leadml.data.target import CONVERTED, NOT_CONVERTED, OPEN
from leadml.data.timeline import CREATED_AFTER, DAY_NS, Timeline, parse_as_of
from leadml.data.values import days_option
from leadml.errors import DataError
from leadml.schema.spec import LeadSchema

#: Horizons ``auto`` chooses among, in days.
CANDIDATES = (7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365, 545, 730)
#: The horizon should cover at least this share of the conversions the data can show ...
COVERAGE = 0.75
#: ... while at least this share of the leads is old enough to be learned from.
MATURE_SHARE = 0.5
#: The conversions "the data can show": Kaplan–Meier's curve up to the longest follow-up that
#: still has this share of the leads (and at least ``MIN_AT_RISK``) under observation.
AT_RISK_SHARE = 0.05
MIN_AT_RISK = 20


def parse_horizon(text: str | int | None) -> str | int:
    """``auto``, ``none`` or a whole number of days (``--horizon``)."""
    value = days_option(text, "--horizon", "a whole number of days", whole=True)
    return value if isinstance(value, str) else int(value)


def conversion_curve(timeline: Timeline) -> tuple[np.ndarray, np.ndarray, float]:
    """Kaplan–Meier's share converted by each day, and the longest follow-up it can vouch for
    (still ``AT_RISK_SHARE`` of the leads under observation)."""
    from sksurv.nonparametric import kaplan_meier_estimator

    event, duration = timeline.follow_up()
    if not event.any():
        return np.zeros(0), np.zeros(0), 0.0
    times, survival = kaplan_meier_estimator(event, duration)
    at_risk = len(duration) - np.searchsorted(np.sort(duration), times, side="left")
    enough = at_risk >= max(MIN_AT_RISK, AT_RISK_SHARE * len(duration))
    longest = float(times[enough][-1]) if enough.any() else float(times[-1])
    return times, 1.0 - survival, longest


def converted_by(times: np.ndarray, share: np.ndarray, day: float) -> float:
    """The curve's share converted within ``day`` days."""
    at = np.searchsorted(times, day, side="right") - 1
    return float(share[at]) if at >= 0 else 0.0


@dataclass
class Horizon:
    """The horizon used (None: outcomes taken as final) and why, in one sentence."""

    days: int | None
    why: str
    #: Kaplan–Meier's share converted within each candidate horizon, as measured.
    curve: dict[int, float] = field(default_factory=dict)
    #: Days within which half of the conversions the data shows happened.
    median_days: float | None = None


def _class_counts(timeline: Timeline, days: int) -> tuple[int, int, float]:
    """Converted-within and not, among leads old enough for ``days``; and the mature share."""
    labels = apply_horizon(timeline, days)
    y = labels.y[labels.learn]
    placed = int(np.isin(timeline.code, (CONVERTED, NOT_CONVERTED, OPEN)).sum())
    mature = int((timeline.age_days >= days).sum())
    return int(y.sum()), int(len(y) - y.sum()), mature / max(placed, 1)


def choose_horizon(
    timeline: Timeline, asked: str | int, min_class_count: int = setting_default("min_class_count")
) -> Horizon:
    """The horizon for ``--horizon`` (``auto``, ``none`` or days), with its reason."""
    if asked == "none":
        return Horizon(None, "horizon none: every closed outcome is taken as final")
    no_dates = not np.isfinite(timeline.created).any()
    if isinstance(asked, int):
        if no_dates:
            raise DataError("--horizon in days needs a time column (when each lead came in)")
        return Horizon(asked, f"horizon {asked} days, as you asked")
    if no_dates or not timeline.dated_conversions:
        return Horizon(None, "no conversion date, so no horizon: outcomes taken as final")
    times, share, longest = conversion_curve(timeline)
    if not len(times):
        return Horizon(None, "no dated conversion, so no horizon: outcomes taken as final")
    total = converted_by(times, share, longest)
    curve = {d: converted_by(times, share, d) for d in CANDIDATES}
    half = float(times[np.searchsorted(share, total / 2)])
    found = Horizon(None, "", curve, half)
    valid = []
    for days in CANDIDATES:
        positives, negatives, mature = _class_counts(timeline, days)
        if min(positives, negatives) >= min_class_count:
            valid.append((days, curve[days] / total if total else 0.0, mature))
    if not valid:
        raise DataError(
            "too few leads are old enough to learn from at any horizon ("
            + ", ".join(str(d) for d in CANDIDATES[:6])
            + f" … days, at least {min_class_count} converted and not): give --horizon none "
            "to take outcomes as final, or train on a later export"
        )
    covering = [v for v in valid if v[1] >= COVERAGE]
    matured = [v for v in valid if v[2] >= MATURE_SHARE]
    if covering and (not matured or covering[0][0] <= matured[-1][0]):
        days, covered, mature = covering[0]
        why = f"the shortest that covers {covered:.0%} of the conversions the data shows"
    elif matured:
        days, covered, mature = matured[-1]
        why = (
            f"covers {covered:.0%} of the conversions the data shows; a longer one would leave "
            f"fewer than {MATURE_SHARE:.0%} of the leads old enough to learn from"
        )
    else:
        days, covered, mature = valid[0]
        why = f"the shortest with enough leads to learn from; covers {covered:.0%} of conversions"
    found.days = days
    found.why = (
        f"horizon auto: {days} days, {why} (half convert within {half:.0f} days; "
        f"{mature:.0%} of the leads are old enough)"
    )
    return found


@dataclass
class Labels:
    """Per lead: the 0/1 label, whether it is learned from, and when it could be."""

    y: np.ndarray  # int8
    learn: np.ndarray  # bool
    known_at: np.ndarray  # float ns: when the label could be learned from (NaN: never)
    counts: dict[str, int]
    #: Converted at all by the export date, within the horizon or not: what a column filled
    #: "for converted leads only" is filled for (the leakage guard's evidence).
    converted: np.ndarray | None = None
    #: Days from coming in until the label was settled (τ): a conversion within the horizon
    #: when it happened, a loss when it was closed, else the horizon (NaN: never settled).
    settled_days: np.ndarray | None = None
    #: Too young to learn from, but settled already (converted or closed fast): they tell the
    #: newest conversion level (``newest_level.Maturity.level_shift``), never the model.
    fresh: np.ndarray | None = None


def apply_horizon(timeline: Timeline, days: int | None) -> Labels:
    """Labels as the export shows them, with ``days`` (None: outcomes taken as final)."""
    code = timeline.code
    converted, not_converted = code == CONVERTED, code == NOT_CONVERTED
    closed_or_won = converted | not_converted
    counts = {
        "open": int((code == OPEN).sum()),
        "created_after_as_of": int((code == CREATED_AFTER).sum()),
    }
    if days is None:
        learn = closed_or_won
        y = converted.astype(np.int8)
        # what a fold's cutoff knew: a conversion or a close from its date, else from the start
        known = np.where(converted, timeline.converted, timeline.closed)
        known_at = np.where(np.isfinite(known), known, timeline.created)
        counts |= dict.fromkeys(
            ("immature", "young_settled", "converted_after_horizon", "converted_no_date"), 0
        )
        settled_days = fresh = None
    else:
        horizon_ns = days * DAY_NS
        mature = timeline.age_days >= days
        took = timeline.converted - timeline.created
        within = took <= horizon_ns
        undated = converted & np.isnan(timeline.converted)
        # Without a conversion date column, a converted lead is taken as converted within it.
        in_time = within | (undated & ~timeline.dated_conversions)
        unknown = undated & timeline.dated_conversions
        y = (converted & in_time).astype(np.int8)
        learn = closed_or_won & ~unknown & mature
        known_at = timeline.created + horizon_ns
        # When the label was settled: a conversion within the horizon when it happened, a
        # loss when it was closed (if sooner), anything else when the horizon had passed.
        settle = np.full(len(code), horizon_ns, dtype=np.float64)
        settle = np.where(converted & within, np.maximum(took, 0.0), settle)
        closed_in = not_converted & (timeline.closed - timeline.created < horizon_ns)
        settle = np.where(closed_in, np.maximum(timeline.closed - timeline.created, 0.0), settle)
        settled = closed_or_won & ~unknown & (timeline.created + settle <= timeline.as_of)
        fresh = settled & ~mature
        settled_days = np.where(settled, settle / DAY_NS, np.nan)
        counts |= {
            "immature": int((closed_or_won & ~unknown & ~mature).sum()),
            "young_settled": int(fresh.sum()),
            "converted_after_horizon": int((learn & converted & ~in_time).sum()),
            "converted_no_date": int((unknown & mature).sum()),
        }
    known_at = np.where(learn, known_at, np.nan)
    counts["converted"] = int(y[learn].sum())
    counts["not_converted"] = int(learn.sum() - counts["converted"])
    return Labels(y, learn, known_at, counts, converted, settled_days, fresh)


# -- one table: the labels settled ---------------------------------------------------------------
@dataclass(frozen=True)
class LabelRule:
    """What the user asked for: the horizon (``auto``, ``none`` or days) and the export date
    (None: the newest date in the data)."""

    horizon: str | int = "auto"
    as_of: pd.Timestamp | None = None

    @classmethod
    def parse(cls, horizon: str | int | None = None, as_of: str | None = None) -> LabelRule:
        """From ``--horizon`` and ``--as-of`` (or the settings): a bad value stops here."""
        return cls(parse_horizon(horizon), parse_as_of(as_of))

    def export_date(self, newest: float) -> float:
        """``as_of`` as float nanoseconds, else ``newest`` (the data's newest date)."""
        if self.as_of is None:
            return newest
        return float(self.as_of.value)


def check_classes(counts: dict[str, int], target: str, min_class_count: int) -> None:
    """Both classes, enough of each, among the leads learned from; the message says what was
    left out, since that is usually why."""
    positives, negatives = counts["converted"], counts["not_converted"]
    left = counts.get("open", 0) + counts.get("immature", 0)
    aside = f"; {left:,} more were left out as open or too young" if left else ""
    if positives == 0 or negatives == 0:
        raise DataError(
            f"target column '{target}' has only one class among the leads to learn from "
            f"({positives} converted, {negatives} not{aside}); a model needs both"
        )
    if min(positives, negatives) < min_class_count:
        raise DataError(
            f"too few examples to learn from: {positives} converted and {negatives} not "
            f"converted leads{aside}; need at least {min_class_count} of each"
        )


def settle_labels(
    timeline: Timeline,
    classes: dict[str, list[str]],
    schema: LeadSchema,
    rule: LabelRule,
    min_class_count: int,
) -> tuple[Labels, LabelSummary, list[str]]:
    """The labels of a table (its timeline: one frame's, or every partition's end to end):
    the horizon, who is learned from, and the warnings that go with them."""
    horizon = choose_horizon(timeline, rule.horizon, min_class_count)
    labels = apply_horizon(timeline, horizon.days)
    summary = LabelSummary(classes, labels.counts, horizon, timeline.as_of)
    check_classes(labels.counts, schema.target, min_class_count)
    notes = []
    if warning := young_leads_warning(
        timeline.created[labels.learn], labels.y[labels.learn], summary
    ):
        notes.append(warning)
    return labels, summary, notes


# -- what the training output says about it ------------------------------------------------------
@dataclass
class LabelSummary:
    """How the outcomes were read, for the output, the report, MLflow and ``metrics.json``."""

    classes: dict[str, list[str]]
    counts: dict[str, int]
    horizon: Horizon
    as_of: float

    @property
    def horizon_days(self) -> int | None:
        return self.horizon.days

    def lines(self) -> list[str]:
        """What was learned from and what was left out, one line each (only what applies)."""
        c = self.counts
        learned = c["converted"] + c["not_converted"]
        within = f" within {self.horizon.days} days" if self.horizon.days else ""
        out = [
            f"learned from {learned:,} leads: {c['converted']:,} converted{within}, "
            f"{c['not_converted']:,} not"
            + (
                f" ({c['converted_after_horizon']:,} converted later)"
                if c["converted_after_horizon"]
                else ""
            )
        ]

        if self.horizon.why:
            out.append(self.horizon.why)
        date = f" on {pd.Timestamp(self.as_of):%Y-%m-%d}" if np.isfinite(self.as_of) else ""
        left = {
            "open": f"still open{date} (never learned from; scored like any lead)",
            "immature": f"younger than the horizon{date}: too young to tell",
            "converted_no_date": "converted with no conversion date: cannot tell if within it",
            "created_after_as_of": "created after --as-of",
        }
        for key, text in left.items():
            if c.get(key):
                out.append(f"left out {c[key]:,} leads {text}")
                if key == "immature" and c.get("young_settled"):
                    out[-1] += (
                        f" ({c['young_settled']:,} of them already converted or closed: they "
                        "tell the newest conversion level)"
                    )
        return out

    def to_dict(self) -> dict[str, Any]:
        as_of = pd.Timestamp(self.as_of).isoformat() if np.isfinite(self.as_of) else None
        return {
            "lines": self.lines(),
            "classes": self.classes,
            "counts": self.counts,
            "horizon_days": self.horizon.days,
            "horizon_note": self.horizon.why,
            "as_of": as_of,
            "converted_by_day": {str(k): round(v, 4) for k, v in self.horizon.curve.items()},
            "median_days_to_convert": self.horizon.median_days,
        }


def young_leads_warning(
    created: np.ndarray, y: np.ndarray, label: LabelSummary, share: float = 0.1
) -> str | None:
    """Without a horizon: do the newest leads convert markedly less than the ones just before
    them? If so they may not have had time to, and the warning says what fixes it (one-sided
    binomial test of the newest tenth against the rate of the two tenths before it: the
    recent past, not the whole history, which may be another business)."""
    from scipy.stats import binomtest

    if label.horizon.days is not None or not np.isfinite(created).any() or len(y) < 200:
        return None
    order = np.argsort(created, kind="stable")
    size = max(20, round(len(order) * share))
    newest = order[len(order) - size :]
    rest = order[max(0, len(order) - 3 * size) : len(order) - size]
    before, now = float(y[rest].mean()), float(y[newest].mean())
    if before <= 0 or now >= 0.67 * before:
        return None
    test = binomtest(int(y[newest].sum()), len(newest), before, alternative="less")
    if test.pvalue >= 1e-3:
        return None
    since = pd.Timestamp(float(np.nanmin(created[newest])))
    return (
        f"the newest {share:.0%} of the leads (from {since:%Y-%m-%d}) converted at {now:.1%} "
        f"against {before:.1%} for the leads just before them (p = {test.pvalue:.1g}): they may "
        "not have had time "
        "to convert. Name the conversion date with --converted-at COL, or leave the young "
        "leads out with --horizon DAYS (and --as-of DATE, the export date)"
    )
