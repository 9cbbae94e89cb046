"""What the monitor reads: each lead's latest score in a window of time, its outcome beside it.

Whether a model still ranks leads well is judged per lead, not per score: a lead scored ten
times during a sales cycle is one lead that converted or not, and its latest score is the one a
rep acted on last. So each read keeps one row per (tenant, lead), picked in SQL (the newest
row, as every history read does), and the rest is pandas. Served scores and a challenger's
background scores (``shadow``) are read apart, and ``shadow_pairs`` puts the two scores of the
same lead side by side. Stored values are read as ``rows.served_row`` reads them (a row whose
numbers or time cannot be read is skipped, never the whole read), a column at a time: a
monitor reads a hundred thousand leads, not a page of fifty.

The service reads a bounded sample instead (``newest_leads``): a tenant's newest leads of the
window, picked in SQL from the newest scores on the ``(tenant, scored_at, id)`` index,
so a monitor call costs the same on 436,000 rows as on 20,000 (28–41 s before, issue 27).
``window_scores`` counts the window's scores on the same index, up to a cap, which is how the
service knows whether a window holds more than the sample (then any such window gives the
same answer, and one cached answer serves them all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from leadml.history import tables
from leadml.history.outcomes import as_utc
from leadml.history.rows import _features as lenient_features
from leadml.history.rows import valid_text
from leadml.history.tables import lead_outcomes, lead_scores

log = logging.getLogger("leadml.history")

#: ``scored_leads``: one row per (tenant, lead).
LEAD_COLUMNS = [
    "tenant",
    "lead_id",
    "model_version",
    "probability",
    "score",
    "grade",
    "scored_at",
    "features",
    "converted",
    "outcome_at",
]
#: ``shadow_pairs``: the served and the shadow score of one lead.
PAIR_COLUMNS = [
    "lead_id",
    "tenant",
    "served_version",
    "served_probability",
    "served_score",
    "served_grade",
    "shadow_version",
    "shadow_probability",
    "shadow_score",
    "shadow_grade",
    "converted",
]
_SCORE_FIELDS = ("model_version", "probability", "score", "grade")
#: Lead ids per ``IN (...)`` list when pairing a sample with its shadow scores.
PAIR_IDS = 5000


def scored_leads(
    engine: sa.Engine,
    tenant: str | None,
    since: datetime | None,
    *,
    shadow: bool = False,
) -> pd.DataFrame:
    """Each lead's latest score of one kind (served, or shadow) made at or after ``since``.

    ``tenant`` None reads every tenant, ``since`` None the whole history. Columns are
    ``LEAD_COLUMNS``: ``scored_at`` and ``outcome_at`` in UTC, ``features`` a dict or None,
    ``converted`` a nullable boolean (<NA>: no outcome yet).
    """
    return _read(engine, latest_query(tenant, since, shadow=shadow, features=True))


def shadow_pairs(engine: sa.Engine, tenant: str | None, since: datetime | None) -> pd.DataFrame:
    """Leads with both a served and a shadow score in the window: the latest of each, side by
    side (``PAIR_COLUMNS``), with the lead's outcome."""
    served = _read(engine, latest_query(tenant, since, shadow=False, features=False))
    shadow = _read(engine, latest_query(tenant, since, shadow=True, features=False))
    return _pairs(served, shadow)


def _pairs(served: pd.DataFrame, shadow: pd.DataFrame) -> pd.DataFrame:
    """Served and shadow rows (``LEAD_COLUMNS``) of the same leads side by side."""
    served = served.rename(columns={f: f"served_{f}" for f in _SCORE_FIELDS})
    shadow = shadow.rename(columns={f: f"shadow_{f}" for f in _SCORE_FIELDS})
    pairs = served.merge(
        shadow.drop(columns=["scored_at", "features", "converted", "outcome_at"]),
        on=["tenant", "lead_id"],
        how="inner",
    )
    pairs = pairs.rename(
        columns={"served_model_version": "served_version", "shadow_model_version": "shadow_version"}
    )
    return pairs[PAIR_COLUMNS].reset_index(drop=True)


def newest_leads(
    engine: sa.Engine, tenant: str, since: datetime | None, leads: int, *, scan: int
) -> pd.DataFrame:
    """The tenant's ``leads`` most recently scored leads of the window, each at its latest
    served score (``LEAD_COLUMNS``), found among the window's newest ``scan`` scores.

    Bounded whatever the history holds: the newest ``scan`` scores are walked back on the
    ``(tenant, scored_at, id)`` index, and each lead's latest score is among them (it
    is newer than any other of its scores). ``scan`` above ``leads`` leaves room for leads
    scored several times. The history is not upgraded here (the service's was at start).
    """
    s = lead_scores.c
    scores = (
        sa.select(s.id, s.lead_id)
        .where(*_window(tenant, since, shadow=False))
        .order_by(s.scored_at.desc(), s.id.desc())
        .limit(scan)
        .subquery()
    )
    newest = sa.func.max(scores.c.id)
    picked = (
        sa.select(newest.label("id"))
        .group_by(scores.c.lead_id)
        .order_by(newest.desc())
        .limit(leads)
        .subquery()
    )
    return _read(engine, _rows_of(picked, features=True), upgrade=False)


def window_scores(engine: sa.Engine, tenant: str, since: datetime | None, cap: int) -> int:
    """How many served scores the tenant has in the window, counted up to ``cap`` (an index
    range of at most ``cap`` entries: a few milliseconds however large the window)."""
    s = lead_scores.c
    capped = sa.select(s.id).where(*_window(tenant, since, shadow=False)).limit(cap).subquery()
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one())


def sample_pairs(
    engine: sa.Engine, tenant: str, since: datetime | None, served: pd.DataFrame
) -> pd.DataFrame:
    """``shadow_pairs`` for the leads of ``served`` (a ``newest_leads`` sample): each one's
    latest shadow score in the window beside its served one, read by lead id in chunks."""
    s = lead_scores.c
    ids = served["lead_id"].tolist()
    parts = []
    for start in range(0, len(ids), PAIR_IDS):
        chunk = ids[start : start + PAIR_IDS]
        newest = (
            sa.select(sa.func.max(s.id).label("id"))
            .where(*_window(tenant, since, shadow=True), s.lead_id.in_(chunk))
            .group_by(s.lead_id)
            .subquery()
        )
        parts.append(_read(engine, _rows_of(newest, features=False), upgrade=False))
    shadow = pd.concat(parts, ignore_index=True) if parts else lead_frame([])
    return _pairs(served, shadow)


def _window(tenant: str | None, since: datetime | None, *, shadow: bool) -> list[Any]:
    s = lead_scores.c
    where = [s.shadow == (sa.true() if shadow else sa.false())]
    if tenant is not None:
        where.append(s.tenant == tenant)
    if since is not None:
        # SQLite keeps times as UTC text without a zone: compare in UTC, as they were written.
        where.append(s.scored_at >= as_utc(since))
    return where


def latest_query(
    tenant: str | None, since: datetime | None, *, shadow: bool, features: bool
) -> sa.Select:
    """The newest score of each (tenant, lead) of one kind in the window, with its outcome.

    Times are selected as stored and read by ``lead_frame`` (as ``rows.READ_COLUMNS`` are
    read), so one odd value costs its row; without ``features`` none are selected (comparing
    two scores needs none).
    """
    s = lead_scores.c
    newest = (
        sa.select(sa.func.max(s.id).label("id"))
        .where(*_window(tenant, since, shadow=shadow))
        .group_by(s.tenant, s.lead_id)
        .subquery()
    )
    return _rows_of(newest, features=features)


def _rows_of(newest: sa.Subquery, *, features: bool) -> sa.Select:
    """The rows whose ids ``newest`` selects (its column ``id``), in ``LEAD_COLUMNS``, with
    each lead's outcome; oldest first."""
    s, o = lead_scores.c, lead_outcomes.c
    stored_features = sa.cast(s.features, sa.Text) if features else sa.null()
    return (
        sa.select(
            s.tenant,
            s.lead_id,
            s.model_version,
            s.probability,
            s.score,
            s.grade,
            sa.type_coerce(s.scored_at, sa.String).label("scored_at"),
            stored_features.label("features"),
            o.converted,
            sa.type_coerce(o.outcome_at, sa.String).label("outcome_at"),
        )
        .select_from(
            lead_scores.join(newest, s.id == newest.c.id).outerjoin(
                lead_outcomes, sa.and_(o.tenant == s.tenant, o.lead_id == s.lead_id)
            )
        )
        .order_by(s.id)
    )


def _read(engine: sa.Engine, query: sa.Select, *, upgrade: bool = True) -> pd.DataFrame:
    """Run ``query`` into ``LEAD_COLUMNS``, on a history brought to the newest revision first
    (the CLI's; ``upgrade`` False: the service's, upgraded as it started)."""
    if upgrade:
        tables.upgrade(engine)
    with engine.connect() as conn:
        raw = conn.execute(query).all()
    return lead_frame(raw)


def lead_frame(raw: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Stored rows (in ``LEAD_COLUMNS`` order) as a frame; rows whose numbers or time cannot
    be read are skipped and counted, as ``rows.served_row`` skips them, but column by column."""
    columns = dict(zip(LEAD_COLUMNS, zip(*raw, strict=True), strict=True)) if raw else {}
    stored = {name: np.asarray(columns.get(name, ()), dtype=object) for name in LEAD_COLUMNS}
    probability = _numbers(stored["probability"])
    score = _numbers(stored["score"])
    scored_at = _utc_times(stored["scored_at"])
    readable = (
        np.isfinite(probability) & np.isfinite(score) & (np.abs(score) < 2**53) & scored_at.notna()
    ).to_numpy(dtype=bool)
    skipped = len(raw) - int(readable.sum())
    if skipped:
        log.warning("score history: %d stored rows could not be read and were skipped", skipped)
    kept = {name: values[readable] for name, values in stored.items()}
    converted = [None if c is None else bool(c) for c in kept["converted"]]
    return pd.DataFrame(
        {
            "tenant": _texts(kept["tenant"]),
            "lead_id": _texts(kept["lead_id"]),
            "model_version": _texts(kept["model_version"]),
            "probability": probability[readable].to_numpy(dtype="float64"),
            "score": score[readable].to_numpy(dtype="float64").astype("int64"),
            "grade": _texts(kept["grade"]),
            "scored_at": scored_at[readable].reset_index(drop=True),
            "features": pd.Series([_features(f) for f in kept["features"]], dtype=object),
            "converted": pd.Series(converted, dtype="boolean"),
            "outcome_at": _utc_times(kept["outcome_at"]),
        }
    )


def _numbers(values: np.ndarray) -> pd.Series:
    """Stored numbers as floats; what is no number (text a hand edit left) becomes NaN."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")


def _texts(values: np.ndarray) -> pd.Series:
    """Stored text made valid (``rows.valid_text``) before pandas, which would refuse a lone
    surrogate; the plain ASCII that nearly every value is costs one check."""
    return pd.Series(
        [v if type(v) is str and v.isascii() else valid_text(v) for v in values], dtype="str"
    )


def _features(stored: Any) -> dict[str, Any] | None:
    """The values the model read: orjson for the JSON nearly every row holds (it refuses
    what is not strict, valid JSON), and the history's lenient reading for the rest."""
    if isinstance(stored, str):
        try:
            parsed = orjson.loads(stored)
        except orjson.JSONDecodeError:
            return lenient_features(stored)
        return parsed if isinstance(parsed, dict) else None
    return lenient_features(stored)


def _utc_times(values: np.ndarray) -> pd.Series:
    """Stored times in UTC, one dtype whatever they hold (microseconds, as stored): SQLite
    gives text without a zone (UTC), PostgreSQL times; NaT for none and for what is no time."""
    times = pd.Series([v if isinstance(v, str | datetime) else None for v in values], dtype=object)
    parsed = pd.to_datetime(times, utc=True, errors="coerce", format="ISO8601")
    return parsed.astype("datetime64[us, UTC]")
