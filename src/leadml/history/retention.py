"""Retention: scores older than the history keeps are deleted, at start, daily, or on demand.

A score history holds what leads looked like and how they scored; kept forever it becomes a
record nobody decided to keep. The service purges rows older than ``history_days`` at start and
then once a day; ``leadml history purge --before DATE`` does it by hand. Rows go in chunks of
ids, so neither SQLite's single writer nor a PostgreSQL table is held for one long delete while
scores keep arriving. An outcome is kept as long as its lead has a score: once a purge took
the lead's last one, its outcome goes too (it judged a score that no longer exists).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from leadml.errors import LeadMLError
from leadml.history.engine import make_engine, redact, sqlite_file
from leadml.history.tables import OUTCOMES, TABLE, lead_outcomes, lead_scores

log = logging.getLogger("leadml.history")

#: Rows deleted per statement (and transaction).
CHUNK_ROWS = 10_000


def cutoff(days: int, now: datetime | None = None) -> datetime:
    """The oldest time a history of ``days`` days keeps (UTC)."""
    return (now or datetime.now(UTC)) - timedelta(days=days)


def parse_before(text: str) -> datetime:
    """``--before``: a date (midnight UTC) or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        stamp = datetime.fromisoformat(text.strip())  # a bare date is its midnight
    except ValueError:
        raise LeadMLError(
            f"--before {text!r} is not a date: give YYYY-MM-DD (midnight UTC) or an ISO 8601 time"
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def purge(
    engine: sa.Engine,
    before: datetime,
    *,
    chunk: int | None = None,
    pause_s: float = 0.0,
    stop: threading.Event | None = None,
) -> int:
    """Delete every score made before ``before``, then the outcomes of leads left without a
    score; how many scores were deleted.

    ``chunk`` rows go per transaction, with ``pause_s`` after each: the service purges while
    its writer inserts, and on SQLite the two take the one write lock in turn. ``stop`` ends
    the purge between chunks (the next one carries on).

    Raises ``LeadMLError`` when the database holds no score history, and ``SQLAlchemyError``
    when it cannot be reached.
    """
    chunk = chunk or CHUNK_ROWS
    # SQLite keeps times as UTC text without a zone: compare in UTC, as they were written.
    before = before.astimezone(UTC) if before.tzinfo else before.replace(tzinfo=UTC)
    has_outcomes = history_tables(engine)
    oldest = sa.select(lead_scores.c.id).where(lead_scores.c.scored_at < before).limit(chunk)
    deleted = delete_in_chunks(engine, lead_scores, oldest, chunk, pause_s, stop)
    if has_outcomes and not (stop and stop.is_set()):
        # Every time, not only after deleting scores: a purge stopped between the two steps
        # leaves orphans that the next one must still find.
        orphans = delete_in_chunks(
            engine, lead_outcomes, orphan_outcomes(chunk), chunk, pause_s, stop
        )
        if orphans:
            log.info("score history: %d outcomes of leads with no score left deleted", orphans)
    return deleted


def orphan_outcomes(chunk: int | None = None) -> sa.Select:
    """Ids of outcomes whose lead has no served score left in its tenant's history."""
    s, o = lead_scores.c, lead_outcomes.c
    scored = sa.select(s.id).where(
        s.tenant == o.tenant, s.lead_id == o.lead_id, s.shadow == sa.false()
    )
    return sa.select(o.id).where(~scored.exists()).limit(chunk or CHUNK_ROWS)


def history_tables(engine: sa.Engine) -> bool:
    """Whether the history has its outcomes table (not before revision 3); ``LeadMLError``
    when the database holds no score history at all."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        if not inspector.has_table(TABLE):
            raise LeadMLError(f"no score history here (no table {TABLE})")
        return inspector.has_table(OUTCOMES)


@contextmanager
def existing_history(url: str, failing: str) -> Iterator[sa.Engine]:
    """An engine on the history at ``url``, for a verb that deletes from it: only an existing
    history (a mistyped SQLite path is an error, never a new empty file), a database error
    becomes one line saying the history ``failing`` ("cannot be purged"), password hidden."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise LeadMLError(f"no score history at {path}")
    engine = make_engine(url)
    try:
        yield engine
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LeadMLError(
            f"score history {redact(url)} {failing}: {first.replace(url, redact(url))}"
        ) from None
    finally:
        engine.dispose()


def delete_in_chunks(
    engine: sa.Engine,
    table: sa.Table,
    ids: sa.Select,
    chunk: int,
    pause_s: float,
    stop: threading.Event | None,
) -> int:
    """Delete the rows ``ids`` selects (at most ``chunk`` at a time) until none is left."""
    deleted = 0
    while True:
        with engine.begin() as conn:
            count = conn.execute(table.delete().where(table.c.id.in_(ids))).rowcount
        deleted += count
        if count < chunk:
            return deleted
        if stop is not None and stop.wait(pause_s):
            return deleted
        if stop is None and pause_s:
            time.sleep(pause_s)


def purge_history(url: str, before: datetime) -> int:
    """``leadml history purge``: delete the scores made before ``before`` in the history at
    ``url``; how many. Only an existing history: a mistyped SQLite path is an error, never a
    new empty file."""
    with existing_history(url, "cannot be purged") as engine:
        return purge(engine, before)
