"""Outcome posts never hold the score writer out (issue 27, finding 6): on SQLite, eight
posters of 10,000 outcomes each stopped history writes for about 15 s and 7 of 21 posts
answered 503. Over real HTTP against a real server: 24 concurrent posters of 10,000 while a
client scores leads with ids, a monitor of ``/ready``, and a second writer of the same SQLite
file in its own process (as another server or the CLI would be): no 503 anywhere, ``/ready``
stays ready, every acknowledged outcome and score is stored, and the other writer is never held
out for long (each post wrote in one transaction before: 4.6 s at most on this test's machine;
in transactions of 500 leads paced by their own length: about 0.6 s).
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.support.history import fill_history
from tests.support.servers import lead_payloads

POSTERS = 24
PER_POST = 10_000
#: Longest another writer of the file may wait for SQLite's write lock meanwhile.
HELD_OUT_S = 2.0
#: A second writer: takes SQLite's write lock every 20 ms and appends each wait to a file.
PROBE = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)
with open(sys.argv[2], "w", buffering=1) as out:
    while True:
        asked = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        out.write(f"{time.perf_counter() - asked}\\n")
        conn.execute("ROLLBACK")
        time.sleep(0.02)
"""


def test_eight_posters_on_sqlite_never_lock_the_score_writer_out(start_server, new_leads) -> None:
    server = start_server()
    path = Path(server.settings.history_database.removeprefix("sqlite:///"))
    fill_history(path, "default", POSTERS * PER_POST, [{}])  # leads default-0 … default-79999
    leads = lead_payloads(new_leads.head(50))
    stop = threading.Event()
    scored: list[str] = []
    refused: list[str] = []
    states: set[str] = set()

    def score() -> None:
        with server.client() as client:
            i = 0
            while not stop.is_set():
                lead = {**leads[i % len(leads)], "lead_id": f"LIVE-{i}"}
                r = client.post("/v1/score?explain=false", json={"leads": [lead]})
                (scored if r.status_code == 200 else refused).append(f"score {r.status_code}")
                if r.status_code == 200:
                    scored[-1] = lead["lead_id"]
                i += 1

    def ready() -> None:
        with server.client() as client:
            while not stop.is_set():
                states.add(client.get("/ready").json()["status"])
                time.sleep(0.05)

    def post(n: int) -> Any:
        outcomes = [
            {"lead_id": f"default-{i}", "converted": i % 3 == 0}
            for i in range(n * PER_POST, (n + 1) * PER_POST)
        ]
        with httpx.Client(base_url=server.url, timeout=120) as client:
            return client.post("/v1/outcomes", json={"outcomes": outcomes})

    # Another writer of the same file, as the score writer is, in a process of its own (so
    # that it measures the database's lock, not this process's GIL): how long it is held out.
    waits_file = path.with_name("waits.txt")
    probe = subprocess.Popen([sys.executable, "-c", PROBE, str(path), str(waits_file)])
    with ThreadPoolExecutor(POSTERS + 2) as pool:
        background = [pool.submit(score), pool.submit(ready)]
        try:
            started = time.perf_counter()
            posts = [pool.submit(post, n) for n in range(POSTERS)]
            answers = [p.result() for p in posts]
            took = time.perf_counter() - started
            time.sleep(0.5)
        finally:
            stop.set()
            probe.terminate()
            probe.wait()
        for task in background:
            task.result()
    waits = [float(w) for w in waits_file.read_text().split()]
    codes = [a.status_code for a in answers]
    print(
        f"\n{POSTERS} posters of {PER_POST:,}: {took:.1f} s, answers {codes}; "
        f"{len(scored)} scores meanwhile, refused {len(refused)}; /ready {sorted(states)}; "
        f"a writer held out {max(waits) * 1000:.0f} ms at most (p50 "
        f"{statistics.median(waits) * 1000:.1f} ms, {len(waits)} tries)"
    )
    assert codes == [200] * POSTERS, [a.text for a in answers if a.status_code != 200]
    assert sum(a.json()["recorded"] for a in answers) == POSTERS * PER_POST
    assert refused == []
    assert states == {"ready"}
    assert max(waits) < HELD_OUT_S
    assert server.history.flush(10)
    with sqlite3.connect(path) as conn:
        outcomes = conn.execute("SELECT count(*) FROM lead_outcomes").fetchone()[0]
        live = {
            r[0]
            for r in conn.execute("SELECT lead_id FROM lead_scores WHERE lead_id LIKE 'LIVE-%'")
        }
    assert outcomes == POSTERS * PER_POST
    assert set(scored) <= live
