"""What a request body may cost the server (issue 27, finding 4), over real HTTP.

A request without a valid key is refused before its body is read, so four key-less clients
posting 2 MB bodies leave a keyed client's latency near idle; a keyed body of 150,000 unknown
fields is refused with an answer of about 1 KB while a concurrent ``GET /health`` is answered
at once; every 422 is a few KB whatever the body held.

The figures are printed (``pytest -s``) for the issue's closing note.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import LiveServer

KEY = "body-key-0123456789"
ADMIN = "body-admin-9876543210"
BEARER = {"Authorization": f"Bearer {KEY}"}
JSON = {"content-type": "application/json"}
#: 200,000 tiny leads (1.6 MB): the most JSON objects (the costliest parse) per byte.
FLOOD_OBJECTS = 200_000
#: ~2 MB: one lead of 150,000 unknown fields, as the review sent it.
UNKNOWN = json.dumps({"leads": [{f"f{i}": 1 for i in range(1, 150_001)}]}).encode()
LEAD = {"leads": [{"lead_id": "cost-1", "employees": 40, "budget_range": "> 250k"}]}
#: The most a 4xx answer may be, whatever the body held.
SMALL = 5_000


@pytest.fixture()
def keyed(start_server) -> LiveServer:
    return start_server(api_keys=f"crm-a:{KEY}", admin_keys=f"ops:{ADMIN}", body_timeout_s=5.0)


def latencies(client: httpx.Client, n: int) -> list[float]:
    """``n`` explained scores of one lead, as a CRM sends them one by one."""
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.post("/v1/score", json=LEAD, headers=BEARER)
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return out


#: A key-less client in its own process (as the review's were; threads of the test process
#: would share its GIL with the server and send far less): it posts its body until ``stop``
#: exists, says "started" after its first answer, and prints its statuses as it ends.
FLOODER = """
import json, sys
from pathlib import Path
import httpx

url, size, stop = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
body = b'{"leads": [' + b",".join([b'{"a":1}'] * size) + b"]}"
headers = {"content-type": "application/json"}
statuses, sent = {}, 0
with httpx.Client(base_url=url, timeout=30) as client:
    while not stop.exists():
        try:
            status = client.post("/v1/score", content=body, headers=headers).status_code
        except httpx.TransportError:  # the server may close a key-less upload
            status = 0
        statuses[status] = statuses.get(status, 0) + 1
        sent += 1
        if sent == 1:
            print("started", flush=True)
print(json.dumps({"sent": sent, "statuses": statuses}), flush=True)
"""


class Flood:
    """``clients`` processes posting ``{"leads": [<size> tiny objects]}`` without a key."""

    def __init__(self, url: str, size: int, stop: Path, clients: int = 4) -> None:
        self.stop = stop
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-c", FLOODER, url, str(size), str(stop)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(clients)
        ]
        self.sent = 0
        self.statuses: set[int] = set()

    def __enter__(self) -> Flood:
        self.stop.unlink(missing_ok=True)
        for process in self.processes:
            assert process.stdout is not None and process.stdout.readline() == "started\n"
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.touch()
        for process in self.processes:
            out, _ = process.communicate(timeout=60)
            summary = json.loads(out.strip().splitlines()[-1])
            self.sent += summary["sent"]
            self.statuses |= {int(s) for s in summary["statuses"]}


class HealthWatch:
    """``GET /health`` every 5 ms in a thread; ``worst`` is its slowest answer."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.worst = 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.server.client() as client:
            while not self.done.is_set():
                start = time.perf_counter()
                assert client.get("/health").status_code == 200
                self.worst = max(self.worst, time.perf_counter() - start)
                time.sleep(0.005)

    def __enter__(self) -> HealthWatch:
        self.thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(0.2)
        self.done.set()
        self.thread.join(10)


def test_keyless_floods_leave_keyed_latency_near_idle(keyed: LiveServer, tmp_path: Path) -> None:
    """Four key-less clients posting 1.6 MB bodies as fast as they are answered cost a keyed
    client no more than four posting empty ones: the body is never read. Before, they were
    parsed first (p50 from 1.5 ms idle to 98 ms here, 10 ms to 1.0 s in the review)."""
    stop = tmp_path / "stop"
    with keyed.client() as client:
        latencies(client, 10)  # warm up
        idle = statistics.median(latencies(client, 50))
        with Flood(keyed.url, 1, stop) as tiny:
            small = statistics.median(latencies(client, 50))
        with Flood(keyed.url, FLOOD_OBJECTS, stop) as flood:
            loaded = statistics.median(latencies(client, 50))
    print(
        f"\nkeyed p50: idle {idle * 1000:.1f} ms; with 4 key-less posters of 15-byte bodies "
        f"{small * 1000:.1f} ms ({tiny.sent} posts), of 1.6 MB bodies {loaded * 1000:.1f} ms "
        f"({flood.sent} posts, statuses {sorted(flood.statuses)})"
    )
    assert flood.statuses <= {401, 0} and 401 in flood.statuses, flood.statuses
    # What this tells apart is whether the bodies are read: parsed first, the keyed p50 was
    # 65x idle (98 ms against 1.5 ms); unread, it stays within a few times of the tiny-body
    # flood, whose medians of a few milliseconds swing 2x from run to run on a shared 2-core
    # machine (4.8 ms against 2.1 ms seen once in a clean clone). The bound is set between
    # the two, not at the goal: speed goals are measured in bench/, not asserted here.
    assert loaded <= 6 * idle, (idle, loaded)
    assert loaded <= 5 * small, (small, loaded)


def test_a_keyless_request_is_answered_before_its_body_arrives(keyed: LiveServer) -> None:
    """Headers announcing 2 MB and 11 bytes of it: the 401 (403 for a scoring key on an admin
    route) comes at once, not a 408 at the body deadline, and the connection is closed."""
    for path, header, status in [
        ("/v1/score", "", 401),
        ("/v1/outcomes", "Authorization: Bearer wrong\r\n", 401),
        ("/v1/admin/reload", f"Authorization: Bearer {KEY}\r\n", 403),
    ]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{keyed.port}\r\n{header}"
            "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", keyed.port), timeout=10) as sock:
            start = time.monotonic()
            sock.sendall(head.encode() + b'{"leads": [')
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            took = time.monotonic() - start
        assert received.startswith(f"HTTP/1.1 {status}".encode()), received[:300]
        assert b"connection: close" in received.lower()
        assert took < 2, took  # the body deadline is 5 s
    with keyed.client() as client:  # a small body is in already: its connection is kept
        first = client.post("/v1/score", json=LEAD)
        assert first.status_code == 401 and "connection" not in first.headers
        assert client.post("/v1/score", json=LEAD, headers=BEARER).status_code == 200


def test_a_body_of_150000_unknown_fields_is_a_small_quick_422(keyed: LiveServer) -> None:
    with keyed.client() as client, HealthWatch(keyed) as watch:
        start = time.perf_counter()
        response = client.post("/v1/score", content=UNKNOWN, headers={**BEARER, **JSON})
        took = time.perf_counter() - start
    print(
        f"\n150,000 unknown fields: {response.status_code} in {took * 1000:.0f} ms, "
        f"{len(response.content):,} bytes; worst concurrent /health {watch.worst * 1000:.0f} ms"
    )
    assert response.status_code == 422
    assert len(response.content) < SMALL
    detail = response.json()["detail"]
    assert detail.startswith("150,000 unknown fields: 'f1', 'f2', ")
    assert "'f10' … and 149,990 more (in leads[0])" in detail
    assert len(response.json()["errors"]) == 10
    assert watch.worst < 0.25, watch.worst


def _lead_of_unknown(i: int) -> dict:
    return {"lead_id": f"u-{i}", "budgett": 1, "favourite_colour": "red"}


BOUNDED = [
    pytest.param(
        "/v1/score",
        {"leads": [{"employees": {}, "budget_range": [], "demo_requested": 7}] * 1000},
        "leads[0].employees: ",
        id="3,000 wrong types",
    ),
    pytest.param(
        "/v1/score",
        {"leads": [_lead_of_unknown(i) for i in range(1000)]},
        "unknown fields 'budgett', 'favourite_colour' (in leads[0], leads[1], leads[2], ",
        id="2,000 unknown fields in 1,000 leads",
    ),
    pytest.param(
        "/v1/score",
        {"leads": [{"x" * 1_000_000: 1}]},
        "unknown field 'xxxxxxxx",
        id="one unknown name of 1 MB",
    ),
    pytest.param(
        "/v1/outcomes",
        {"outcomes": [{"lead_id": f"o-{i}", "converted": True, "won": 1} for i in range(10_000)]},
        "unknown field 'won' (in outcomes[0], outcomes[1], ",
        id="10,000 outcomes with an unknown field",
    ),
    pytest.param(
        "/v1/outcomes",
        {"outcomes": [{"lead_id": f"o-{i}", "converted": "yes"} for i in range(10_000)]},
        "outcomes[0].converted: ",
        id="10,000 wrong outcomes",
    ),
]


@pytest.mark.parametrize(("path", "body", "starts"), BOUNDED)
def test_every_422_is_a_few_kb(keyed: LiveServer, path: str, body: dict, starts: str) -> None:
    with keyed.client() as client:
        response = client.post(path, json=body, headers=BEARER)
    print(f"\n{path} {starts[:30]!r}: {len(response.content):,} bytes")
    assert response.status_code == 422, response.text[:300]
    assert len(response.content) < SMALL
    assert response.json()["detail"].startswith(starts), response.json()["detail"][:300]
    assert 1 <= len(response.json()["errors"]) <= 20


def test_a_duplicate_key_of_900_kb_is_named_cut(keyed: LiveServer) -> None:
    name = "k" * 900_000
    body = b'{"leads": [{"' + name.encode() + b'": 1, "' + name.encode() + b'": 2}]}'
    with keyed.client() as client:
        response = client.post("/v1/score", content=body, headers={**BEARER, **JSON})
    assert response.status_code == 422
    assert len(response.content) < SMALL
    assert response.json()["detail"].startswith("duplicate key 'kkkk")
