"""Nothing acknowledged is lost: a history that cannot keep up makes the API answer 503 with
Retry-After *before* scoring, and every lead answered with 200 is in the table, exactly; a
SIGTERM waits for the queue to reach the database.

The database is made slow for real (a SQLAlchemy event sleeps before each insert into the
real SQLite file), not replaced.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.support.processes import free_port, start_process

LOAD_S = 8.0
CLIENTS = 4
LEADS_PER_REQUEST = 50
#: Each insert of up to 1,000 rows waits this long: at most ~1,000 rows/s reach the table,
#: while four clients offer a few times that even on a busy machine.
INSERT_DELAY_S = 1.0
QUEUE = 2000


def stored_ids(path: Path) -> list[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text("SELECT lead_id FROM lead_scores")).scalars())
    finally:
        engine.dispose()


def test_a_slow_history_answers_503_and_loses_no_acknowledged_score(start_server, tmp_path):
    path = tmp_path / "slow-history.db"
    server = start_server(history_url=f"sqlite:///{path}", history_queue=QUEUE)

    @sa.event.listens_for(server.history.engine, "before_cursor_execute")
    def slow_insert(_conn, _cursor, statement: str, *_args) -> None:
        if statement.startswith("INSERT INTO lead_scores"):
            time.sleep(INSERT_DELAY_S)

    acknowledged: list[str] = []
    refused: list[str] = []
    statuses: Counter[int] = Counter()
    waits: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + LOAD_S

    def client(number: int) -> None:
        with server.client() as http:
            request = 0
            while time.monotonic() < deadline:
                ids = [f"C{number}-R{request}-L{i}" for i in range(LEADS_PER_REQUEST)]
                body = {"leads": [{"lead_id": i, "employees": 10 + len(i)} for i in ids]}
                response = http.post("/v1/score?explain=false", json=body)
                request += 1
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 200:
                        got = [s["lead_id"] for s in response.json()["scores"]]
                        assert got == ids
                        acknowledged.extend(ids)
                    elif response.status_code == 503:
                        refused.extend(ids)
                        waits.append(response.headers.get("retry-after", ""))
                if response.status_code == 503:  # as a well-behaved CRM does
                    time.sleep(min(float(response.headers["retry-after"]), 1.0))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_S + 60)
    peak = server.history.status()
    server.stop()  # uvicorn's graceful shutdown: the lifespan flushes the queue

    status = server.history.status()
    stored = stored_ids(path)
    print(
        f"\nslow history: {statuses[200]} requests answered 200 ({len(acknowledged)} leads), "
        f"{statuses[503]} answered 503 ({len(refused)} leads not scored); "
        f"{len(stored)} rows in the table; status at the end of the load {peak}, "
        f"after shutdown {status}"
    )
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0, "the queue never filled: the test proves nothing"
    assert statuses[200] > 0
    assert waits and all(w.isdigit() and int(w) >= 1 for w in waits)
    assert len(stored) == len(acknowledged)  # exactly: none lost, none twice
    assert set(stored) == set(acknowledged) and not set(stored) & set(refused)
    assert (status["dropped"], status["pending"]) == (0, 0)
    assert status["written"] == len(acknowledged)


def test_sigterm_waits_for_the_queue_to_reach_the_database(bundle: Path, tmp_path: Path):
    """The real process and signal: the database is locked when SIGTERM arrives, and freed
    6 s later (longer than the old 5-second flush): every acknowledged score is written."""
    path = tmp_path / "history.db"
    port = free_port()
    # leads of a few fields: sparse leads allowed (their refusal is tested in test_crm_inputs)
    env = {
        **os.environ,
        "LEADML_HOME": str(tmp_path),
        "LEADML_API_KEYS": "",
        "LEADML_ALLOW_SPARSE": "true",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    log = tmp_path / "serve.log"
    args = [sys.executable, "-m", "leadml", "serve", "--model", str(bundle)]
    args += ["--port", str(port), "--history", f"sqlite:///{path}"]
    proc = start_process(args, env, f"http://127.0.0.1:{port}/ready", log)
    try:
        locker = sqlite3.connect(path, timeout=10, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # a backup, a long report: the writer must wait
        acknowledged: list[str] = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for r in range(10):
                ids = [f"T{r}-{i}" for i in range(LEADS_PER_REQUEST)]
                body = {"leads": [{"lead_id": i} for i in ids]}
                response = http.post("/v1/score?explain=false", json=body)
                assert response.status_code == 200, response.text
                acknowledged.extend(ids)
        proc.send_signal(signal.SIGTERM)
        time.sleep(6.0)
        assert proc.poll() is None, "the process must wait for the queue, not exit"
        locker.execute("ROLLBACK")
        locker.close()
        # uvicorn ends a graceful shutdown by re-raising the signal it caught.
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    output = log.read_text()
    assert "are lost" not in output, output[-2000:]
    assert sorted(stored_ids(path)) == sorted(acknowledged)
