"""Heavy reads against scoring: `/v1/monitor` and `/v1/history` on a tenant with 436,000 scores.

The issue's figure (issue 27, finding 5): on a tenant with about 436,000 rows, `/v1/monitor`
took 28–41 s a call and two such calls raised scoring's worst latency to 2.1 s; thirty
concurrent `GET /v1/history` made one new lead wait 30 s. This builds that history by bulk SQL
insert into a real server's SQLite file (scoring 436,000 leads over HTTP would take an hour),
then measures, over real HTTP: the monitor's first and cached answers, scoring's p50/p99 while
two monitor calls run, one page of `/v1/history`, and one new lead's score while thirty
listings are in flight. Goals: the monitor under 2 s, scoring's p99 under 50 ms meanwhile.

``fill_history`` is the bench's own; the tests fill their histories with tests/support/history.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: bench/ and the project both importable
    sys.path.insert(0, str(ROOT))

from tests.support.history import fill_history  # noqa: E402  (the one bulk filler)

#: The issue's tenant.
ROWS = 436_000
TENANT = "big"


def _latencies(url: str, leads: list[dict[str, Any]], stop: Any) -> list[float]:
    """One new lead at a time until ``stop`` is set; each answer's latency in seconds."""
    import time

    import httpx

    times, i = [], 0
    with httpx.Client(base_url=url, timeout=60, headers=KEY) as client:
        while not stop.is_set():
            lead = {**leads[i % len(leads)], "lead_id": f"live-{i}"}
            started = time.perf_counter()
            client.post("/v1/score", json={"leads": [lead]}).raise_for_status()
            times.append(time.perf_counter() - started)
            i += 1
    return times


def _quantiles(times: list[float]) -> str:
    ordered = sorted(times)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms ({len(times):,} scores)"


KEY = {"Authorization": "Bearer bench-reads-key-0123456789"}


def main() -> None:
    import argparse
    import os
    import tempfile
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import pandas as pd

    from bench.bench_serve import train_with_pool
    from bench.common import BIN, RESULTS, free_port, start_process, stop_process
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help="the tenant's stored scores")
    opts = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="leadml-bench-reads-"))
    settings = Settings(home=home)
    result, leads = train_with_pool(20_000, settings)
    assert result.bundle is not None
    model = LeadModel.load(result.bundle)
    features = [model.encoder.known_values(r) for r in model.matrix(pd.DataFrame(leads))]
    port, history = free_port(), home / "history.db"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "LEADML_HOME": str(home),
        "LEADML_HISTORY_URL": f"sqlite:///{history}",
        "LEADML_API_KEYS": f"{TENANT}:{KEY['Authorization'].split()[1]}",
    }
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "leadml"), "serve", "--model", str(result.bundle), "--port", str(port)]
    proc = start_process(command, env, f"{url}/health", home / "serve.log", cwd=home)
    lines = [f"# Heavy reads against scoring ({opts.rows:,} stored scores of one tenant)\n"]
    try:
        started = time.perf_counter()
        fill_history(history, TENANT, opts.rows, features)
        lines.append(f"- history filled by bulk insert in {time.perf_counter() - started:.1f} s")
        stop = threading.Event()
        idle = _latencies_for(url, leads, stop, 5.0)
        lines.append(f"- scoring alone: {_quantiles(idle)}")
        with httpx.Client(base_url=url, timeout=120, headers=KEY) as client:
            started = time.perf_counter()
            client.get("/v1/monitor", params={"since": "30d"}).raise_for_status()
            first = time.perf_counter() - started
            started = time.perf_counter()
            client.get("/v1/monitor", params={"since": "29d"}).raise_for_status()
            cached = time.perf_counter() - started
        lines.append(
            f"- /v1/monitor: {first:.2f} s, another since {cached * 1000:.0f} ms (goal < 2 s)"
        )
        stop = threading.Event()
        with ThreadPoolExecutor(3) as pool:
            scoring = pool.submit(_latencies, url, leads, stop)
            # windows under the sample's size are keyed by since: both compute
            monitors = [
                pool.submit(
                    httpx.get,
                    f"{url}/v1/monitor",
                    params={"since": since},
                    headers=KEY,
                    timeout=120,
                )
                for since in ("12h", "11h")
            ]
            for m in monitors:
                m.result()
            stop.set()
            during = scoring.result()
        lines.append(
            f"- scoring during two monitors (12 h, 11 h): {_quantiles(during)} (goal p99 < 50 ms)"
        )
        with ThreadPoolExecutor(31) as pool:
            pages = [
                pool.submit(
                    httpx.get, f"{url}/v1/history", params={"limit": 1000}, headers=KEY, timeout=120
                )
                for _ in range(30)
            ]
            started = time.perf_counter()
            httpx.post(
                f"{url}/v1/score",
                json={"leads": [{**leads[0], "lead_id": "new"}]},
                headers=KEY,
                timeout=120,
            ).raise_for_status()
            one = time.perf_counter() - started
            for p in pages:
                p.result().raise_for_status()
        lines.append(f"- one new lead during 30 listings of 1,000: {one * 1000:.0f} ms")
    finally:
        stop_process(proc)
    text = "\n".join(lines) + f"\n- load average at the end: {os.getloadavg()[0]:.2f}\n"
    print(text)
    (RESULTS / "reads.md").write_text(text)


def _latencies_for(url: str, leads: list[dict[str, Any]], stop: Any, seconds: float) -> list[float]:
    """``_latencies`` for ``seconds``."""
    import threading

    timer = threading.Timer(seconds, stop.set)
    timer.start()
    return _latencies(url, leads, stop)


if __name__ == "__main__":
    main()
