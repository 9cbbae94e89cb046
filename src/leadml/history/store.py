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
queued when the process stops while the database stays away longer than ``close`` may wait
(the service's shutdown budget). With ``history_sync`` a request is answered only once its
rows are written (``wait_written``): what a ``kill -9`` loses is then only unanswered scores.

Trends need a lead's previous (served, not shadow) score: the latest are kept in memory per
(tenant, lead id), and only unknown leads cost a query, skipped for a few seconds after the
database fails. Every read is one tenant's; text is made valid, unreadable rows skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Any

from leadml.config import Settings, setting_default
from leadml.history import tables
from leadml.history.engine import make_engine, redact
from leadml.history.reads import HistoryReads
from leadml.history.reads import HistoryUnavailable as HistoryUnavailable  # raised by reads, erase
from leadml.history.rows import ScoreRecord
from leadml.history.tally import TenantTally
from leadml.history.tickets import Tickets
from leadml.history.upkeep import HistoryUpkeep
from leadml.history.writer import BATCH_ROWS, LINGER_S, BatchWriter

log = logging.getLogger("leadml.history")

#: Latest score per lead kept in memory for trends (about 150 bytes each).
RECENT_LEADS = 100_000
#: Scores waiting for the database at most (``history_queue``); past it scoring answers 503.
QUEUE_ROWS: int = setting_default("history_queue")
#: How long the queue is given to reach the database when the service stops (``history_flush_s``).
FLUSH_S: float = setting_default("history_flush_s")
#: Days of scores kept (``history_days``).
KEEP_DAYS: int = setting_default("history_days")
#: What a 503 asks the client to wait: a moment while the writer catches up, longer while the
#: database is away.
RETRY_BUSY_S = 1
RETRY_DOWN_S = 10
#: Share of ``close``'s time left for the writer thread to return once the flush gives up.
JOIN_SHARE = 0.2
#: Longest a request waits for its scores to be written with ``history_sync`` (then 503).
SYNC_WAIT_S = 5.0


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


class HistoryNotWritten(HistoryBusy):
    """``history_sync``: the request's scores did not reach the database in time.

    They stay queued (write-behind takes them once it can); the caller was not answered with
    them, so it sends the request again, as after any 503.
    """

    def __init__(self, rows: int, waited: float, retry_after: int) -> None:
        Exception.__init__(
            self,
            f"the score history did not take these {rows:,} scores within {waited:g} s "
            f"(history_sync): retry in {retry_after} s",
        )
        self.retry_after = retry_after


class ScoreHistory(BatchWriter, HistoryUpkeep, HistoryReads):
    """Write-behind store of scores with an in-memory index of each lead's latest score."""

    def __init__(
        self,
        url: str,
        *,
        days: int | None = KEEP_DAYS,
        queue: int = QUEUE_ROWS,
        flush_s: float = FLUSH_S,
        linger_s: float = LINGER_S,
        sync: bool = False,
        sync_wait_s: float = SYNC_WAIT_S,
    ) -> None:
        self.url = url
        self.sync = sync
        self.sync_wait_s = sync_wait_s
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
        self._purger: threading.Thread | None = None
        self._stopping = threading.Event()  # wakes the purge thread to stop
        self._schema_ready = False
        self._reads_paused_until = 0.0
        self._next_purge = 0.0
        self._in_flight = 0
        self._hanging: list[ScoreRecord] = []  # the batch being written
        self.tickets = Tickets()  # positions of queued rows: what history_sync waits for
        self._abandoned = False
        # Erasures of rows still queued: (tenant, lead id or None, last position queued then).
        self._erased: list[tuple[str, str | None, int]] = []
        self.tally = TenantTally()
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
            sync=settings.history_sync,
        )

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Upgrade the table if possible (a database that is down is retried by the writer)."""
        self._ensure_schema()
        self._thread = threading.Thread(target=self._write_loop, name="score-history", daemon=True)
        self._thread.start()
        if self.days is not None:  # its own thread: a long purge never holds scores back
            self._purger = threading.Thread(
                target=self._purge_loop, name="score-history-purge", daemon=True
            )
            self._purger.start()

    def close(self, timeout: float | None = None) -> int:
        """Write what is queued within ``timeout`` (default ``flush_s``), then stop; how many
        scores were not written.

        The whole close fits in ``timeout``, even while a write hangs on a locked or slow
        database: the service's shutdown must end before a container runtime's SIGKILL, and
        the line saying what was lost must be logged before it. Those scores are lost with the
        process; they are counted in ``dropped``. A batch whose write had not returned by then
        is counted among them (its transaction had not committed when the count was taken).
        """
        budget = self.flush_s if timeout is None else max(0.0, timeout)
        deadline = time.monotonic() + budget
        self.flush(budget * (1 - JOIN_SHARE))
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(max(0.05, deadline - time.monotonic()))
        with self._cond:
            self._abandoned = True
            waiting = len(self._pending)
            hanging = self._in_flight
            self.tally.dropped(r.tenant for r in self._pending)
            self.tally.dropped(r.tenant for r in self._hanging)
            self._pending.clear()
            self._in_flight = 0
            self.dropped += waiting + hanging
        left = waiting + hanging
        if left:
            log.error(
                "score history %s: %d scores were not written before shutdown and are lost (%s%s)",
                redact(self.url),
                left,
                self.last_error or "the database did not take them in time",
                f"; {hanging} of them in a write still waiting for the database" if hanging else "",
            )
        self.tickets.close()
        if not hanging:  # a connection still in use by the hung write is left to the exit
            self.engine.dispose()
        return left

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

    def tenant_status(self, tenant: str) -> dict[str, Any]:
        """What one tenant's key may see: whether the history writes, and its own counts
        (no database URL, host or user, no error text naming them, no other tenant's rows)."""
        return {"ok": self.healthy, **self.tally.of(tenant), "queue_limit": self.queue_limit}

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

    def record(self, records: Iterable[ScoreRecord]) -> int:
        """Queue rows and update the in-memory latest scores; never blocks on the database.

        Returns the rows' ticket: ``wait_written(ticket)`` waits until they are in the database.
        """
        records = list(records)
        if not records:
            with self._cond:
                return self.tickets.issued
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
            ticket = self.tickets.issue(len(records))
            self.tally.queued(r.tenant for r in records)
            # Wake the writer to start a batch, or when a batch is full; not for every row.
            if was_empty or len(self._pending) >= BATCH_ROWS:
                self._cond.notify_all()
            return ticket

    async def wait_written(self, ticket: int, rows: int) -> None:
        """Wait until the rows queued up to ``ticket`` are settled (``history_sync``).

        Raises ``HistoryNotWritten`` after ``sync_wait_s``, or at once when the store has
        stopped. While someone waits the writer does not linger, so a synchronous score costs
        one commit (shared by every request waiting at that moment).
        """
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
        try:
            if await self.tickets.wait(ticket, self.sync_wait_s):
                return
        finally:
            with self._cond:
                self._flushing -= 1
        if self.tickets.closed:
            raise HistoryNotWritten(rows, 0, RETRY_DOWN_S)
        retry = RETRY_BUSY_S if self.healthy else RETRY_DOWN_S
        raise HistoryNotWritten(rows, self.sync_wait_s, retry)

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
