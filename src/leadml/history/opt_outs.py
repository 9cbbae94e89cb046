"""Objections to profiling: the leads of a tenant that are never scored again, and the erasure
of what the history kept of them.

GDPR Art. 21(2) gives a person an absolute right to object to profiling for direct marketing.
An objection arrives from the CRM (``POST /v1/opt-outs``, ``leadml opt-outs import``) and is
kept per tenant, as scores are: the same lead id in two CRMs is two people. Recording one
erases the lead's stored scores and outcomes by :mod:`leadml.history.erase`'s rule (the one
``leadml history erase`` follows), and from then on every scoring request asks
:func:`objected` which of its leads objected (a server keeps a copy of the table in memory,
caught up by :func:`objections_since`; a tenant with too many objections for it is asked per
batch).

CRMs resend their whole opt-out list on every sync: an objection already recorded is counted,
never stored twice, and its first time is kept. Nothing here withdraws an objection: it is
the person's to withdraw, and a lead that gave consent again is a new fact for the CRM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from leadml.errors import LeadMLError
from leadml.history import erase as erasure
from leadml.history import tables
from leadml.history.engine import error_line, make_engine, redact, sqlite_file
from leadml.history.outcomes import ATTEMPTS, CHUNK_IDS, as_utc
from leadml.history.tables import lead_opt_outs, lead_outcomes, lead_scores

if TYPE_CHECKING:
    from leadml.history.store import ScoreHistory

#: Longest a post waits for queued scores to reach the table, where they are erased.
CATCH_UP_S = 2.0
#: The reason every answer that is not a score gives.
REASON = "the lead objected to profiling (GDPR Art. 21): not scored"


@dataclass(frozen=True)
class OptOut:
    """One lead's objection, and when it was made (None: the CRM did not say)."""

    lead_id: str
    at: datetime | None = None


@dataclass(frozen=True)
class OptOutResult:
    """What a batch did: objections newly recorded, ones already recorded (sent again), and
    the stored scores and outcomes of those leads erased."""

    recorded: int
    already: int
    scores_erased: int = 0
    outcomes_erased: int = 0


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK_IDS):
        yield ids[start : start + CHUNK_IDS]


def objected(engine: sa.Engine, tenant: str, lead_ids: Sequence[str]) -> set[str]:
    """Which of ``lead_ids`` objected to profiling in the tenant's history: one query (per
    5,000 ids) on the ``(tenant, lead_id)`` key. Raises ``SQLAlchemyError`` when the database
    cannot be read."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        return set()
    c = lead_opt_outs.c
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in _chunks(wanted):
            query = sa.select(c.lead_id).where(c.tenant == tenant, c.lead_id.in_(chunk))
            found.update(conn.scalars(query))
    return found


def objections_since(
    engine: sa.Engine, tenant: str, after: int, limit: int
) -> tuple[list[tuple[int, str]], int]:
    """The tenant's objections stored under a row id above ``after`` (at most ``limit``, by
    id), then how many the tenant has in all: what a server's in-memory copy of the table
    reads to catch up. The rows are read before the count, so when the copy plus these rows
    holds as many leads as the count, it holds every one (objections are never deleted).
    Raises ``SQLAlchemyError`` when the database cannot be read."""
    c = lead_opt_outs.c
    rows = sa.select(c.id, c.lead_id).where(c.tenant == tenant, c.id > after)
    count = sa.select(sa.func.count()).select_from(lead_opt_outs).where(c.tenant == tenant)
    with engine.connect() as conn:
        found = [(int(i), str(lead)) for i, lead in conn.execute(rows.order_by(c.id).limit(limit))]
        return found, int(conn.scalar(count) or 0)


def held(engine: sa.Engine, tenant: str, lead_ids: Sequence[str]) -> list[str]:
    """Which of ``lead_ids`` the tenant's history still holds a score or an outcome of (what
    an objection must erase), in the order given."""
    s, o = lead_scores.c, lead_outcomes.c
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in _chunks(list(lead_ids)):
            scores = sa.select(s.lead_id).where(s.tenant == tenant, s.lead_id.in_(chunk))
            found.update(conn.scalars(scores.distinct()))
            outcomes = sa.select(o.lead_id).where(o.tenant == tenant, o.lead_id.in_(chunk))
            found.update(conn.scalars(outcomes))
    return [i for i in lead_ids if i in found]


def record_opt_outs(
    engine: sa.Engine, tenant: str, opt_outs: Iterable[OptOut], *, upgrade: bool = True
) -> tuple[list[str], int]:
    """Store the tenant's new objections in one transaction; (the lead ids newly recorded, in
    the order sent; how many were recorded already). A lead id sent twice counts once, its
    first time kept.

    ``upgrade``: bring the database to the newest revision first (a server's history was
    upgraded as it started). Raises ``SQLAlchemyError`` when the database cannot be written.
    """
    first: dict[str, datetime | None] = {}
    for opt_out in opt_outs:
        if opt_out.lead_id not in first:
            first[opt_out.lead_id] = None if opt_out.at is None else as_utc(opt_out.at)
    if not first:
        return [], 0
    if upgrade:
        tables.upgrade(engine)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite":  # read what the insert then relies on
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                return _record(conn, tenant, first)
        except IntegrityError:  # another writer recorded one of the same leads meanwhile
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _record(
    conn: sa.Connection, tenant: str, first: dict[str, datetime | None]
) -> tuple[list[str], int]:
    c = lead_opt_outs.c
    known: set[str] = set()
    for chunk in _chunks(list(first)):
        query = sa.select(c.lead_id).where(c.tenant == tenant, c.lead_id.in_(chunk))
        known.update(conn.scalars(query))
    now = datetime.now(UTC)
    new = [i for i in first if i not in known]
    rows: list[dict[str, Any]] = [
        {"tenant": tenant, "lead_id": i, "objected_at": first[i], "recorded_at": now} for i in new
    ]
    if rows:
        conn.execute(lead_opt_outs.insert(), rows)
    return new, len(first) - len(new)


def record_posted_opt_outs(
    history: ScoreHistory, tenant: str, opt_outs: list[OptOut]
) -> OptOutResult:
    """``POST /v1/opt-outs``, on the writer's thread: the objections recorded first (from then
    on no request scores those leads), then the history's scores and outcomes of them erased,
    queued ones too (``ScoreHistory.erase``).

    Only leads the table still holds something of are erased one by one (a CRM's resent list
    costs one query); when queued scores could not reach the table in time, every newly
    recorded lead is, so none is written back after its objection. Raises
    ``SQLAlchemyError`` or ``HistoryUnavailable`` when the database cannot be written.
    """
    flushed = history.healthy and history.flush(CATCH_UP_S)
    new, already = record_opt_outs(history.engine, tenant, opt_outs, upgrade=not history.healthy)
    posted = list(dict.fromkeys(o.lead_id for o in opt_outs))
    erase = held(history.engine, tenant, posted) if flushed else posted
    scores = outcomes = 0
    for lead_id in erase:
        done = history.erase(tenant, lead_id)
        scores, outcomes = scores + done.scores, outcomes + done.outcomes
    return OptOutResult(len(new), already, scores, outcomes)


def record_opt_outs_at(url: str, tenant: str, opt_outs: Iterable[OptOut]) -> OptOutResult:
    """``leadml opt-outs import``: the objections recorded in the history at ``url`` and what
    it kept of those leads erased. Only an existing history: a mistyped SQLite path is an
    error, never a new empty file."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise LeadMLError(f"no score history at {path}: objections are kept beside the scores")
    opt_outs = list(opt_outs)
    engine = make_engine(url)
    try:
        new, already = record_opt_outs(engine, tenant, opt_outs)
        scores = outcomes = 0
        for lead_id in held(engine, tenant, list(dict.fromkeys(o.lead_id for o in opt_outs))):
            done = erasure.erase(engine, tenant, lead_id)
            scores, outcomes = scores + done.scores, outcomes + done.outcomes
        return OptOutResult(len(new), already, scores, outcomes)
    except sa.exc.SQLAlchemyError as exc:
        raise LeadMLError(
            f"score history {redact(url)} cannot take the objections: {error_line(exc, url)}"
        ) from None
    finally:
        engine.dispose()
