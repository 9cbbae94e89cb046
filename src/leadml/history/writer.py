"""The history's writer thread: batches from the queue to the database, retried in order.

It is woken once per batch and gathers rows for ``LINGER_S``: woken per request, it took the
GIL from the answer (a third of the serving time). A batch the database cannot take now is put
back at the front and retried with a growing pause; rows it refuses for good (a value it
cannot store) are found one by one, dropped and counted, so they never stall the rest.

A mixin of :class:`~leadml.history.store.ScoreHistory`, which owns the queue, its lock and the
counters declared here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence

import sqlalchemy as sa

from leadml.history.engine import error_line, redact, refuses_for_good
from leadml.history.rows import ScoreRecord
from leadml.history.tables import lead_scores
from leadml.history.tally import TenantTally
from leadml.history.tickets import Tickets

log = logging.getLogger("leadml.history")

BATCH_ROWS = 1000
#: How long the writer gathers rows after the first one arrives before it writes them.
LINGER_S = 0.1
MIN_WRITE_BACKOFF_S = 0.5
MAX_WRITE_BACKOFF_S = 30.0


class BatchWriter:
    """The writer thread's loop over the store's queue."""

    url: str
    engine: sa.Engine
    linger_s: float
    last_error: str | None
    written: int
    dropped: int
    tally: TenantTally
    tickets: Tickets
    _cond: threading.Condition
    _pending: deque[ScoreRecord]
    _stop: bool
    _abandoned: bool
    _flushing: int
    _in_flight: int
    _hanging: list[ScoreRecord]
    _erased: list[tuple[str, str | None, int]]
    _schema_ready: bool

    def _ensure_schema(self) -> bool:
        raise NotImplementedError

    def _write_loop(self) -> None:
        backoff = MIN_WRITE_BACKOFF_S
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if not self._pending and self._stop:
                    return
                self._linger()
                take = min(BATCH_ROWS, len(self._pending))
                batch = [self._pending.popleft() for _ in range(take)]
                self._in_flight = len(batch)
                self._hanging = batch
                keep = self._not_erased(batch)
            ok = self._ensure_schema()
            left = self._write(keep) if ok else keep
            with self._cond:
                if self._abandoned:  # close gave up on this batch and counted it lost
                    return
                self._in_flight = 0
                self._hanging = []
                # Written, refused or erased: a prefix of the batch; the rest is retried later,
                # in order (erased rows among it too: their positions keep tickets true).
                done = next((i for i, r in enumerate(batch) if left and r is left[0]), len(batch))
                self._pending.extendleft(reversed(batch[done:]))
                settled = self.tickets.settled + done
                self._erased = [e for e in self._erased if e[2] > settled]
                self._cond.notify_all()
            self.tickets.settle(done)
            with self._cond:
                if ok and not left:
                    backoff = MIN_WRITE_BACKOFF_S
                    continue
                if self._stop:
                    return
                self._cond.wait(backoff)
                backoff = min(backoff * 2, MAX_WRITE_BACKOFF_S)

    def _not_erased(self, batch: list[ScoreRecord]) -> list[ScoreRecord]:
        """The batch without rows erased while queued (called holding the lock; the batch's
        first row is at position ``tickets.settled + 1``)."""
        if not self._erased:
            return batch
        keep = []
        for i, r in enumerate(batch, start=self.tickets.settled + 1):
            if any(
                r.tenant == t and lead in (None, r.lead_id) and i <= upto
                for t, lead, upto in self._erased
            ):
                continue  # counted in the tally by the erasure
            keep.append(r)
        return keep

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
        self._wrote(batch)
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
                self.tally.dropped([record.tenant])
                continue
            self._wrote([record])
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

    def _wrote(self, rows: Sequence[ScoreRecord]) -> None:
        if self.last_error is not None:
            log.warning("score history %s is back; writing again", redact(self.url))
        self.last_error = None
        self.written += len(rows)
        self.tally.written(r.tenant for r in rows)

    def _outage(self, what: str, exc: BaseException) -> None:
        self._failed(what, exc)
        self._schema_ready = False  # the table may be gone too (a new schema, a restore)

    def _failed(self, what: str, exc: BaseException) -> None:
        why = error_line(exc, self.url)
        if self.last_error is None:
            log.warning("score history %s: %s: %s", redact(self.url), what, why)
        self.last_error = f"{what}: {why}"
