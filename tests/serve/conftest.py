"""Fixtures for the service: real uvicorn servers on ephemeral loopback ports, real HTTP.

The servers and processes themselves live in tests/support (servers.py, processes.py); here
they get their scopes: started per test, per module, or once per session (the browser), and
stopped (graceful shutdown, history flushed) at the end of that scope.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, sync_playwright

from leadml.modeling.finish import TrainResult
from tests.support.browser import ARGS, chromium_path
from tests.support.processes import ServeProcess
from tests.support.servers import LiveServer, serve_settings


@pytest.fixture(scope="session")
def bundle(trained: TrainResult) -> Path:
    assert trained.bundle is not None
    return trained.bundle


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


@pytest.fixture()
def copied_bundle(bundle: Path, tmp_path: Path) -> Path:
    """A private copy of the trained bundle that a test may overwrite or corrupt."""
    target = tmp_path / "bundle"
    shutil.copytree(bundle, target)
    return target


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every browser test of the session (a launch costs seconds);
    tests open their own contexts, which share nothing."""
    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield browser
        browser.close()
