"""Real uvicorn servers on ephemeral loopback ports, spoken to over TCP as a CRM would.

Each server runs ``uvicorn.Server`` in a thread of the test process, on a socket bound to
127.0.0.1 port 0 (the OS picks a free port). ``stop`` shuts it down gracefully, so the history
writer flushes as it would under a service manager.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import uvicorn

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


def lead_payloads(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready lead dicts: NaN cells left out (missing), numpy scalars made plain."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({k: v for k, v in row.items() if not (isinstance(v, float) and v != v)})
    return records
