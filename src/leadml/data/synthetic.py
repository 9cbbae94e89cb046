"""A deterministic synthetic CRM lead history with a known generating process.

Why synthetic: real lead exports carry personal data and are never shared, yet the team needs
data with *known* signal to test that a model finds it. The table mimics a CRM export: PII
columns, BANT form answers with "Select" placeholders, firmographics with gaps, engagement
counts, a lead source, 24 months of creation dates, and ``converted`` at about 15%.

The generating process (log-odds of conversion, per lead):

* **BANT answers** (ordinal), each a main effect of 0.4× its scale: budget -0.9 … +0.9 from
  "< 10k" to "> 250k"; authority (``decision_role``) -0.7 … +0.8; need -1.0 … +0.9; timing
  (``purchase_timeline``) -1.0 … +1.0. Unanswered ("Select" or blank) hides the true answer.
* **The BANT rule**: +1.9 when at least three of the four are strong (budget ≥ 50k, role ≥
  evaluator, need ≥ important, timeline ≤ 6 months): a threshold on a count.
* A large budget claimed by a tiny company (< 20 employees) is discounted by 1.0: an
  interaction a points score cannot express. Seniority drives the role, so job title and
  seniority carry authority signal too.
* **Engagement**, driven by a latent intent that also moves need and timing: demo requested
  +0.3, and a further +1.6 when the requester has authority (evaluator or decision maker);
  pricing-page views +0.55·log1p(n); pages viewed +0.5·tanh((n-8)/6); a recency cliff of
  -2.2·sigmoid((days-30)/5) after a month without activity.
* **Fit**: industry effects (software +0.35 … government -0.45); company size in a sweet spot
  (50 to 2,000 employees +0.7) and very large companies (> 20,000) -0.5: non-monotone; lead
  source (referral +0.6, partner +0.4, cold outbound -0.5).
* **Drift**: webinar attendance is worth +0.9 at the start and fades linearly to 0 over the
  24 months, while the base rate climbs by +0.35: an old model slowly goes stale. The clock is
  the process's own (24 months from 1 November 2024, whatever ``start`` is), so leads made for
  a later window (``start="2026-11-01", months=1``: the month after the data) continue the
  trends: the base rate keeps climbing and the webinar stays worth nothing.
* **Sudden drift**, on request only (:class:`Drift`), to rehearse monitoring: budget answers
  pushed toward "< 10k" (the latent moved, so conversion follows the answers), and a share of
  leads from a lead source the training data never had. Each knob draws nothing from the main
  random stream, so every other field stays as it would have been, lead for lead.
* **Segments**, on request only (``segments=``): a ``region`` column from ``country``, and
  under ``"different"`` APAC leads converting by a rule of their own; a ``Drift`` may be
  confined to one region (:mod:`leadml.data.synthetic_segments`).

Name, email and phone are drawn independently of everything else: they carry no signal, and
the invariance tests rely on that.

**The as-of export** (``as_of``): the same leads as a CRM would show them that day, a live
funnel instead of eventual outcomes (:mod:`leadml.data.synthetic_funnel`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from leadml.data.synthetic_funnel import STAMP, as_of_export, eventual_fates
from leadml.data.synthetic_people import contact_details, job_titles
from leadml.data.synthetic_segments import REGION_NAMES, confine_drift, with_segments
from leadml.data.write import write_table
from leadml.errors import LeadMLError

BUDGET_LEVELS = ["< 10k", "10k–50k", "50k–100k", "100k–250k", "> 250k"]
ROLE_LEVELS = ["End user", "Influencer", "Evaluator", "Decision maker"]
NEED_LEVELS = ["No clear need", "Exploring options", "Important", "Critical"]
TIMELINE_LEVELS = ["Just researching", "12+ months", "6–12 months", "3–6 months", "< 3 months"]
SENIORITY_LEVELS = ["Junior", "Mid-level", "Manager", "Director", "VP", "C-level"]
DEPARTMENTS = ["Marketing", "Sales", "IT", "Finance", "Operations", "HR", "Engineering"]
COUNTRIES = ["US", "UK", "DE", "FR", "BR", "IN", "ES", "PL", "CA", "AU"]
COUNTRY_P = [0.30, 0.12, 0.10, 0.07, 0.09, 0.10, 0.06, 0.05, 0.06, 0.05]
INDUSTRIES = {
    "Software": 0.35,
    "Financial services": 0.2,
    "Healthcare": 0.1,
    "Manufacturing": 0.0,
    "Retail": -0.1,
    "Education": -0.3,
    "Government": -0.45,
    "Logistics": 0.05,
    "Media": -0.15,
}
SOURCES = {
    "Organic search": 0.1,
    "Paid search": 0.0,
    "Referral": 0.6,
    "Webinar": 0.2,
    "Event": 0.15,
    "Cold outbound": -0.5,
    "Partner": 0.4,
    "Social": -0.2,
}
BUDGET_EFFECT = np.array([-0.9, -0.3, 0.3, 0.7, 0.9])
ROLE_EFFECT = np.array([-0.7, -0.2, 0.2, 0.8])
NEED_EFFECT = np.array([-1.0, -0.3, 0.4, 0.9])
TIMELINE_EFFECT = np.array([-1.0, -0.6, 0.0, 0.5, 1.0])
INTERCEPT = -3.6

#: The process's own clock: time drift is measured over 24 months (730 days) from here.
ORIGIN = "2024-11-01"
WINDOW_DAYS = 730
#: How far ``Drift(budget_shift=1)`` lowers the budget answer's latent: two answers' worth
#: (its cut-offs lie 1.0 apart), so the knob's useful range is 0 to 1.
BUDGET_STEP = 2.0
#: The lead source a ``Drift(new_source=...)`` brings in, and its effect on the log-odds.
NEW_SOURCE = "AI chat assistant"
NEW_SOURCE_EFFECT = 0.0


@dataclass(frozen=True)
class Drift:
    """Sudden changes to rehearse monitoring on; nothing else about the leads changes.

    ``budget_shift`` lowers the latent behind the budget answer by ``BUDGET_STEP`` times
    itself, in the ordered logit's units (its answers' cut-offs lie 1.0 apart): 0.5 moves
    nearly every answer above "< 10k" one answer down; 0.8 puts about 44 % of leads at "< 10k",
    against 10 % without drift. Conversion follows the answers, as it always does.
    ``new_source`` is the share of leads that come from ``new_source_name``, a lead source
    absent from any undrifted table. ``segment`` (a region) confines both to that region's
    leads, and adds the ``region`` column that names it.
    """

    budget_shift: float = 0.0
    new_source: float = 0.0
    new_source_name: str = NEW_SOURCE
    segment: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.new_source <= 1.0:
            raise LeadMLError(f"drift new-source must be a share in [0, 1], not {self.new_source}")
        if self.segment is not None and self.segment not in REGION_NAMES:
            raise LeadMLError(
                f"drift segment '{self.segment}' is not a region; use {', '.join(REGION_NAMES)}"
            )


#: ``--drift KEY=VALUE`` keys → ``Drift`` fields.
DRIFT_KEYS = {"budget": "budget_shift", "new-source": "new_source", "segment": "segment"}


def parse_drift(items: Iterable[str]) -> Drift | None:
    """``["budget=0.8", "new-source=0.3", "segment=EMEA"]`` → ``Drift`` (None when no item)."""
    values: dict[str, float | str] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in DRIFT_KEYS:
            raise LeadMLError(
                f"unknown drift '{item}'; use budget=SHIFT (e.g. budget=0.8) "
                "or new-source=SHARE (e.g. new-source=0.3) or segment=REGION (e.g. segment=EMEA)"
            )
        if key == "segment":
            values["segment"] = raw.strip()
            continue
        try:
            values[DRIFT_KEYS[key]] = float(raw)
        except ValueError:
            raise LeadMLError(f"drift '{item}' needs a number after '='") from None
    return Drift(**values) if values else None


def _ordinal_draw(rng: np.random.Generator, score: np.ndarray, n_levels: int) -> np.ndarray:
    """Draw an ordinal answer whose level rises with a latent score (an ordered logit)."""
    cuts = np.linspace(-1.5, 1.5, n_levels - 1)
    noisy = score + rng.logistic(0, 0.6, size=score.shape)
    return np.searchsorted(cuts, noisy)


def _with_placeholders(
    rng: np.random.Generator, codes: np.ndarray, levels: list[str], select: float, empty: float
) -> np.ndarray:
    """Turn codes into answers, with CRM placeholders ("Select") and blanks for unanswered."""
    out = np.asarray(levels, dtype=object)[codes]
    u = rng.random(codes.shape[0])
    out[u < select] = "Select"
    out[(u >= select) & (u < select + empty)] = None
    return out


def day_or_moment(start: str, what: str = "start") -> pd.Timestamp:
    """``--start`` or ``--as-of`` as a naive timestamp (midnight for a plain day); a bad one is
    one line naming the option."""
    try:
        stamp = pd.Timestamp(start)
    except ValueError:
        stamp = pd.NaT
    if pd.isna(stamp):
        raise LeadMLError(f"{what} '{start}' is not a date; give one as YYYY-MM-DD")
    if stamp.tz is not None:  # lead times are naive: a zone could only be compared wrongly
        raise LeadMLError(f"{what} '{start}' has a time zone; give the date as YYYY-MM-DD")
    return stamp


def generate_leads(
    rows: int = 20_000,
    seed: int = 7,
    start: str = ORIGIN,
    months: float = 24,
    drift: Drift | None = None,
    accounts: int | None = None,
    as_of: str | None = None,
    segments: str | None = None,
) -> pd.DataFrame:
    """Make ``rows`` leads over ``months`` months from ``start``, the same table for the same
    arguments; ``drift`` changes only the fields it names (see :class:`Drift`). ``accounts``
    adds a ``company`` column spreading the leads over that many companies at random (for
    ``leadml accounts``; the other columns are unchanged, and leads of one company share
    nothing else: the generator has no buying groups).

    ``as_of`` (a date, or a moment: midnight when only a day is given) gives the export a CRM
    would make then, a live funnel instead of eventual outcomes: only the leads created by
    then, ``converted`` replaced by ``status``, ``converted_at`` and ``closed_at`` (see the
    module's docstring); every other column is the default table's, row for row.

    ``segments`` ("same" or "different", or implied "same" by a drift's ``segment``) adds a
    ``region`` column; "different" gives APAC leads a conversion rule of their own
    (:mod:`leadml.data.synthetic_segments`)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    if months <= 0:
        raise ValueError("months must be positive")
    first_day = day_or_moment(start)
    moment = None if as_of is None else day_or_moment(as_of, "as-of")
    frame = _leads(rows, seed, first_day, months, drift, accounts)
    if drift is not None and drift.segment is not None:
        plain = _leads(rows, seed, first_day, months, None, accounts)
        frame = confine_drift(plain, frame, drift.segment)
        segments = segments or "same"
    if segments is not None:  # before the export: its funnel follows the re-drawn outcomes
        frame = with_segments(frame, seed, segments)
    if as_of is None or moment is None:
        return frame
    return as_of_export(frame, seed, moment, as_of)


def _leads(
    rows: int,
    seed: int,
    first_day: pd.Timestamp,
    months: float,
    drift: Drift | None,
    accounts: int | None,
) -> pd.DataFrame:
    """The eventual-outcome table of :func:`generate_leads`, without segments."""
    rng = np.random.default_rng(seed)
    n = rows

    u = np.sort(rng.random(n))  # position in the window asked for, 0 → 1
    created = first_day + pd.to_timedelta(u * (WINDOW_DAYS * months / 24), unit="D")
    created = created.floor("s")
    # Position on the process's clock (0 → 1 over its 24 months): ``u`` itself by default.
    offset = (first_day - pd.Timestamp(ORIGIN)) / pd.Timedelta(days=WINDOW_DAYS)
    t = offset + u * (months / 24)

    seniority = rng.choice(len(SENIORITY_LEVELS), size=n, p=[0.18, 0.3, 0.24, 0.14, 0.09, 0.05])
    department = rng.choice(len(DEPARTMENTS), size=n, p=[0.25, 0.15, 0.2, 0.1, 0.12, 0.06, 0.12])
    industry_names = np.array(list(INDUSTRIES))
    industry = rng.choice(len(industry_names), size=n)
    employees = np.round(np.exp(rng.normal(5.0, 1.8, size=n))).clip(1, 250_000)
    rev_per_head = np.exp(rng.normal(11.9, 0.6, size=n))
    revenue = np.round(employees * rev_per_head, -3)
    company_age = np.round(rng.gamma(2.0, 7.0, size=n), 1)

    intent = rng.normal(0, 1, size=n)
    size_score = (np.log(employees) - 5.0) / 1.8
    budget_latent = 0.7 * size_score + 0.3 * intent
    if drift is not None and drift.budget_shift:
        budget_latent = budget_latent - BUDGET_STEP * drift.budget_shift
    budget = _ordinal_draw(rng, budget_latent, len(BUDGET_LEVELS))
    role = _ordinal_draw(rng, 0.9 * (seniority - 2.2) / 1.4, len(ROLE_LEVELS))
    need = _ordinal_draw(rng, 0.8 * intent, len(NEED_LEVELS))
    timeline = _ordinal_draw(rng, 0.6 * intent + 0.2 * rng.normal(size=n), len(TIMELINE_LEVELS))

    source_names = np.array(list(SOURCES))
    source_effect = np.array(list(SOURCES.values()))
    source = rng.choice(len(source_names), size=n, p=[0.2, 0.16, 0.08, 0.1, 0.08, 0.2, 0.06, 0.12])
    if drift is not None and drift.new_source > 0:
        # A stream of its own, so the main one (and every other field) is left as it was.
        arrivals = np.random.default_rng([seed, 20_260_101]).random(n) < drift.new_source
        source_names = np.append(source_names, drift.new_source_name)
        source_effect = np.append(source_effect, NEW_SOURCE_EFFECT)
        source = np.where(arrivals, len(source_names) - 1, source)

    activity = np.exp(0.5 * intent + rng.normal(0, 0.4, size=n))
    site_visits = rng.poisson(2.0 * activity)
    pages_viewed = site_visits * rng.poisson(3.0, size=n) + rng.poisson(1.0, size=n)
    time_on_site = np.round(pages_viewed * rng.gamma(2.0, 0.8, size=n), 1)
    email_opens = rng.poisson(3.0 * activity)
    email_clicks = rng.binomial(email_opens, 0.25)
    webinar = rng.random(n) < 0.12 + 0.08 * (intent > 0.5)
    downloads = rng.poisson(0.6 * activity)
    demo = rng.random(n) < 1 / (1 + np.exp(-(-2.2 + 0.9 * intent + 0.3 * (need >= 2))))
    pricing = rng.poisson(0.8 * activity * (1 + demo))
    days_since = np.round(rng.exponential(25.0 / activity)).clip(0, 365)

    # BANT's own rule: a lead strong on at least three of the four criteria is worth far
    # more than the sum of its answers (a threshold on a count: invisible to a linear model).
    strong = (budget >= 2).astype(int) + (role >= 2) + (need >= 2) + (timeline >= 3)
    logit = (
        INTERCEPT
        + 0.4 * BUDGET_EFFECT[budget]
        + 0.4 * ROLE_EFFECT[role]
        + 0.4 * NEED_EFFECT[need]
        + 0.4 * TIMELINE_EFFECT[timeline]
        + 1.9 * (strong >= 3)
        + 0.3 * demo
        + 1.6 * demo * (role >= 2)
        + 0.55 * np.log1p(pricing)
        + 0.5 * np.tanh((pages_viewed - 8) / 6)
        - 2.2 / (1 + np.exp(-(days_since - 30) / 5))
        + np.array(list(INDUSTRIES.values()))[industry]
        + 0.7 * ((employees >= 50) & (employees <= 2000))
        - 0.5 * (employees > 20_000)
        + source_effect[source]
        - 1.0 * ((budget >= 3) & (employees < 20))
        + 0.9 * np.clip(1 - t, 0.0, 1.0) * webinar  # worth nothing once faded
        + 0.35 * t
    )
    converted = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)

    first, last, email, phone = contact_details(rng, n)
    titles = job_titles(SENIORITY_LEVELS, DEPARTMENTS)[seniority, department]

    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:07d}" for i in range(1, n + 1)],
            "created_at": created.strftime(STAMP),
            "full_name": np.char.add(np.char.add(first, " "), last),
            "email": email,
            "phone": phone,
            "job_title": titles,
            "seniority": np.asarray(SENIORITY_LEVELS, dtype=object)[seniority],
            "department": np.asarray(DEPARTMENTS, dtype=object)[department],
            "country": rng.choice(COUNTRIES, size=n, p=COUNTRY_P).astype(object),
            "industry": industry_names[industry].astype(object),
            "employees": employees,
            "annual_revenue": revenue,
            "company_age_years": company_age,
            "budget_range": _with_placeholders(rng, budget, BUDGET_LEVELS, 0.12, 0.05),
            "decision_role": _with_placeholders(rng, role, ROLE_LEVELS, 0.10, 0.04),
            "stated_need": _with_placeholders(rng, need, NEED_LEVELS, 0.08, 0.04),
            "purchase_timeline": _with_placeholders(rng, timeline, TIMELINE_LEVELS, 0.10, 0.05),
            "site_visits": site_visits,
            "pages_viewed": pages_viewed,
            "time_on_site_min": time_on_site,
            "email_opens": email_opens,
            "email_clicks": email_clicks,
            "webinar_attended": np.where(webinar, "Yes", "No").astype(object),
            "content_downloads": downloads,
            "demo_requested": np.where(demo, "Yes", "No").astype(object),
            "pricing_page_views": pricing,
            "days_since_last_activity": days_since,
            "lead_source": source_names[source].astype(object),
            "converted": converted,
        }
    )
    # Realistic gaps: CRMs lose what enrichment did not find or forms did not ask.
    holes = {
        "annual_revenue": 0.25,
        "employees": 0.06,
        "company_age_years": 0.15,
        "country": 0.03,
        "job_title": 0.05,
        "time_on_site_min": 0.05,
        "industry": 0.04,
    }
    for column, share in holes.items():
        frame[column] = frame[column].mask(rng.random(n) < share)
    if accounts:
        own = np.random.default_rng([seed, accounts])  # apart, so no other column changes
        frame.insert(5, "company", [f"Company {k:05d}" for k in own.integers(1, accounts + 1, n)])
    return frame


def eventual_outcomes(
    rows: int = 20_000,
    seed: int = 7,
    start: str = ORIGIN,
    months: float = 24,
    drift: Drift | None = None,
    accounts: int | None = None,
    as_of: str | None = None,
    segments: str | None = None,
) -> pd.DataFrame:
    """What the leads of ``generate_leads`` (same arguments) really did, even after ``as_of``:
    the truth an as-of export cannot know, to judge a model trained on it (did a lead still
    open at ``as_of`` convert within 60 days after all?).

    One row per lead of the as-of table (all leads when ``as_of`` is None), in its order:
    ``lead_id``, ``created_at``, ``converted`` (the eventual 0/1, the default table's),
    ``converted_at`` (when it converts, written like ``created_at``; missing for
    non-converters) and ``days_to_convert`` (float days from creation; NaN for non-converters).
    """
    moment = None if as_of is None else day_or_moment(as_of, "as-of")
    frame = generate_leads(rows, seed, start, months, drift, accounts, segments=segments)
    return eventual_fates(frame, seed, moment, as_of)


def write_leads(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write as CSV or Parquet, by the file's suffix."""
    return write_table(frame, out)
