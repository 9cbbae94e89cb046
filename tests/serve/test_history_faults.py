"""The score history's database failing: scoring still answers 200 with scores; it is logged.

Ways a history database goes missing: a SQLite path that cannot be written (its folder is a
file, the path is a folder, it sits on a read-only file system), a PostgreSQL URL whose port
nothing listens on, and the real PostgreSQL of ``make test`` failing mid-run: first the server
kills the service's connections, then the network to it is cut and restored. Rows scored
during the outage are written once it is back: none are lost.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.support.processes import free_port

KEY = "history-fault-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def score_leads(client: httpx.Client, prefix: str, count: int) -> list[dict]:
    """Score ``count`` leads one request at a time; each must answer 200 with a full score."""
    scores = []
    for i in range(count):
        lead = {"lead_id": f"{prefix}{i}", "employees": 20 + i, "budget_range": "50k–100k"}
        response = client.post("/v1/score", json={"leads": [lead]}, headers=AUTH)
        assert response.status_code == 200, response.text
        (score,) = response.json()["scores"]
        assert score["lead_id"] == f"{prefix}{i}" and 0.0 <= score["probability"] <= 1.0
        assert score["grade"] in "ABCD" and score["criteria"] and score["reasons"] is not None
        scores.append(score)
    return scores


def unavailable_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite-folder-is-a-file":
        (tmp_path / "not-a-folder").write_text("")
        return f"sqlite:///{tmp_path / 'not-a-folder' / 'history.db'}"
    if kind == "sqlite-path-is-a-folder":
        (tmp_path / "history.db").mkdir()
        return f"sqlite:///{tmp_path / 'history.db'}"
    if kind == "sqlite-read-only-file-system":
        return "sqlite:////proc/leadml-history.db"  # procfs: no file can be created there
    assert kind == "postgres-closed-port"
    return f"postgresql+psycopg://leadml:pw-not-logged@127.0.0.1:{free_port()}/leadml"


@pytest.mark.parametrize(
    "kind",
    [
        "sqlite-folder-is-a-file",
        "sqlite-path-is-a-folder",
        "sqlite-read-only-file-system",
        "postgres-closed-port",
    ],
)
def test_scoring_answers_when_the_history_cannot_be_written(
    kind: str, start_server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="leadml.history")
    server = start_server(
        history_url=unavailable_url(kind, tmp_path), api_keys=KEY, history_flush_s=0.5
    )
    with server.client() as client:
        scores = score_leads(client, "U", 8)
        assert all(s["trend"] is None and s["previous_score"] is None for s in scores)
        assert not server.history.flush(timeout=0.5)
        ready = client.get("/ready", headers=AUTH).json()
        assert ready["status"] == "degraded" and ready["history"]["ok"] is False
        assert ready["history"]["pending"] == 8 and ready["history"]["written"] == 0
        assert ready["history"]["dropped"] == 0
        assert client.get("/v1/history", headers=AUTH).status_code == 503
    logged = [r for r in caplog.records if r.name == "leadml.history"]
    assert 1 <= len(logged) <= 3, "logged once (with its cause), not once per request"
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in logged)
    assert any("cannot" in r.getMessage() for r in logged)
    assert all("pw-not-logged" not in r.getMessage() for r in logged)


class CuttableLink:
    """A loopback TCP relay to the database that the test can cut and restore, like a network.

    Cutting closes the listening socket (new connections are refused) and resets every open
    connection; restoring listens on the same port again.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CuttableLink:
        self.restore()
        return self

    def __exit__(self, *_: object) -> None:
        self.cut()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, args=(listener, self._stop))
        self._thread.start()

    def cut(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                conn.settimeout(None)
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    conn.close()
                    continue
                with self._lock:
                    self._sockets += [conn, upstream]
                for a, b in ((conn, upstream), (upstream, conn)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def kill_connections(url: str, application: str) -> int:
    """What a DBA or a failover does: PostgreSQL terminates the service's sessions."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": application},
            ).all()
    finally:
        engine.dispose()
    return sum(1 for (ok,) in killed if ok)


@pytest.fixture()
def link_to_postgres(postgres_url: str) -> Iterator[CuttableLink]:
    target = sa.make_url(postgres_url)
    with CuttableLink(target.host or "127.0.0.1", target.port or 5432) as link:
        yield link


@pytest.mark.postgres
def test_postgres_killed_then_cut_mid_run_loses_nothing(
    postgres_url: str,
    link_to_postgres: CuttableLink,
    start_server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="leadml.history")
    application = f"leadml-fault-{uuid.uuid4().hex[:8]}"
    via_link = (
        sa.make_url(postgres_url)
        .set(host="127.0.0.1", port=link_to_postgres.port)
        .update_query_dict({"application_name": application})
    )
    server = start_server(history_url=via_link.render_as_string(hide_password=False), api_keys=KEY)
    with server.client() as client:
        score_leads(client, "A", 10)
        assert server.history.flush(timeout=15)

        # 1. PostgreSQL terminates the service's sessions: the pool reconnects, nothing shows.
        assert kill_connections(postgres_url, application) >= 1
        again = score_leads(client, "A", 3)
        assert [s["trend"] for s in again] == ["steady"] * 3  # previous scores still known
        score_leads(client, "B", 10)
        assert server.history.flush(timeout=15)

        # 2. The network to the database is cut: scoring answers at once, rows wait in memory.
        link_to_postgres.cut()
        started = time.perf_counter()
        score_leads(client, "C", 10)
        assert time.perf_counter() - started < 15
        assert not server.history.flush(timeout=1.0)
        ready = client.get("/ready", headers=AUTH).json()
        assert ready["history"]["ok"] is False and ready["history"]["pending"] == 10
        assert client.get("/v1/history", headers=AUTH).status_code == 503

        # 3. The network comes back: the queued rows are written, none lost, none twice.
        link_to_postgres.restore()
        assert server.history.flush(timeout=60), server.history.status()
        assert client.get("/ready", headers=AUTH).json()["history"]["ok"] is True
        assert len(client.get("/v1/history/C9", headers=AUTH).json()["scores"]) == 1

    engine = sa.create_engine(postgres_url)  # straight to the database, not through the link
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT lead_id FROM lead_scores")).scalars().all()
    engine.dispose()
    expected = [f"A{i}" for i in range(10)] + [f"A{i}" for i in range(3)]
    expected += [f"B{i}" for i in range(10)] + [f"C{i}" for i in range(10)]
    assert sorted(rows) == sorted(expected)

    messages = [r.getMessage() for r in caplog.records if r.name == "leadml.history"]
    down = [m for m in messages if "cannot" in m]
    back = [m for m in messages if "is back" in m]
    assert 1 <= len(down) <= 2 and len(back) == 1, messages
    assert all("leadml:leadml@" not in m for m in messages)  # the password stays out


def test_blank_lead_ids_are_no_history_key(start_server) -> None:
    """Found by the stateful fuzz: "" was a lead id, so unrelated id-less leads shared a trend."""
    server = start_server()
    with server.client() as client:
        for lead_id in ["", "  ", ""]:
            body = {"leads": [{"lead_id": lead_id, "employees": 5}, {"employees": 9000}]}
            scores = client.post("/v1/score", json=body).json()["scores"]
            assert [(s["lead_id"], s["trend"], s["previous_score"]) for s in scores] == [
                (None, None, None)
            ] * 2
        assert server.history.flush()
        assert client.get("/v1/history").json()["leads"] == []
        assert client.get("/v1/history/%20").status_code == 404
