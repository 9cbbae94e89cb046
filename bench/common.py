"""Helpers shared by the benchmarks: run a child process and read its own peak memory. Starting
and stopping a server on a free loopback port is the tests' own code (tests/support/processes),
used here as it is: one copy for both."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the project's own helpers: tests/support
    sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, start_process, stop_process  # noqa: E402, F401

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


def run_measured(args: list[str], env: dict | None = None, cwd: Path | None = None) -> dict:
    """Wall time and peak RSS (MiB) of one child process, from the kernel's own accounting."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{args[0]} failed ({code}):\n{err[-2000:]}\n{out[-2000:]}")
    return {"seconds": wall, "peak_mib": usage.ru_maxrss / 1024, "stdout": out, "stderr": err}


def table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table, for pasting into the README."""
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "".join("| " + " | ".join(str(r[c]) for c in columns) + " |\n" for r in rows)
