"""Helpers shared by the benchmarks (and the tests that start real servers): run a child
process and read its own peak memory; start a server on a free loopback port and stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
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


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(
    args: list[str], env: dict[str, str], ready_url: str, log: Path, cwd: Path | None = None
) -> subprocess.Popen:
    """Start a server with its output in ``log``; return once ``ready_url`` answers 200."""
    handle = log.open("w")
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{args[0]} exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    proc.kill()
    raise RuntimeError(f"{args[0]} did not answer {ready_url}: {log.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, as a service manager stops it; killed if it does not end in 20 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
