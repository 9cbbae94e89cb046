"""Heavy reads cannot starve scoring (issue 27, findings 5 and 7): real servers, real HTTP,
real SQLite histories built by bulk SQL insert (``tests/support/history.fill_history``).

- ``/v1/monitor`` on a tenant of 436,000 scores answers within a bound (28–41 s before; the
  bench measures the 2 s goal), from a bounded sample that it names, and a call with another
  ``since`` is the cached answer; scoring goes on while two monitors compute.
- Thirty concurrent ``GET /v1/history`` leave a new lead's score prompt (30 s before); the
  listing is paged with a cursor.
- Lead ids holding ``/``, ``.`` or ``..`` read back.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.history import fill_history
from tests.support.servers import LiveServer, lead_payloads

BIG = "big-crm-key-0123456789"
OTHER = "big2-crm-key-0123456789"
SMALL = "small-crm-key-0123456789"
ADMIN = "ops-admin-key-0123456789"
KEYS = f"big:{BIG},big2:{OTHER},small:{SMALL}"


def id_path(lead_id: str) -> str:
    """A lead id as one path segment: every reserved character and every dot percent-encoded
    (a client folds a literal ``.`` or ``..`` segment away before sending)."""
    return quote(lead_id, safe="").replace(".", "%2E")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def stored_features(server: LiveServer, leads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the history keeps of these leads (the values the served model read)."""
    import pandas as pd

    model = server.app.state.holder.current.model
    x = model.matrix(pd.DataFrame(leads))
    return [model.encoder.known_values(row) for row in x]


def history_file(server: LiveServer) -> Path:
    return Path(server.settings.history_database.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, bundle: Path, new_leads: Any) -> Any:
    """One server whose history holds 436,000 scores of tenant big and 30,000 of big2."""
    from tests.support.servers import serve_settings

    home = tmp_path_factory.mktemp("heavy-reads")
    settings = serve_settings(home, bundle, api_keys=KEYS, admin_keys=f"ops:{ADMIN}")
    server = LiveServer(settings).start()
    leads = lead_payloads(new_leads.head(500))
    features = stored_features(server, leads)
    started = time.perf_counter()
    fill_history(history_file(server), "big", 436_000, features)
    fill_history(history_file(server), "big2", 30_000, features)
    print(f"\n436,000 + 30,000 scores inserted in {time.perf_counter() - started:.1f} s")
    yield server, leads
    server.stop()


def score_latencies(
    client: httpx.Client, leads: list[dict[str, Any]], stop: threading.Event
) -> list[float]:
    """One lead at a time (with an id: each answer queues a history row) until ``stop``."""
    latencies = []
    i = 0
    while not stop.is_set():
        lead = {**leads[i % len(leads)], "lead_id": f"LIVE-{i}"}
        started = time.perf_counter()
        response = client.post("/v1/score", json={"leads": [lead]}, headers=bearer(SMALL))
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        i += 1
    return latencies


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


def test_monitor_is_bounded_cached_per_tenant_and_leaves_scoring_alone(big) -> None:
    server, leads = big
    with server.client() as client:
        started = time.perf_counter()
        first = client.get("/v1/monitor?since=30d", headers=bearer(BIG))
        took = time.perf_counter() - started
        assert first.status_code == 200, first.text
        body = first.json()
        print(f"\nmonitor on 436,000 scores: {took:.2f} s (28–41 s before)")
        assert took < 15, took  # the bench measures the 2 s goal on an idle machine
        # of: the 436,000 filled, and the few leads another test of this module may have scored
        sampled = body["sampled"]
        assert body["leads"] == sampled["leads"] == 5000 and 436_000 <= sampled["of"] <= 436_010
        assert body["window"].startswith("the newest 5,000 leads")

        # Other windows that hold more than the sample: the same answer, not computed again.
        for since in ("29d", "2w", "720h"):
            again = client.get(f"/v1/monitor?since={since}", headers=bearer(BIG)).json()
            assert again["computed_at"] == body["computed_at"], since
            assert again["age_s"] >= 0 and again["leads"] == 5000
        assert client.get("/v1/monitor?since=3d", headers=bearer(BIG)).json()["sampled"]["of"] < (
            436_000
        )

        # A tenant's key reads its own leads only; an admin may name a tenant.
        refused = client.get("/v1/monitor?tenant=big", headers=bearer(SMALL))
        assert refused.status_code == 403
        named = client.get("/v1/monitor?tenant=big&since=30d", headers=bearer(ADMIN)).json()
        assert named["computed_at"] == body["computed_at"]

        # Scoring while two monitors compute (one cold tenant, one with new outcomes' key).
        idle_stop = threading.Event()
        timer = threading.Timer(2.0, idle_stop.set)
        timer.start()
        with server.client() as scorer:
            idle = score_latencies(scorer, leads, idle_stop)
        stop = threading.Event()
        with ThreadPoolExecutor(3) as pool, server.client() as scorer, server.client() as other:
            scoring = pool.submit(score_latencies, scorer, leads, stop)
            time.sleep(0.3)
            started = time.perf_counter()
            calls = [
                pool.submit(other.get, "/v1/monitor?since=30d", headers=bearer(OTHER)),
                pool.submit(other.get, "/v1/monitor?since=12h", headers=bearer(BIG)),
            ]
            answers = [c.result() for c in calls]
            both = time.perf_counter() - started
            stop.set()
            busy = scoring.result()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    print(
        f"scoring p50/p99 idle {statistics.median(idle) * 1000:.1f}/{p99(idle) * 1000:.1f} ms, "
        f"during two monitors ({both:.2f} s, {len(busy)} scores) "
        f"{statistics.median(busy) * 1000:.1f}/{p99(busy) * 1000:.1f} ms"
    )
    # Generous: the bench measures the 50 ms goal; before, the worst score waited 2.1 s.
    assert p99(busy) < max(0.5, 10 * p99(idle)), (p99(idle), p99(busy))


def test_thirty_listings_leave_a_new_score_prompt_and_pages_follow_each_other(big) -> None:
    server, leads = big
    with server.client() as client, ThreadPoolExecutor(30) as pool:
        page = client.get("/v1/history?limit=1000", headers=bearer(BIG))
        assert page.status_code == 200, page.text
        first = page.json()
        assert len(first["leads"]) == 1000 and first["next_before"] is not None
        newest = [r["lead_id"] for r in first["leads"]]
        assert newest[:2] == ["big-435999", "big-435998"]
        assert client.get("/v1/history?limit=1001", headers=bearer(BIG)).status_code == 422

        after = client.get(
            f"/v1/history?limit=1000&before={first['next_before']}", headers=bearer(BIG)
        ).json()
        assert after["leads"][0]["lead_id"] == "big-434999"
        assert not set(newest) & {r["lead_id"] for r in after["leads"]}
        # Another tenant's cursor reads nothing of big's.
        foreign = client.get(f"/v1/history?before={first['next_before']}", headers=bearer(SMALL))
        assert foreign.json() == {"leads": [], "next_before": None}

        started = time.perf_counter()
        listings = [
            pool.submit(client.get, "/v1/history?limit=1000", headers=bearer(BIG))
            for _ in range(30)
        ]
        time.sleep(0.05)
        lead = {**leads[0], "lead_id": "NEW-DURING-LISTINGS"}
        with server.client() as scorer:
            scored_at = time.perf_counter()
            scored = scorer.post("/v1/score", json={"leads": [lead]}, headers=bearer(BIG))
            waited = time.perf_counter() - scored_at
        codes = [f.result().status_code for f in listings]
        all_done = time.perf_counter() - started
    assert scored.status_code == 200, scored.text
    assert codes == [200] * 30
    print(f"\none score during 30 listings: {waited * 1000:.0f} ms (30 s before); "
          f"30 listings of 1,000 leads: {all_done:.2f} s")  # fmt: skip
    assert waited < 2.0, waited


@pytest.mark.parametrize("lead_id", ["a/b", ".", "..", "x/../y", "../../etc/passwd", "%2F", "a b"])
def test_ids_read_back_whatever_they_contain(big, lead_id: str) -> None:
    server, leads = big
    with server.client() as client:
        response = client.post(
            "/v1/score", json={"leads": [{**leads[0], "lead_id": lead_id}]}, headers=bearer(SMALL)
        )
        assert response.status_code == 200, response.text
        read = client.get(f"/v1/history/{id_path(lead_id)}", headers=bearer(SMALL))
        assert read.status_code == 200, (lead_id, read.status_code, read.text)
        assert read.json()["lead_id"] == lead_id
        assert [s["lead_id"] for s in read.json()["scores"]] == [lead_id]
        # Another tenant does not see it, whatever the id.
        assert client.get(f"/v1/history/{id_path(lead_id)}", headers=bearer(BIG)).status_code == 404
