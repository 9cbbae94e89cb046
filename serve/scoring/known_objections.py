"""The objections a server knows of, per tenant, so that asking "did this lead object?" is a
set membership test on the event loop rather than a query on a worker thread per request.

Why: one lead's ``POST /v1/score`` takes about 1.25 ms, and one indexed query with its hop to
a worker thread and back added 0.5–0.7 ms to it, for a table that is almost always tiny. The
guarantee stays the same in what it promises, with its delay stated:

* this server's own ``POST /v1/opt-outs`` takes effect at once: its leads are refused from the
  moment it arrives (:meth:`KnownObjections.recording`), not from when it answers;
* objections recorded elsewhere (another server, ``leadml opt-outs import``) are honoured at
  most ``REFRESH_S`` later: a lookup on a copy older than that waits for it to catch up, in a
  worker thread, one catch-up at a time per tenant (the others wait for it, never a second
  query). A catch-up reads only the rows recorded since, by the table's row id, and the
  tenant's count: a row committed late under a lower id (PostgreSQL sequences) makes the two
  disagree, and the whole list is read again;
* a tenant with more than ``MAX_IDS`` objections is asked per batch (:func:`objected`), as
  every tenant was before: memory stays bounded;
* while the table cannot be read, the last copy read is used (with the flags the leads carry)
  and the table is not asked again for ``BACKOFF_S`` (logged): scoring never waits for a
  database that is away.

One :class:`KnownObjections` per history (:func:`known_to`): the scoring routes and the
opt-outs route reach the same copy without knowing of each other.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from leadml.history.opt_outs import objected, objections_since
from leadml.history.store import ScoreHistory

log = logging.getLogger("leadml.history")

#: Longest an objection recorded by another process goes unseen by this server.
REFRESH_S = 1.0
#: Objections a tenant may have for its copy to be kept in memory (about 100 bytes each).
MAX_IDS = 200_000
#: How long the table is not asked again after it could not be read.
BACKOFF_S = 5.0


@dataclass
class _Tenant:
    """One tenant's copy: ``ids`` as of the read started at ``read_at`` (None: not read yet,
    or too many to keep), plus what this server's own posts added meanwhile."""

    ids: set[str] | None = None
    too_many: bool = False
    last_row: int = 0
    read_at: float = float("-inf")
    #: Lead ids of posts in progress (a Counter: two posts may name the same lead).
    posting: Counter[str] = field(default_factory=Counter)
    #: Lead ids this server recorded while a read was in progress, with when: kept until a
    #: read that started after them is in.
    own: dict[str, float] = field(default_factory=dict)
    lock: anyio.Lock = field(default_factory=anyio.Lock)

    def knows(self, lead_id: str) -> bool:
        return (
            lead_id in self.posting
            or lead_id in self.own
            or (self.ids is not None and lead_id in self.ids)
        )


class KnownObjections:
    """The objecting lead ids of each tenant of one history, kept fresh (see the module)."""

    def __init__(self, history: ScoreHistory) -> None:
        self._history = weakref.ref(history)
        self._tenants: dict[str, _Tenant] = {}
        self._paused_until = float("-inf")

    def _tenant(self, tenant: str) -> _Tenant:
        return self._tenants.setdefault(tenant, _Tenant())

    def _current(self, t: _Tenant, now: float) -> bool:
        return t.too_many or now < t.read_at + REFRESH_S or now < self._paused_until

    async def among(self, tenant: str, lead_ids: list[str]) -> set[str]:
        """Which of ``lead_ids`` objected in the tenant's history, as this server knows it."""
        t = self._tenant(tenant)
        if not self._current(t, time.monotonic()):
            async with t.lock:  # one catch-up at a time; who waited finds the copy fresh
                if not self._current(t, time.monotonic()):
                    await self._catch_up(tenant, t)
        found = {i for i in lead_ids if t.knows(i)}
        if t.too_many and time.monotonic() >= self._paused_until:
            found |= await self._ask(tenant, lead_ids)
        return found

    @contextmanager
    def recording(self, tenant: str, lead_ids: list[str]) -> Iterator[None]:
        """Around ``POST /v1/opt-outs``: its leads are refused while it runs, and for good
        once it succeeded (the table has them; a failed post leaves them to the table)."""
        t = self._tenant(tenant)
        t.posting.update(lead_ids)
        try:
            yield
            if t.lock.locked():  # a read in progress may have missed them: keep them beside
                now = time.monotonic()
                t.own.update(dict.fromkeys(lead_ids, now))
            elif t.ids is not None:  # recorded leads only: the count check still holds
                t.ids.update(lead_ids)
                if len(t.ids) > MAX_IDS:
                    t.ids, t.too_many = None, True
        finally:
            t.posting.subtract(lead_ids)
            for lead_id in set(lead_ids):
                if t.posting[lead_id] <= 0:
                    del t.posting[lead_id]

    async def _catch_up(self, tenant: str, t: _Tenant) -> None:
        history = self._history()
        if history is None:  # pragma: no cover - the server is shutting down
            return
        started = time.monotonic()
        engine, known = history.engine, t.ids
        try:
            if known is not None:
                new, last_row, count = await anyio.to_thread.run_sync(
                    _read, engine, tenant, t.last_row
                )
                if len(known) + len(new - known) == count:
                    known.update(new)  # no post touches it while the lock is held
                    t.last_row = max(t.last_row, last_row)
                else:  # a row committed late under a lower id: read the whole list
                    known = None
            if known is None:
                known, t.last_row, count = await anyio.to_thread.run_sync(_read, engine, tenant, 0)
        except SQLAlchemyError as exc:
            self._pause(exc)
            return
        t.too_many = max(len(known), count) > MAX_IDS
        t.ids = None if t.too_many else known
        t.read_at = started
        t.own = {i: at for i, at in t.own.items() if at >= started}

    async def _ask(self, tenant: str, lead_ids: list[str]) -> set[str]:
        """A tenant with too many objections to keep: one query for this batch."""
        history = self._history()
        if history is None:  # pragma: no cover - the server is shutting down
            return set()
        try:
            return await anyio.to_thread.run_sync(objected, history.engine, tenant, lead_ids)
        except SQLAlchemyError as exc:
            self._pause(exc)
            return set()

    def _pause(self, exc: SQLAlchemyError) -> None:
        self._paused_until = time.monotonic() + BACKOFF_S
        log.warning(
            "opt-out table cannot be read (%s): leads scored on the objections last read and "
            "their own opt-out flag for %g s",
            type(exc).__name__,
            BACKOFF_S,
        )


def _read(engine: sa.Engine, tenant: str, after: int) -> tuple[set[str], int, int]:
    """On a worker thread: the tenant's objecting lead ids above row ``after`` (at most one
    more than ``MAX_IDS``), the highest row read (``after`` when none), the tenant's count."""
    rows, count = objections_since(engine, tenant, after, MAX_IDS + 1)
    return {lead_id for _, lead_id in rows}, max((row for row, _ in rows), default=after), count


_BY_HISTORY: weakref.WeakKeyDictionary[ScoreHistory, KnownObjections] = weakref.WeakKeyDictionary()


def known_to(history: ScoreHistory) -> KnownObjections:
    """The server's copy of ``history``'s objections (one per history, made on first use)."""
    known = _BY_HISTORY.get(history)
    if known is None:
        known = _BY_HISTORY[history] = KnownObjections(history)
    return known
