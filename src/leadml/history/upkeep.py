"""The history's upkeep: retention (old scores deleted daily, in small chunks) and erasure (a
tenant's or a lead's scores and outcomes, queued ones too, on request).

Both run beside the writer thread and must not undo each other's work: the purge yields the
database between chunks, so scores are never held back by it; an erasure first lets queued rows
reach the table, then marks what is still queued so the writer skips it, and waits for a batch
in flight, whose commit would otherwise bring the erased rows back.

A mixin of :class:`~leadml.history.store.ScoreHistory`, which owns the queue, its lock and the
counters declared here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from leadml.history import erase as erasure
from leadml.history import retention
from leadml.history.reads import HistoryUnavailable
from leadml.history.rows import ScoreRecord
from leadml.history.tally import TenantTally
from leadml.history.tickets import Tickets

log = logging.getLogger("leadml.history")

#: Retention runs once the table is ready, then this often; a failed purge is tried again later.
PURGE_EVERY_S = 86_400.0
PURGE_RETRY_S = 300.0
#: Rows per delete, and the pause after each, when the service purges while scores arrive.
PURGE_CHUNK_ROWS = 2_000
PURGE_PAUSE_S = 0.02
#: Longest an erasure waits for queued rows to reach the table before dropping the erased ones.
ERASE_FLUSH_S = 2.0
#: Longest an erasure waits for a write in progress (SQLite's lock wait is 10 s).
ERASE_WAIT_S = 12.0


class HistoryUpkeep:
    """Retention and erasure over the store's table and queue."""

    engine: sa.Engine
    days: int | None
    purged: int
    last_error: str | None
    tally: TenantTally
    tickets: Tickets
    _cond: threading.Condition
    _pending: deque[ScoreRecord]
    _hanging: list[ScoreRecord]
    _erased: list[tuple[str, str | None, int]]
    _latest: OrderedDict[tuple[str, str], int]
    _latest_lock: threading.Lock
    _stopping: threading.Event
    _next_purge: float

    def _ensure_schema(self) -> bool:
        raise NotImplementedError

    def _failed(self, what: str, exc: BaseException) -> None:
        raise NotImplementedError

    def flush(self, timeout: float = 5.0) -> bool:
        raise NotImplementedError

    def _purge_loop(self) -> None:
        """Retention at start and then daily, beside the writer: the purge deletes in small
        chunks with a pause between them, so the writer's batches get the database in turn
        (on SQLite, one writer at a time) instead of waiting for the whole purge."""
        while not self._stopping.wait(max(0.0, self._next_purge - time.monotonic())):
            if self._ensure_schema():
                self._purge()
            else:
                self._next_purge = time.monotonic() + PURGE_RETRY_S

    def _purge(self) -> None:
        assert self.days is not None
        before = retention.cutoff(self.days)
        try:
            count = retention.purge(
                self.engine,
                before,
                chunk=PURGE_CHUNK_ROWS,
                pause_s=PURGE_PAUSE_S,
                stop=self._stopping,
            )
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

    # -- erasing -------------------------------------------------------------------------------
    def erase(self, tenant: str, lead_id: str | None = None) -> erasure.Erased:
        """Erase the tenant's (or one of its leads') scores and outcomes, queued ones too, and
        forget them in memory, so no later trend or write brings them back.

        Raises ``HistoryUnavailable`` when the database cannot be reached.
        """
        self.flush(ERASE_FLUSH_S)  # queued rows reach the table first, where they are erased

        def matches(r: ScoreRecord) -> bool:
            return r.tenant == tenant and (lead_id is None or r.lead_id == lead_id)

        with self._cond:  # what the flush left (the database slow) is skipped by the writer
            removed = sum(1 for r in self._pending if matches(r))
            if removed:
                self._erased.append((tenant, lead_id, self.tickets.issued))
                self.tally.dropped([tenant] * removed)
            # A batch taken before this mark may hold the rows: its commit must come before
            # the delete, or it would bring them back.
            batch, deadline = self._hanging, time.monotonic() + ERASE_WAIT_S
            while batch and self._hanging is batch and time.monotonic() < deadline:
                self._cond.wait(0.05)
            if batch and self._hanging is batch:
                raise HistoryUnavailable(
                    f"a write was still waiting for the database after {ERASE_WAIT_S:g} s, "
                    "so the erasure did not finish: send it again"
                )
        with self._latest_lock:
            for key in [k for k in self._latest if k[0] == tenant and lead_id in (None, k[1])]:
                del self._latest[key]
        if not self._ensure_schema():
            raise HistoryUnavailable(self.last_error or "score history unavailable")
        try:
            done = erasure.erase(self.engine, tenant, lead_id)
        except SQLAlchemyError as exc:
            self._failed("cannot erase", exc)
            raise HistoryUnavailable(self.last_error or "score history unavailable") from None
        return erasure.Erased(tenant, lead_id, done.scores + removed, done.outcomes)
