"""Servers in their own processes: what a crash, a SIGTERM or a port clash is tested against.

A crash in a thread would end the test run, so ``leadml serve`` (and anything else that must
die alone) runs here as a child process on a free loopback port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


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
        time.sleep(0.1)
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


class ServeProcess:
    """``leadml serve`` as its own process: what a model that crashes LightGBM, or a SIGTERM from
    a container runtime, is tested against."""

    def __init__(self, home: Path, model_ref: str | Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "serve.log"
        command = [sys.executable, "-m", "leadml", "serve", "--model", str(model_ref)]
        command += ["--port", str(self.port), *args]
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LEADML_")},
            "LEADML_HOME": str(home),
            "LEADML_HISTORY_URL": f"sqlite:///{home / 'history.db'}",
            "LEADML_ALLOW_SPARSE": "true",
            **env,
        }
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                command, cwd=home, env=environment, stdout=output, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 60) -> ServeProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"leadml serve ended ({self.process.returncode}): {self.text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"leadml serve did not start: {self.text()}")

    def text(self) -> str:
        """What the server logged so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stop(self, grace: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds, as a container runtime does."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
