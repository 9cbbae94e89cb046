"""Fixtures for the service: real uvicorn servers on ephemeral loopback ports, real HTTP.

Each server runs ``uvicorn.Server`` in a thread of the test process, on a socket bound to
127.0.0.1 port 0 (the OS picks a free port), so tests talk to it over TCP exactly as a CRM
would. Servers are stopped (graceful shutdown, history flushed) at the end of their scope.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import uvicorn

from leadml.modeling.finish import TrainResult
from serve.app import create_app
from serve.settings import ServeSettings


class LiveServer:
    """A uvicorn server in a background thread; ``url`` is its base address."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()

    @property
    def history(self) -> Any:
        return self.app.state.history

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def bundle(trained: TrainResult) -> Path:
    assert trained.bundle is not None
    return trained.bundle


def serve_settings(home: Path, model_ref: str | Path, **overrides: Any) -> ServeSettings:
    """Settings for a test server; nothing is read from the developer's environment."""
    values: dict[str, Any] = {
        "home": home,
        "model_ref": str(model_ref),
        "api_keys": "",
        "history_url": f"sqlite:///{home / 'history.db'}",
        "mlflow_tracking_uri": None,
        # Tests of history, auth, reloads and faults send leads of a few fields; the refusal
        # of sparse leads (the default) is tested on its own in test_crm_inputs.py.
        "allow_sparse": True,
    }
    values.update(overrides)
    return ServeSettings(**values)


@pytest.fixture()
def start_server(
    tmp_path_factory: pytest.TempPathFactory, bundle: Path
) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with per-test settings; all are stopped when the test ends."""
    started: list[LiveServer] = []

    def start(model_ref: str | Path | None = None, **overrides: Any) -> LiveServer:
        home = tmp_path_factory.mktemp("serve-home")
        settings = serve_settings(home, model_ref or bundle, **overrides)
        server = LiveServer(settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, bundle: Path) -> Iterator[LiveServer]:
    """One open (no keys) server with a SQLite history, shared by a test module."""
    home = tmp_path_factory.mktemp("serve-api")
    server = LiveServer(serve_settings(home, bundle)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(api: LiveServer) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client


@pytest.fixture(scope="session")
def new_leads(leads: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """Leads as a CRM would send them: the inputs only (no outcome), PII included."""
    return leads.drop(columns=[schema.target]).tail(1500).reset_index(drop=True)


def lead_payloads(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready lead dicts: NaN cells left out (missing), numpy scalars made plain."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({k: v for k, v in row.items() if not (isinstance(v, float) and v != v)})
    return records


@pytest.fixture()
def copied_bundle(bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the trained bundle that a test may overwrite or corrupt."""
    target = tmp_path / "bundle"
    shutil.copytree(bundle, target)
    return target


class ServeProcess:
    """``leadml serve`` as its own process: what a model that crashes LightGBM, or a SIGTERM from
    a container runtime, is tested against (a crash in a thread would end the test run)."""

    def __init__(self, home: Path, model_ref: str | Path, env: dict[str, str], *args: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
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


@pytest.fixture()
def serve_process(
    tmp_path_factory: pytest.TempPathFactory, bundle: Path
) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``leadml serve`` processes (``env``: extra ``LEADML_*`` settings; ``args``: extra
    flags such as ``--shadow REF``); each is stopped when the test ends."""
    started: list[ServeProcess] = []

    def start(
        model_ref: str | Path | None = None, *args: str, env: dict[str, str] | None = None
    ) -> ServeProcess:
        home = tmp_path_factory.mktemp("serve-process")
        process = ServeProcess(home, model_ref or bundle, env or {}, *args)
        started.append(process)
        return process.wait_ready()

    yield start
    for process in started:
        process.stop()
