"""Stopping within a container's grace: SIGTERM, then SIGKILL 10 s later.

Everything the service does when asked to stop shares one budget (``shutdown_s``, 8 s by
default), counted from the signal: requests in progress get at most ``DRAIN_SHARE`` of it
(uvicorn's graceful timeout), the shadow a small slice of what is left, and the history's queue
the rest. A budget split into fixed parts (uvicorn 10 s, shadow 2 s, history 30 s + 5 s) added
up to 47 s, so a runtime's SIGKILL came first, and with a slow database 16,000 acknowledged
scores vanished without a line in the log. Now the history always gets to log the count of
what it could not write before the deadline, and the process exits before the SIGKILL.
"""

from __future__ import annotations

import time
from types import FrameType
from typing import TYPE_CHECKING

import anyio
import uvicorn

if TYPE_CHECKING:
    from leadml.history.store import ScoreHistory
    from serve.model.shadow import ShadowScorer

#: Share of the budget requests in progress get to finish (a score takes milliseconds; a
#: ``history_sync`` request waits for its commit).
DRAIN_SHARE = 0.4
#: Share of what is left after the drain given to the shadow's queue (its scores are only
#: compared, never answered); the history's queue gets the rest.
SHADOW_SHARE = 0.15
#: Kept back for the log line and the exit itself.
EXIT_MARGIN_S = 0.3


def drain_s(budget: float) -> float:
    """uvicorn's ``timeout_graceful_shutdown`` for a budget."""
    return budget * DRAIN_SHARE


class StoppingServer(uvicorn.Server):
    """uvicorn's server that notes when it was asked to stop, so the history's flush gets the
    time the drain did not use (not a fixed slice that ignores it)."""

    def __init__(self, config: uvicorn.Config, budget: float) -> None:
        super().__init__(config)
        self.budget = budget
        self.stop_by: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stop_by is None:
            self.stop_by = time.monotonic() + self.budget
            app = self.config.app
            state = getattr(app, "state", None)
            if state is not None:
                state.stop_by = self.stop_by
        super().handle_exit(sig, frame)


def stop_deadline(stop_by: float | None, budget: float) -> float:
    """When closing must be over: the signal's deadline, or (stopped another way, e.g. a test
    server told to exit) the budget minus the drain, from now."""
    if stop_by is not None:
        return stop_by - EXIT_MARGIN_S
    return time.monotonic() + budget - drain_s(budget) - EXIT_MARGIN_S


async def close_within(
    deadline: float, shadow: ShadowScorer | None, store: ScoreHistory | None
) -> None:
    """Close the shadow (its last rows go to the history), then the history, by ``deadline``."""
    if shadow is not None:
        left = max(0.0, deadline - time.monotonic())
        await anyio.to_thread.run_sync(shadow.close, left * SHADOW_SHARE if store else left)
    if store is not None:
        left = max(0.0, deadline - time.monotonic())
        await anyio.to_thread.run_sync(store.close, min(store.flush_s, left))
