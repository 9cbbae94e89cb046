"""Outcomes: what became of each scored lead, as the CRM reports it, kept beside its scores.

A model's real accuracy is measured on the leads it scored after deployment, so the CRM sends
back whether each one converted (``POST /v1/outcomes``, ``leadml outcomes import``). Only leads
the history scored for that tenant are kept: an outcome for a lead id without a served score (a
typo, another CRM's lead, a lead scored before the history existed) is reported back and never
stored, so no outcome outlives, or predates, the score it judges. CRMs resend everything on
every sync: the same outcome again changes nothing and is not counted; a changed one (a lost
deal reopened and won) replaces the old one and is.

A batch is written in transactions of ``WRITE_LEADS`` leads: on SQLite a transaction holds the
database's one write lock, and one 10,000-outcome transaction held it 1.2 s, so eight posters
locked the score writer out for 15 s (issue 27). Between two transactions the caller may let
the score writer in (``between``: the service flushes its history queue there). A batch that
fails midway keeps the chunks written before; sending it again is safe, as every resend is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from leadml.errors import LeadMLError
from leadml.history import tables
from leadml.history.engine import error_line, make_engine, redact, sqlite_file
from leadml.history.tables import lead_outcomes, lead_scores

#: Lead ids per ``IN (...)`` list: well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK_IDS = 5000
#: Leads per transaction: about 15 ms of SQLite's write lock on a 2-core machine (see above).
WRITE_LEADS = 500
#: Tries when another writer inserted one of the same new leads meanwhile (the unique key
#: refuses the second insert; the next try sees that row and compares with it).
ATTEMPTS = 3
#: A stored time that cannot be read: equal to nothing, so the outcome sent replaces it.
_UNREADABLE = object()


@dataclass(frozen=True)
class Outcome:
    """One lead's outcome: converted or not, and when (None: the CRM did not say)."""

    lead_id: str
    converted: bool
    at: datetime | None = None


@dataclass(frozen=True)
class OutcomeResult:
    """What a batch changed: outcomes stored or updated, and lead ids with no score (not
    stored), each once, in the order sent; ``unchanged``: known outcomes sent again."""

    recorded: int
    unknown_leads: list[str] = field(default_factory=list)
    unchanged: int = 0


def as_utc(stamp: datetime) -> datetime:
    """The same instant in UTC; a time without a zone is taken as UTC (as the history keeps).

    A time within a day of year 1 or 9999 whose offset takes it past them becomes the first
    or last time there is, rather than an error: no outcome is that old or that far ahead.
    """
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        return (datetime.min if stamp.year == 1 else datetime.max).replace(tzinfo=UTC)


def stored_time(value: Any) -> datetime | None:
    """A stored time in UTC (SQLite gives text without a zone, PostgreSQL a time), None for
    none; ``ValueError`` when it cannot be read (a hand edit, an older release's text)."""
    if value is None:
        return None
    return as_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def last_of_each(outcomes: Iterable[Outcome]) -> dict[str, Outcome]:
    """One outcome per lead id, the last one sent, in the order each id first appeared."""
    latest: dict[str, Outcome] = {}
    for outcome in outcomes:
        latest[outcome.lead_id] = outcome
    return latest


def record_outcomes(
    engine: sa.Engine,
    tenant: str,
    outcomes: Iterable[Outcome],
    *,
    upgrade: bool = True,
    between: Callable[[], object] | None = None,
) -> OutcomeResult:
    """Store the tenant's outcomes of scored leads, ``WRITE_LEADS`` to a transaction; what
    changed.

    ``upgrade``: bring the database to the newest revision first, so a fresh one works (the
    service's history was upgraded as it started: it passes False). ``between``: called
    between two transactions (the service lets its queued scores through there). Raises
    ``SQLAlchemyError`` when the database cannot be reached or refuses the rows.
    """
    latest = last_of_each(outcomes)
    if not latest:
        return OutcomeResult(0)
    if upgrade:
        tables.upgrade(engine)
    ids = list(latest)
    recorded, unchanged, unknown = 0, 0, []
    for start in range(0, len(ids), WRITE_LEADS):
        if start and between is not None:
            between()
        chunk = {i: latest[i] for i in ids[start : start + WRITE_LEADS]}
        part = _record_chunk(engine, tenant, chunk)
        recorded += part.recorded
        unchanged += part.unchanged
        unknown += part.unknown_leads
    return OutcomeResult(recorded, unknown, unchanged)


def _record_chunk(engine: sa.Engine, tenant: str, latest: dict[str, Outcome]) -> OutcomeResult:
    """One transaction's outcomes, tried again when another writer stored one of the same new
    leads meanwhile."""
    times = {i: None if o.at is None else as_utc(o.at) for i, o in latest.items()}
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    # Python's sqlite3 begins a transaction only at the first write, so the
                    # reads would see another state than the writes change: lock first.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                return _record(conn, tenant, latest, times, datetime.now(UTC))
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def record_outcomes_at(url: str, tenant: str, outcomes: Iterable[Outcome]) -> OutcomeResult:
    """``leadml outcomes import``: ``record_outcomes`` on the history at ``url``. Only an
    existing history: a mistyped SQLite path is an error, never a new empty file."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise LeadMLError(f"no score history at {path}: outcomes are kept beside the scores")
    engine = make_engine(url)
    try:
        return record_outcomes(engine, tenant, outcomes)
    except sa.exc.SQLAlchemyError as exc:
        raise LeadMLError(
            f"score history {redact(url)} cannot take the outcomes (nothing was stored): "
            f"{error_line(exc, url)}"
        ) from None
    finally:
        engine.dispose()


def outcomes_mark(engine: sa.Engine, tenant: str) -> tuple[int, str | None]:
    """(how many outcomes the tenant has, when the newest was recorded): what changes whenever
    outcomes are stored, updated or purged, in this process or another (``leadml outcomes
    import`` into the same history). A monitor answer keyed on it is recomputed as soon as
    outcomes arrive, where a timer would keep saying "0 with a known outcome" for a minute.

    One indexed query on a history at the newest revision (a server's is upgraded as it starts);
    raises ``SQLAlchemyError`` when the database cannot be read.
    """
    o = lead_outcomes.c
    query = sa.select(sa.func.count(), sa.func.max(sa.type_coerce(o.recorded_at, sa.String)))
    with engine.connect() as conn:
        count, newest = conn.execute(query.where(o.tenant == tenant)).one()
    return int(count), None if newest is None else str(newest)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK_IDS):
        yield ids[start : start + CHUNK_IDS]


def _known_and_stored(
    conn: sa.Connection, tenant: str, ids: Sequence[str]
) -> tuple[set[str], dict[str, tuple[bool, Any]]]:
    """(ids with a served score in the tenant's history, their stored (converted, time))."""
    s, o = lead_scores.c, lead_outcomes.c
    known: set[str] = set()
    stored: dict[str, tuple[bool, Any]] = {}
    for chunk in _chunks(ids):
        known.update(
            conn.execute(
                sa.select(s.lead_id)
                .where(s.tenant == tenant, s.shadow == sa.false(), s.lead_id.in_(chunk))
                .distinct()
            ).scalars()
        )
        rows = conn.execute(
            sa.select(o.lead_id, o.converted, sa.type_coerce(o.outcome_at, sa.String)).where(
                o.tenant == tenant, o.lead_id.in_(chunk)
            )
        ).all()
        for lead_id, converted, at in rows:
            try:
                stored[lead_id] = (bool(converted), stored_time(at))
            except ValueError:
                stored[lead_id] = (bool(converted), _UNREADABLE)
    return known, stored


def _record(
    conn: sa.Connection,
    tenant: str,
    latest: dict[str, Outcome],
    times: dict[str, datetime | None],
    now: datetime,
) -> OutcomeResult:
    known, stored = _known_and_stored(conn, tenant, list(latest))
    unknown: list[str] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for lead_id, outcome in latest.items():
        if lead_id not in known:
            unknown.append(lead_id)
            continue
        values = {"converted": outcome.converted, "outcome_at": times[lead_id]}
        before = stored.get(lead_id)
        if before is None:
            inserts.append({"tenant": tenant, "lead_id": lead_id, **values, "recorded_at": now})
        elif before == (outcome.converted, times[lead_id]):
            unchanged += 1
        else:
            updates.append({"b_lead_id": lead_id, **{f"b_{k}": v for k, v in values.items()}})
    if inserts:
        conn.execute(lead_outcomes.insert(), inserts)
    if updates:
        o = lead_outcomes.c
        change = (
            lead_outcomes.update()
            .where(o.tenant == tenant, o.lead_id == sa.bindparam("b_lead_id"))
            .values(
                converted=sa.bindparam("b_converted"),
                outcome_at=sa.bindparam("b_outcome_at"),
                recorded_at=now,
            )
        )
        conn.execute(change, updates)
    return OutcomeResult(len(inserts) + len(updates), unknown, unchanged)
