"""Score history: every scored lead with an id, per tenant, in a real database, and its trend.

Rows (the tenant, lead id, model version, probability, grade, time, and the lead's values as
the model read them, so the sales-ops page can explain a past lead again) go through SQLAlchemy
to a SQLite file by default or PostgreSQL by URL. Only what the model reads is kept: numbers,
booleans and answers it knows (``FeatureEncoder.known_values``); a name typed into a job title
is a category the model never saw, so it is never stored, and PII columns are never features.

Scoring must not wait for, or fail because of, the database: rows are queued and written in
batches by one background thread, which keeps them and retries while the database is down
(logging the outage once, not per row). It is woken once per batch and gathers rows for
``LINGER_S``: woken per request, it took the GIL from the answer (a third of the serving time).

The queue has a cap, checked *before* a request is scored (``admit``): past it the service
answers 503 with Retry-After and the CRM sends again, so no score that was acknowledged is
ever thrown away to make room. What can still be lost is logged with its count and counted in
``status()``: rows the database refuses for good (a value it cannot store) and rows still
queued when the process stops while the database stays away longer than ``flush_s``.

Trends need a lead's previous (served, not shadow) score: the latest are kept in memory per
(tenant, lead id), and only unknown leads cost a query, skipped for a few seconds after the
database fails. Every read is one tenant's; text is made valid, unreadable rows skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from leadml.errors import LeadMLError
from leadml.history import retention, tables
from leadml.history.engine import error_line, make_engine, redact, refuses_for_good
from leadml.history.rows import ScoreRecord, latest_query, lead_query, recent_query, served_row
from leadml.history.tables import lead_scores

if TYPE_CHECKING:
    from leadml.config import Settings

log = logging.getLogger("leadml.history")

#: Latest score per lead kept in memory for trends (about 150 bytes each).
RECENT_LEADS = 100_000
#: Scores waiting for the database at most (``history_queue``); past it scoring answers 503.
QUEUE_ROWS = 100_000
#: How long the queue is given to reach the database when the service stops (``history_flush_s``).
FLUSH_S = 30.0
#: Days of scores kept (``history_days``).
KEEP_DAYS = 365
BATCH_ROWS = 1000
#: How long the writer gathers rows after the first one arrives before it writes them.
LINGER_S = 0.1
#: After a failed read, trend look-ups skip the database for this long.
READ_BACKOFF_S = 5.0
MIN_WRITE_BACKOFF_S = 0.5
MAX_WRITE_BACKOFF_S = 30.0
#: Retention runs once the table is ready, then this often; a failed purge is tried again later.
PURGE_EVERY_S = 86_400.0
PURGE_RETRY_S = 300.0
#: What a 503 asks the client to wait: a moment while the writer catches up, longer while the
#: database is away.
RETRY_BUSY_S = 1
RETRY_DOWN_S = 10
#: Longest ``close`` waits for the writer thread once the flush is over.
JOIN_S = 5.0


class HistoryUnavailable(LeadMLError):
    """The history database cannot be read right now (scoring goes on without it)."""


class HistoryBusy(Exception):
    """The queue is full: this request's scores would not fit, so it is not scored at all.

    Not a ``LeadMLError``: nothing is wrong with the request; the service answers 503 with
    ``Retry-After: retry_after`` and the same request succeeds once the writer catches up.
    """

    def __init__(self, waiting: int, limit: int, retry_after: int) -> None:
        super().__init__(
            f"the score history is behind ({waiting:,} scores waiting for the database, "
            f"at most {limit:,}): retry in {retry_after} s"
        )
        self.retry_after = retry_after


class ScoreHistory:
    """Write-behind store of scores with an in-memory index of each lead's latest score."""

    def __init__(
        self,
        url: str,
        *,
        days: int | None = KEEP_DAYS,
        queue: int = QUEUE_ROWS,
        flush_s: float = FLUSH_S,
        linger_s: float = LINGER_S,
    ) -> None:
        self.url = url
        self.days = days
        self.queue_limit = queue
        self.flush_s = flush_s
        self.linger_s = linger_s
        self._flushing = 0  # callers waiting in flush(): the writer does not linger for them
        self.engine = make_engine(url)
        self._pending: deque[ScoreRecord] = deque()
        self._cond = threading.Condition()
        self._latest: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._latest_lock = threading.Lock()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._schema_ready = False
        self._reads_paused_until = 0.0
        self._next_purge = 0.0
        self._in_flight = 0
        self.written = 0
        self.dropped = 0
        self.purged = 0
        self.last_error: str | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> ScoreHistory | None:
        """The history ``settings`` describe, or None when it is turned off."""
        url = settings.history_database
        if url is None:
            return None
        return cls(
            url,
            days=settings.history_days,
            queue=settings.history_queue,
            flush_s=settings.history_flush_s,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Upgrade the table if possible (a database that is down is retried by the writer)."""
        self._ensure_schema()
        self._thread = threading.Thread(target=self._write_loop, name="score-history", daemon=True)
        self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued (within ``timeout``, default ``flush_s``), then stop.

        Whatever the database did not take by then is lost with the process: it is logged with
        its count and counted in ``dropped``.
        """
        self.flush(self.flush_s if timeout is None else timeout)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(JOIN_S)
        with self._cond:
            left = len(self._pending) + self._in_flight
            self._pending.clear()
            self.dropped += left
        if left:
            log.error(
                "score history %s: %d scores were not written before shutdown and are lost (%s)",
                redact(self.url),
                left,
                self.last_error or "the database did not take them in time",
            )
        self.engine.dispose()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued row is written; False if the database did not take them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                while self._pending or self._in_flight:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(min(left, 0.05))
            finally:
                self._flushing -= 1
        return True

    @property
    def healthy(self) -> bool:
        return self.last_error is None

    def status(self) -> dict[str, Any]:
        with self._cond:
            pending = len(self._pending) + self._in_flight
        return {
            "database": redact(self.url),
            "ok": self.healthy,
            "error": self.last_error,
            "written": self.written,
            "pending": pending,
            "queue_limit": self.queue_limit,
            "dropped": self.dropped,
            "purged": self.purged,
        }

    # -- writing ---------------------------------------------------------------------------------
    def admit(self, rows: int) -> None:
        """Raise ``HistoryBusy`` when ``rows`` more scores would overfill the queue.

        Called before a request is scored, so a refused request was never acknowledged. Rows
        of requests already admitted are always taken, so the queue may pass its cap by what
        the requests in progress carry; an empty queue takes any request.
        """
        if rows <= 0:
            return
        with self._cond:
            waiting = len(self._pending) + self._in_flight
        if waiting and waiting + rows > self.queue_limit:
            retry = RETRY_BUSY_S if self.healthy else RETRY_DOWN_S
            raise HistoryBusy(waiting, self.queue_limit, retry)

    def record(self, records: Iterable[ScoreRecord]) -> None:
        """Queue rows and update the in-memory latest scores; never blocks on the database."""
        records = list(records)
        if not records:
            return
        with self._latest_lock:
            for r in (r for r in records if not r.shadow):  # a shadow is no previous score
                key = (r.tenant, r.lead_id)
                self._latest[key] = r.score
                self._latest.move_to_end(key)
            while len(self._latest) > RECENT_LEADS:
                self._latest.popitem(last=False)
        with self._cond:
            was_empty = not self._pending
            self._pending.extend(records)
            # Wake the writer to start a batch, or when a batch is full; not for every row.
            if was_empty or len(self._pending) >= BATCH_ROWS:
                self._cond.notify_all()

    def _ensure_schema(self) -> bool:
        if self._schema_ready:
            return True
        try:
            tables.upgrade(self.engine)
        except Exception as exc:  # the database away, or a revision it refuses: retried later
            self._failed("cannot prepare the history table", exc)
            return False
        self._schema_ready = True
        return True

    def _purge_due(self) -> bool:
        return self.days is not None and time.monotonic() >= self._next_purge

    def _purge_wait(self) -> float | None:
        if self.days is None:
            return None
        return max(0.0, self._next_purge - time.monotonic())

    def _write_loop(self) -> None:
        backoff = MIN_WRITE_BACKOFF_S
        while True:
            with self._cond:
                while not self._pending and not self._stop and not self._purge_due():
                    self._cond.wait(self._purge_wait())
                if not self._pending and self._stop:
                    return
                self._linger()
                take = min(BATCH_ROWS, len(self._pending))
                batch = [self._pending.popleft() for _ in range(take)]
                self._in_flight = len(batch)
            ok = self._ensure_schema()
            if ok and self._purge_due():
                self._purge()
            left = self._write(batch) if ok else batch
            with self._cond:
                self._in_flight = 0
                self._pending.extendleft(reversed(left))  # keep the order; retry later
                self._cond.notify_all()
                if ok and not left:
                    backoff = MIN_WRITE_BACKOFF_S
                    continue
                if self._stop:
                    return
                self._cond.wait(backoff)
                backoff = min(backoff * 2, MAX_WRITE_BACKOFF_S)

    def _linger(self) -> None:
        """Wait (holding nothing: ``wait`` releases the lock) for more rows to join the batch,
        up to ``linger_s``; not when the batch is full, a flush waits, or the store stops."""
        deadline = time.monotonic() + self.linger_s
        while self._pending and len(self._pending) < BATCH_ROWS:
            if self._stop or self._flushing:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

    def _write(self, batch: Sequence[ScoreRecord]) -> list[ScoreRecord]:
        """Insert a batch; the rows to retry later (none when all were written or refused)."""
        if not batch:
            return []
        try:
            self._insert(batch)
        except Exception as exc:
            if not refuses_for_good(exc):
                self._outage(f"cannot write {len(batch)} scores (kept for retry)", exc)
                return list(batch)
            return self._write_each(batch)  # find the rows refused, keep the rest
        self._wrote(len(batch))
        return []

    def _write_each(self, batch: Sequence[ScoreRecord]) -> list[ScoreRecord]:
        refused: list[str] = []
        left: list[ScoreRecord] = []
        for i, record in enumerate(batch):
            try:
                self._insert([record])
            except Exception as exc:
                if not refuses_for_good(exc):
                    self._outage(f"cannot write {len(batch) - i} scores (kept for retry)", exc)
                    left = list(batch[i:])
                    break
                refused.append(error_line(exc, self.url))
                continue
            self._wrote(1)
        if refused:
            with self._cond:
                self.dropped += len(refused)
            log.error(
                "score history %s refused %d scores, which are lost: %s",
                redact(self.url),
                len(refused),
                refused[0],
            )
        return left

    def _insert(self, batch: Sequence[ScoreRecord]) -> None:
        with self.engine.begin() as conn:
            conn.execute(lead_scores.insert(), [r.row() for r in batch])

    def _wrote(self, rows: int) -> None:
        if self.last_error is not None:
            log.warning("score history %s is back; writing again", redact(self.url))
        self.last_error = None
        self.written += rows

    def _outage(self, what: str, exc: BaseException) -> None:
        self._failed(what, exc)
        self._schema_ready = False  # the table may be gone too (a new schema, a restore)

    def _failed(self, what: str, exc: BaseException) -> None:
        why = error_line(exc, self.url)
        if self.last_error is None:
            log.warning("score history %s: %s: %s", redact(self.url), what, why)
        self.last_error = f"{what}: {why}"

    def _purge(self) -> None:
        assert self.days is not None
        before = retention.cutoff(self.days)
        try:
            count = retention.purge(self.engine, before)
        except Exception as exc:
            self._failed("cannot delete old scores (tried again later)", exc)
            self._next_purge = time.monotonic() + PURGE_RETRY_S
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_S
        self.purged += count
        log.info(
            "score history: %d scores from before %s deleted (history_days=%d)",
            count,
            before.strftime("%Y-%m-%d %H:%M UTC"),
            self.days,
        )

    # -- reading ---------------------------------------------------------------------------------
    def previous_scores(self, tenant: str, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each of the tenant's leads' latest score so far: from memory, else one query."""
        found, missing = self.remembered(tenant, lead_ids)
        if missing:
            found.update(self.look_up(tenant, missing))
        return found

    def remembered(self, tenant: str, lead_ids: Sequence[str]) -> tuple[dict[str, int], list[str]]:
        """(latest scores known in memory, ids that only the database can answer for)."""
        found: dict[str, int] = {}
        missing: list[str] = []
        with self._latest_lock:
            for lead_id in lead_ids:
                score = self._latest.get((tenant, lead_id))
                if score is None:
                    missing.append(lead_id)
                else:
                    found[lead_id] = score
        return found, missing

    def look_up(self, tenant: str, lead_ids: Sequence[str]) -> dict[str, int]:
        """Latest scores from the database ({} while reads are paused after a failure)."""
        if time.monotonic() < self._reads_paused_until:
            return {}
        return self._query_latest(tenant, sorted(set(lead_ids)))

    def _query_latest(self, tenant: str, lead_ids: list[str]) -> dict[str, int]:
        if not self._ensure_schema():
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(latest_query(tenant, lead_ids)).all()
        except SQLAlchemyError as exc:
            self._failed("cannot read previous scores (trends skipped)", exc)
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}
        found: dict[str, int] = {}
        for row in rows:
            try:
                found[row.lead_id] = int(row.score)
            except (TypeError, ValueError, OverflowError):
                continue  # an unreadable stored score is no previous score
        return found

    def recent(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        """The tenant's most recently scored leads, newest first, one row per lead."""
        return self._rows(recent_query(tenant, limit))

    def lead(self, tenant: str, lead_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """One of the tenant's leads' scores over time, oldest first (what a trend is read from)."""
        return list(reversed(self._rows(lead_query(tenant, lead_id, limit))))

    def _rows(self, query: sa.Select) -> list[dict[str, Any]]:
        if not self._ensure_schema():
            raise HistoryUnavailable(self.last_error or "score history unavailable")
        try:
            with self.engine.connect() as conn:
                raw = conn.execute(query).all()
        except SQLAlchemyError as exc:
            self._failed("cannot read the history", exc)
            raise HistoryUnavailable(self.last_error or "score history unavailable") from None
        rows = [row for row in map(served_row, raw) if row is not None]
        if len(rows) < len(raw):
            log.warning(
                "score history %s: %d stored rows could not be read and were skipped",
                redact(self.url),
                len(raw) - len(rows),
            )
        return rows
