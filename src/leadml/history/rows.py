"""One score as the history writes it and as it reads it back.

Writing: a ``ScoreRecord`` per scored lead, and the trend between a score and the lead's
previous one. Reading: the queries of every read, always one tenant's, and ``served_row``,
which turns a stored row into JSON-safe values. Times and feature values are read as stored
and converted row by row, so one odd value (text where a time should be, JSON that does not
parse, a lone surrogate) costs its row or its characters, never the whole answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from leadml.history.tables import lead_scores

#: A score change of at least this many points (0–100) is a trend; less is "steady".
TREND_POINTS = 2


@dataclass(frozen=True)
class ScoreRecord:
    """One score as stored; ``features`` holds only values the model read (see above)."""

    tenant: str
    lead_id: str
    model_version: str
    probability: float
    score: int
    grade: str
    scored_at: datetime
    features: dict[str, Any] | None = None
    #: A challenger's background score (``leadml serve --shadow``), never served.
    shadow: bool = False
    #: Points of the 0–100 score per criterion, plus ``other`` (``changes.kept_criteria``):
    #: numbers only, so a history can say what moved a score. None: scored unexplained.
    criteria: dict[str, float] | None = None
    #: The same pushes in log-odds, which a change between two scores is split by.
    criteria_log_odds: dict[str, float] | None = None
    #: ``global`` or ``segment:<value>`` for a model with segment specialists, else None.
    scored_by: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "lead_id": self.lead_id,
            "model_version": self.model_version,
            "probability": self.probability,
            "score": self.score,
            "grade": self.grade,
            "scored_at": self.scored_at,
            "features": self.features,
            "shadow": self.shadow,
            "criteria": self.criteria,
            "criteria_log_odds": self.criteria_log_odds,
            "scored_by": self.scored_by,
        }


def trend(score: int, previous: int | None) -> str | None:
    """improving / steady / declining against the lead's previous score (None: first score)."""
    if previous is None:
        return None
    if score - previous >= TREND_POINTS:
        return "improving"
    if previous - score >= TREND_POINTS:
        return "declining"
    return "steady"


#: What reads select: times, feature values and criterion points as stored, converted by
#: ``served_row``.
READ_COLUMNS = (
    lead_scores.c.id,
    lead_scores.c.lead_id,
    lead_scores.c.model_version,
    lead_scores.c.probability,
    lead_scores.c.score,
    lead_scores.c.grade,
    sa.type_coerce(lead_scores.c.scored_at, sa.String).label("scored_at"),
    sa.cast(lead_scores.c.features, sa.Text).label("features"),
    sa.cast(lead_scores.c.criteria, sa.Text).label("criteria"),
    sa.cast(lead_scores.c.criteria_log_odds, sa.Text).label("criteria_log_odds"),
    lead_scores.c.scored_by,
)


def valid_text(value: Any) -> str:
    """Text that encodes as UTF-8 (hence as JSON): lone surrogates and bad bytes become U+FFFD."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    text = value if isinstance(value, str) else str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16: a surrogate pair becomes its character, a lone one U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {valid_text(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return valid_text(value)


def _decoded(stored: Any) -> Any:
    """A stored JSON value as Python (None when it does not parse): drivers hand JSON columns
    back as text or as values."""
    if isinstance(stored, str | bytes):
        try:
            return json.loads(stored)
        except (ValueError, RecursionError):
            return None
    return stored


def _features(stored: Any) -> dict[str, Any] | None:
    stored = _decoded(stored)
    return _json_safe(stored) if isinstance(stored, dict) else None


def _points(stored: Any) -> dict[str, float] | None:
    """Stored criterion pushes, or None unless every entry is a finite number: a partial set
    would no longer add up to the score, and a change read from it would mislead."""
    stored = _decoded(stored)
    if not isinstance(stored, dict):
        return None
    points: dict[str, float] = {}
    for name, value in stored.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not math.isfinite(value):
            return None
        points[valid_text(name)] = float(value)
    return points


def _stamp(stored: Any) -> datetime:
    stamp = stored if isinstance(stored, datetime) else datetime.fromisoformat(valid_text(stored))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)  # SQLite keeps no zone: UTC


def served_row(raw: sa.Row) -> dict[str, Any] | None:
    """A stored row as JSON-safe values, or None when its numbers or time cannot be read."""
    try:
        probability = float(raw.probability)
        score = int(raw.score)
        scored_at = _stamp(raw.scored_at)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(probability):
        return None
    return {
        # The row's own number: where the next page of a listing starts (never shown).
        "id": raw.id,
        "lead_id": valid_text(raw.lead_id),
        "model_version": valid_text(raw.model_version),
        "probability": probability,
        "score": score,
        "grade": valid_text(raw.grade),
        "scored_at": scored_at,
        "features": _features(raw.features),
        "criteria": _points(raw.criteria),
        "criteria_log_odds": _points(raw.criteria_log_odds),
        "scored_by": None if raw.scored_by is None else valid_text(raw.scored_by),
    }


def latest_query(tenant: str, lead_ids: Sequence[str]) -> sa.Select:
    """Each of these leads' newest (lead_id, score) in the tenant's history."""
    c = lead_scores.c
    newest = (
        sa.select(c.lead_id, sa.func.max(c.id).label("id"))
        .where(c.tenant == tenant, c.lead_id.in_(lead_ids), c.shadow == sa.false())
        .group_by(c.lead_id)
        .subquery()
    )
    return sa.select(c.lead_id, c.score).join(newest, c.id == newest.c.id)


def recent_query(tenant: str, limit: int, before: int | None = None) -> sa.Select:
    """A page of the tenant's leads, newest first: each lead's newest row, ``limit`` at most,
    after the row ``before`` (the last one of the page before; None: from the newest).

    Walked back on the ``(tenant, scored_at, id)`` index, a row kept only when no
    later row of its lead exists (one look-up on ``(tenant, lead_id)``), so a page costs its
    own rows, not the tenant's history (436,000 rows grouped per call before: issue 27). A
    lead scored again between two pages moves to the top and is not listed twice; a cursor
    of another tenant's row (or a purged one) gives an empty page.
    """
    c = lead_scores.c
    later = lead_scores.alias("later")
    newer = (
        sa.select(later.c.id)
        .where(
            later.c.tenant == c.tenant,
            later.c.lead_id == c.lead_id,
            later.c.shadow == sa.false(),
            later.c.id > c.id,
        )
        .exists()
    )
    where = [c.tenant == tenant, c.shadow == sa.false(), ~newer]
    if before is not None:
        row = lead_scores.alias("anchor")
        at = sa.select(row.c.scored_at).where(row.c.id == before, row.c.tenant == tenant)
        at = at.scalar_subquery()
        # The range on the index, then the rows of the anchor's own instant after it.
        where += [c.scored_at <= at, sa.or_(c.scored_at < at, c.id < before)]
    return (
        sa.select(*READ_COLUMNS)
        .where(*where)
        .order_by(c.scored_at.desc(), c.id.desc())
        .limit(limit)
    )


def lead_query(tenant: str, lead_id: str, limit: int) -> sa.Select:
    """One of the tenant's leads, newest row first."""
    c = lead_scores.c
    return (
        sa.select(*READ_COLUMNS)
        .where(c.tenant == tenant, c.lead_id == lead_id, c.shadow == sa.false())
        .order_by(c.id.desc())
        .limit(limit)
    )
