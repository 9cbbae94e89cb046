"""Heavy work off the scoring path: history reads and outcome writes in threads of their own.

Scoring hops to worker threads too (history look-ups, big batches), from anyio's default pool.
A read that held one of those threads while it waited for the database, or grouped a tenant's
whole history, made thirty concurrent ``GET /v1/history`` hold thirty of them, and one new lead
waited 30 s for a thread (issue 27). So heavy work never takes them: reads (``/v1/history``,
``/v1/monitor``) run on at most ``READ_THREADS`` threads of their own and queue among
themselves (waiting for a thread holds none), and outcome posts are written one at a time
(``WRITE_THREADS``): on SQLite two posters would only queue on the database's one write lock,
where they hold the score writer out; one at a time, each yields to it between its chunks
(``leadml.history.outcomes``).

Big request bodies (``serve.edge.body``) and reloads (``POST /v1/admin/reload``) take threads of
their own here too. One ``HeavyWork`` per app (``app.state.heavy``), made with the app, read by
routes through ``Heavy``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request

#: Threads for heavy reads: one monitor computation and a listing beside it.
READ_THREADS = 2
#: Outcome posts written at once.
WRITE_THREADS = 1
#: Worker threads parsing big bodies at once. Parsing holds the GIL, so more threads would not
#: parse faster, only take the GIL from the event loop more often.
PARSE_THREADS = 2

T = TypeVar("T")


class HeavyWork:
    """The limiters heavy reads, outcome writes, big bodies and reloads run under."""

    def __init__(self, read_threads: int = READ_THREADS, write_threads: int = WRITE_THREADS):
        self.reads = anyio.CapacityLimiter(read_threads)
        self.writes = anyio.CapacityLimiter(write_threads)
        self.parses = anyio.CapacityLimiter(PARSE_THREADS)
        #: a reload's own thread: a slow download never waits for, nor holds, another's
        self.reloads = anyio.CapacityLimiter(1)

    async def read(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on a read thread, once one is free."""
        return await anyio.to_thread.run_sync(work, *args, limiter=self.reads)

    async def write(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on the outcome writer's thread, once it is free."""
        return await anyio.to_thread.run_sync(work, *args, limiter=self.writes)


async def _heavy(request: Request) -> HeavyWork:
    return request.app.state.heavy


Heavy = Annotated[HeavyWork, Depends(_heavy)]
