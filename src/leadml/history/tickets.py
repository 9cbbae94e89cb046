"""Tickets for queued scores: what lets ``history_sync`` answer only once its rows are written.

The write-behind queue is first in, first out, and the writer settles rows (writes them, or
drops them as refused or erased) in that order, keeping any it must retry at the front. So a
row's position in the stream of all rows ever queued is its ticket, and it is settled once the
count of settled rows reaches it. A request waits on an asyncio future that the writer's
thread resolves: no thread is held per waiting request, however many wait.
"""

from __future__ import annotations

import asyncio
import threading


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a waiter that timed out has cancelled it
        future.set_result(None)


class Tickets:
    """Positions issued to queued rows, the count settled, and who waits for which."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.issued = 0
        self.settled = 0
        self.closed = False
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def issue(self, rows: int) -> int:
        """The ticket of ``rows`` rows queued now (the position of the last of them)."""
        with self._lock:
            self.issued += rows
            return self.issued

    def settle(self, rows: int) -> None:
        """``rows`` more rows, the next in order, are settled: wake whoever they complete."""
        with self._lock:
            self.settled += rows
        if self._waiters:
            self._wake()

    def close(self) -> None:
        """The store stopped: every waiter wakes (and finds its rows unsettled)."""
        with self._lock:
            self.closed = True
        self._wake()

    async def wait(self, ticket: int, timeout: float) -> bool:
        """Whether the rows up to ``ticket`` were settled within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.settled >= ticket:
                return True
            if self.closed:
                return False
            self._waiters.append((ticket, loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters = [w for w in self._waiters if w[2] is not future]
        return self.settled >= ticket

    def _wake(self) -> None:
        with self._lock:
            done = [w for w in self._waiters if w[0] <= self.settled or self.closed]
            self._waiters = [w for w in self._waiters if w[0] > self.settled and not self.closed]
        for _, loop, future in done:
            loop.call_soon_threadsafe(_resolve, future)
