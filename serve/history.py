"""Score history: every scored lead with an id, in a real database, and its trend.

Rows (lead id, model version, probability, grade, time, and the lead's feature values so the
sales-ops page can explain a past lead again) go through SQLAlchemy to a SQLite file by default
or PostgreSQL by URL. PII columns are never features, so they are never in a row.

Scoring must not wait for, or fail because of, the database: rows are queued and written in
batches by one background thread, which keeps them and retries while the database is down
(logging the outage once, not per row). Trends need the previous score of a lead: the latest
scores are kept in memory, and only unknown leads cost a query; while the database is down
those queries are skipped for a few seconds at a time, and such leads simply get no trend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from leadml.errors import LeadMLError

log = logging.getLogger("serve.history")

#: A score change of at least this many points (0–100) is a trend; less is "steady".
TREND_POINTS = 2
#: Latest score per lead kept in memory for trends (about 100 bytes each).
RECENT_LEADS = 100_000
#: Rows waiting for the database at most; beyond that the oldest are dropped (and counted).
MAX_PENDING = 100_000
BATCH_ROWS = 1000
#: After a failed read, trend look-ups skip the database for this long.
READ_BACKOFF_S = 5.0
MAX_WRITE_BACKOFF_S = 30.0
CONNECT_TIMEOUT_S = 3

metadata = sa.MetaData()
lead_scores = sa.Table(
    "lead_scores",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(500), nullable=False, index=True),
    sa.Column("model_version", sa.String(200), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("features", sa.JSON, nullable=True),
)


@dataclass(frozen=True)
class ScoreRecord:
    lead_id: str
    model_version: str
    probability: float
    score: int
    grade: str
    scored_at: datetime
    features: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "model_version": self.model_version,
            "probability": self.probability,
            "score": self.score,
            "grade": self.grade,
            "scored_at": self.scored_at,
            "features": self.features,
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


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str) -> sa.Engine:
    """An engine that fails fast when the server is away, and SQLite tuned for many writes."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LeadMLError(f"history URL {redact(url)} is not a SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # scoring must still start: the writer logs and retries
                log.warning("score history folder %s cannot be created: %s", folder, exc)
        args["connect_args"] = {"timeout": 10, "check_same_thread": False}
    elif backend == "postgresql":
        args["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        args["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(url, **args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise LeadMLError(f"history URL {redact(url)}: {exc}") from None
    if backend == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            # WAL: readers never block the writer thread; NORMAL: no fsync per batch.
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


class ScoreHistory:
    """Write-behind store of scores with an in-memory index of each lead's latest score."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._pending: deque[ScoreRecord] = deque()
        self._cond = threading.Condition()
        self._latest: OrderedDict[str, int] = OrderedDict()
        self._latest_lock = threading.Lock()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._tables_ready = False
        self._reads_paused_until = 0.0
        self._in_flight = 0
        self.written = 0
        self.dropped = 0
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Create the table if possible (a database that is down is retried by the writer)."""
        self._ensure_tables()
        self._thread = threading.Thread(target=self._write_loop, name="score-history", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (within ``timeout``), then stop the writer and the engine."""
        self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self.engine.dispose()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued row is written; False if the database did not take them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._pending or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    @property
    def healthy(self) -> bool:
        return self.last_error is None

    def status(self) -> dict[str, Any]:
        return {
            "database": redact(self.url),
            "ok": self.healthy,
            "error": self.last_error,
            "written": self.written,
            "pending": len(self._pending) + self._in_flight,
            "dropped": self.dropped,
        }

    # -- writing ---------------------------------------------------------------------------------
    def record(self, records: Iterable[ScoreRecord]) -> None:
        """Queue rows and update the in-memory latest scores; never blocks on the database."""
        records = list(records)
        if not records:
            return
        with self._latest_lock:
            for r in records:
                self._latest[r.lead_id] = r.score
                self._latest.move_to_end(r.lead_id)
            while len(self._latest) > RECENT_LEADS:
                self._latest.popitem(last=False)
        with self._cond:
            self._pending.extend(records)
            while len(self._pending) > MAX_PENDING:  # a long outage: keep the newest rows
                self._pending.popleft()
                self.dropped += 1
            self._cond.notify_all()

    def _ensure_tables(self) -> bool:
        if self._tables_ready:
            return True
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            self._failed("cannot create the history table", exc)
            return False
        self._tables_ready = True
        return True

    def _write_loop(self) -> None:
        backoff = 0.5
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if not self._pending and self._stop:
                    return
                take = min(BATCH_ROWS, len(self._pending))
                batch = [self._pending.popleft() for _ in range(take)]
                self._in_flight = len(batch)
            ok = self._ensure_tables() and self._insert(batch)
            with self._cond:
                self._in_flight = 0
                if not ok:
                    self._pending.extendleft(reversed(batch))  # keep order; retry later
                    while len(self._pending) > MAX_PENDING:
                        self._pending.popleft()
                        self.dropped += 1
                self._cond.notify_all()
                if ok:
                    backoff = 0.5
                    continue
                if self._stop:
                    return
                self._cond.wait(backoff)
                backoff = min(backoff * 2, MAX_WRITE_BACKOFF_S)

    def _insert(self, batch: Sequence[ScoreRecord]) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(lead_scores.insert(), [r.row() for r in batch])
        except SQLAlchemyError as exc:
            self._failed(f"cannot write {len(batch)} scores (kept for retry)", exc)
            return False
        if self.last_error is not None:
            log.warning("score history %s is back; writing again", redact(self.url))
        self.last_error = None
        self.written += len(batch)
        return True

    def _failed(self, what: str, exc: BaseException) -> None:
        # The exception's first line only: SQLAlchemy appends the statement and its parameters.
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        reason = reason.replace(self.url, redact(self.url))
        if self.last_error is None:
            log.warning("score history %s: %s: %s", redact(self.url), what, reason)
        self.last_error = f"{what}: {reason}"

    # -- reading ---------------------------------------------------------------------------------
    def previous_scores(self, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each lead's latest score so far: from memory, else one query for the rest."""
        found, missing = self.remembered(lead_ids)
        if missing:
            found.update(self.look_up(missing))
        return found

    def remembered(self, lead_ids: Sequence[str]) -> tuple[dict[str, int], list[str]]:
        """(latest scores known in memory, ids that only the database can answer for)."""
        found: dict[str, int] = {}
        missing: list[str] = []
        with self._latest_lock:
            for lead_id in lead_ids:
                score = self._latest.get(lead_id)
                if score is None:
                    missing.append(lead_id)
                else:
                    found[lead_id] = score
        return found, missing

    def look_up(self, lead_ids: Sequence[str]) -> dict[str, int]:
        """Latest scores from the database ({} while reads are paused after a failure)."""
        if time.monotonic() < self._reads_paused_until:
            return {}
        return self._query_latest(sorted(set(lead_ids)))

    def _query_latest(self, lead_ids: list[str]) -> dict[str, int]:
        if not self._tables_ready and not self._ensure_tables():
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}
        newest = (
            sa.select(lead_scores.c.lead_id, sa.func.max(lead_scores.c.id).label("id"))
            .where(lead_scores.c.lead_id.in_(lead_ids))
            .group_by(lead_scores.c.lead_id)
            .subquery()
        )
        query = sa.select(lead_scores.c.lead_id, lead_scores.c.score).join(
            newest, lead_scores.c.id == newest.c.id
        )
        try:
            with self.engine.connect() as conn:
                return {row.lead_id: int(row.score) for row in conn.execute(query)}
        except SQLAlchemyError as exc:
            self._failed("cannot read previous scores (trends skipped)", exc)
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The most recently scored leads, newest first, one row per lead."""
        newest = (
            sa.select(sa.func.max(lead_scores.c.id).label("id"))
            .group_by(lead_scores.c.lead_id)
            .subquery()
        )
        query = (
            sa.select(lead_scores)
            .join(newest, lead_scores.c.id == newest.c.id)
            .order_by(lead_scores.c.id.desc())
            .limit(limit)
        )
        return self._rows(query)

    def lead(self, lead_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """One lead's scores over time, oldest first (what a trend is read from)."""
        query = (
            sa.select(lead_scores)
            .where(lead_scores.c.lead_id == lead_id)
            .order_by(lead_scores.c.id.desc())
            .limit(limit)
        )
        return list(reversed(self._rows(query)))

    def _rows(self, query: sa.Select) -> list[dict[str, Any]]:
        if not self._ensure_tables():
            raise HistoryUnavailable(self.last_error or "score history unavailable")
        try:
            with self.engine.connect() as conn:
                rows = [dict(r._mapping) for r in conn.execute(query)]
        except SQLAlchemyError as exc:
            self._failed("cannot read the history", exc)
            raise HistoryUnavailable(self.last_error or "score history unavailable") from None
        for row in rows:
            row.pop("id", None)
            stamp = row["scored_at"]
            if stamp.tzinfo is None:  # SQLite keeps no zone; we always write UTC
                row["scored_at"] = stamp.replace(tzinfo=UTC)
        return rows


class HistoryUnavailable(LeadMLError):
    """The history database cannot be read right now (scoring goes on without it)."""
