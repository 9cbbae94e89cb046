"""Progress that is seen on a terminal and off it.

rich's status spinner draws only on a terminal: run from cron, CI, a container or ``| tee``,
a four-minute ``leadml retrain`` printed nothing at all until it finished, which reads as a
hang. Off a terminal the same status is written as plain lines instead: the step as soon as it
changes (after the first two seconds: a quick command prints none), and the step again every
few seconds while it lasts, with the time since the start
(``… Backtesting over 4 folds, 38 s``). Lines go to stderr with the other progress, so stdout
still holds only results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console

from leadml.cli.render import console

#: Off a terminal, the current step is written again after this many seconds without a line.
PLAIN_EVERY_S = 5.0
#: ... and a new step at most this often (tuning trials come faster than a log wants them).
MIN_GAP_S = 1.0
#: Nothing is written in the first seconds: a command that finishes or stops (one clear error
#: line) that fast needs no progress, and its output stays what it says.
QUIET_S = 2.0


class Status(Protocol):
    """What a command calls while it works: rich's ``Status`` and ``PlainProgress`` alike."""

    def update(self, status: str) -> None: ...


class PlainProgress:
    """The current step as plain lines: at once when it changes, then every ``every_s``."""

    def __init__(self, out: Console, message: str, every_s: float = PLAIN_EVERY_S) -> None:
        self.out = out
        self.every_s = every_s
        self.started = time.monotonic()
        self._message = message
        self._said: str | None = None
        self._last = float("-inf")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="leadml-progress", daemon=True)

    def update(self, status: str) -> None:
        with self._lock:
            self._message = status
        self._wake.set()

    def __enter__(self) -> PlainProgress:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _due(self) -> float:
        """Seconds until the next line is due (0: now)."""
        with self._lock:
            changed = self._message != self._said
        gap = MIN_GAP_S if changed else self.every_s
        now = time.monotonic()
        return max(0.0, self._last + gap - now, self.started + QUIET_S - now)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._due())
            self._wake.clear()
            if not self._stop.is_set() and self._due() == 0.0:
                self._say()

    def _say(self) -> None:
        with self._lock:
            message = self._message
        elapsed = time.monotonic() - self.started
        self.out.print(
            f"… {message}, {elapsed:.0f} s", markup=False, highlight=False, soft_wrap=True
        )
        self._said, self._last = message, time.monotonic()


@contextmanager
def progress(message: str, *, out: Console = console) -> Iterator[Status]:
    """A spinner on a terminal, plain lines every few seconds off one; ``update`` either way."""
    if out.is_terminal:
        with out.status(message) as status:
            yield status
    else:
        with PlainProgress(out, message, PLAIN_EVERY_S) as plain:
            yield plain
