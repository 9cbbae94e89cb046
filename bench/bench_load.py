"""Load with faults (issue #7): 4 clients for 30 s against ``leadml serve``, with two model swaps
and a corrupt bundle in the middle.

One model is trained on synthetic leads; two refreshes of it on other leads (LightGBM refit:
same trees and cost per request, new leaf values, so other probabilities and new versions) and
one corrupt copy (model.txt cut in half) are made from it. ``leadml serve`` runs in its own
process with API keys, exactly as deployed, its log captured. Two runs against it, one after the
other, same duration, same clients:

* steady: no swaps (the baseline);
* faults: swap to the second model at 1/4, the corrupt bundle at 1/2, the third model at 3/4.

The promise, checked on every reply (``tests/support/loadgen.py``): no failed request; each
reply names one model version, one that was in service while the request was in flight, and its
probabilities are that version's own; the corrupt bundle is refused (422) with a log line
naming it, and the model before it keeps serving. The ratios faults / steady show what the
swaps cost. Writes bench/results/load.md; exits 1 if the promise was broken.

    .venv/bin/python bench/bench_load.py [--seconds 30] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BIN, RESULTS, free_port, start_process, stop_process, table

from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.modeling.train import train_leads
from leadml.schema import bundled_schema
from tests.support.loadgen import (
    LoadRun,
    check_run,
    corrupt_bundle,
    expected_probabilities,
    json_leads,
    run_load,
    standard_swaps,
    variant_bundle,
)

KEY = "bench-load-key-0123456789"
ADMIN_KEY = "bench-load-admin-0123456789"
POOL = 500  # distinct new leads cycled through


def start_server(bundle: Path, work: Path) -> tuple[subprocess.Popen, str, Path]:
    """`leadml serve` with an API key, as a CRM-facing deployment runs it; an admin key may
    reload any bundle under ``work``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "server.log"
    env = {
        **os.environ,
        "LEADML_HOME": str(work),
        "LEADML_API_KEYS": KEY,
        "LEADML_ADMIN_KEYS": f"bench:{ADMIN_KEY}",
        "LEADML_MODELS_ROOT": str(work),
    }
    args = [str(BIN / "leadml"), "serve", "--model", str(bundle), "--port", str(port)]
    return start_process(args, env, f"{url}/ready", log, cwd=work), url, log


def row(name: str, run: LoadRun) -> dict[str, object]:
    s = run.summary()
    return {
        "run": name,
        "seconds": s["seconds"],
        "clients": s["clients"],
        "requests": f"{s['requests']:,}",
        "leads scored": f"{s['leads']:,}",
        "errors": s["errors"],
        "p50 ms": f"{s['p50_ms']:.1f}",
        "p99 ms": f"{s['p99_ms']:.1f}",
        "req/s": f"{s['req_per_s']:.0f}",
        "swaps ok / refused": f"{s['swaps_ok']} / {s['swaps_refused']}",
        "versions served": s["versions"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="leadml-bench-load-"))
    schema = bundled_schema()
    print("Training the first model on 20,000 synthetic leads …", flush=True)
    first = train_leads(
        generate_leads(20_000, seed=7), schema, Settings(home=work), out=work / "first", track=False
    ).model
    # Two refreshes of it on newer leads (same trees, new leaf values): same cost per request.
    second = variant_bundle(
        work / "first", work / "second", generate_leads(5000, seed=8), f"{first.version}-r1"
    )
    third = variant_bundle(
        work / "first", work / "third", generate_leads(5000, seed=9), f"{first.version}-r2"
    )
    broken = corrupt_bundle(work / "first", work / "broken")
    pool = json_leads(generate_leads(POOL, seed=2026).drop(columns=[schema.target]))
    expected = expected_probabilities([first, second, third], pool)

    proc, url, log = start_server(work / "first", work)
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        print(f"Steady: {args.clients} clients, {args.seconds:.0f} s …", flush=True)
        steady = asyncio.run(
            run_load(url, pool, clients=args.clients, duration=args.seconds, headers=headers)
        )
        print(f"Faults: {args.clients} clients, {args.seconds:.0f} s, 3 swaps …", flush=True)
        swaps = standard_swaps(str(work / "second"), str(broken), str(work / "third"))
        faults = asyncio.run(
            run_load(
                url, pool, clients=args.clients, duration=args.seconds, swaps=swaps,
                headers=headers, admin_headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            )
        )  # fmt: skip
    finally:
        stop_process(proc)

    problems = check_run(steady, expected) + check_run(faults, expected)
    server_log = log.read_text()
    refusals = [line for line in server_log.splitlines() if "refused" in line]
    if not any(str(broken) in line and "corrupt bundle" in line for line in refusals):
        problems.append("no log line refusing the corrupt bundle")
    if "Traceback" in server_log:
        problems.append("a traceback in the server log")

    a, b = steady.summary(), faults.summary()
    rows = [row("steady (no swaps)", steady), row("faults (2 swaps + 1 corrupt)", faults)]
    rows.append(
        {
            "run": "ratio faults / steady",
            "seconds": "",
            "clients": "",
            "requests": "",
            "leads scored": "",
            "errors": "",
            "p50 ms": f"{b['p50_ms'] / a['p50_ms']:.2f}×",
            "p99 ms": f"{b['p99_ms'] / a['p99_ms']:.2f}×",
            "req/s": f"{b['req_per_s'] / a['req_per_s']:.2f}×",
            "swaps ok / refused": "",
            "versions served": "",
        }
    )
    timeline = "\n".join(
        f"- {s.started:5.1f}–{s.ended:5.1f} s: reload {Path(s.swap.ref).name} → {s.status} "
        f"({(s.ended - s.started) * 1000:.0f} ms) "
        + (f"now {s.body['model_version']}" if s.status == 200 else f"kept {s.body['serving']}")
        for s in faults.swaps
    )
    served = Counter(r.version for r in faults.replies)
    report = (
        f"### Load with faults: {args.clients} clients × {args.seconds:.0f} s, "
        "loopback, `leadml serve` with API keys\n\n"
        + table(rows, list(rows[0]))
        + f"\nSwaps (faults run):\n{timeline}\n\nReplies per version: "
        + ", ".join(f"{v} {n:,}" for v, n in served.items())
        + "\n\nServer log, the refusal:\n\n    "
        + ("\n    ".join(refusals) or "(none)")
        + "\n\n"
        + (
            "Promise held: no failed request, every reply named the model that produced it."
            if not problems
            else "PROMISE BROKEN:\n" + "\n".join(f"- {p}" for p in problems[:20])
        )
        + "\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.md").write_text(report)
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
