"""Shadow scoring's cost: ``/v1/score`` latency with and without ``leadml serve --shadow``.

Issue 12's goal: a challenger scoring every request in the background adds no more than 10 %
to the p50 latency of ``/v1/score``. Two ``leadml serve`` processes run side by side on the same
champion, each with its own SQLite score history (on, as by default); the second also has a
challenger, a genuinely different model trained on other leads, whose scores it records as
shadow rows. One load generator (bench_serve.py's) drives both with one keep-alive connection,
requests back to back, in interleaved slices whose order alternates each round (ABBA), so the
load other work puts on the shared machine falls on both alike.

Workloads: one lead explained (what a CRM sends on each new lead), one lead numbers only, and
a page of 50 leads numbers only (50 leads of shadow work per request, the heaviest share). The
answers of both servers are checked to be the same bytes before anything is timed, and the
challenger's status is read at the end (it must have scored, not dropped, the traffic).
Writes bench/results/shadow.md with the ratios, "goal ≤ 1.10 met / NOT met", and the load.

    .venv/bin/python bench/bench_shadow.py [--seconds 12] [--rounds 6] [--rows 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import Phase, merge, run_phase, train_with_pool
from common import BIN, RESULTS, free_port, start_process, stop_process, table

from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.modeling.train import train_leads
from leadml.schema import bundled_schema

GOAL = 1.10
BATCH = 50


def train_challenger(rows: int, home: Path) -> Path:
    """Another model of the same leads' fields: other rows, another seed, no tracking."""
    print(f"Training the challenger on {rows:,} other synthetic leads", flush=True)
    frame = generate_leads(rows, seed=11)
    out = home / "models" / "challenger"
    train_leads(frame, bundled_schema(), Settings(home=home, seed=11), out=out, track=False)
    return out


def start_server(
    name: str,
    bundle: Path,
    home: Path,
    env: dict[str, str],
    shadow: Path | None,
    history: bool = True,
) -> tuple[str, subprocess.Popen]:
    port = free_port()
    args = [str(BIN / "leadml"), "serve", "--model", str(bundle), "--port", str(port)]
    args += ["--history", f"sqlite:///{home / f'{name}-history.db'}" if history else "none"]
    if shadow is not None:
        args += ["--shadow", str(shadow)]
    url = f"http://127.0.0.1:{port}"
    return url, start_process(args, env, f"{url}/ready", home / f"{name}.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="per workload and server")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved slices")
    parser.add_argument("--rows", type=int, default=20_000, help="champion's training leads")
    parser.add_argument("--challenger-rows", type=int, default=10_000)
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="diagnostic: both servers without a history (what scoring alone costs); printed, "
        "not written to bench/results",
    )
    opts = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    load_start = os.getloadavg()

    home = Path(tempfile.mkdtemp(prefix="leadml-bench-shadow-"))
    settings = Settings(home=home)
    result, leads = train_with_pool(opts.rows, settings)
    challenger = train_challenger(opts.challenger_rows, home)
    env = {**os.environ, "LEADML_HOME": str(home), "LEADML_API_KEYS": ""}
    env["MLFLOW_TRACKING_URI"] = settings.tracking_uri
    history = not opts.no_history
    plain_url, plain = start_server("plain", result.bundle, home, env, None, history)
    shadow_url, shadowed = start_server("shadow", result.bundle, home, env, challenger, history)
    servers = {"without": plain_url, "with --shadow": shadow_url}
    workloads = [
        ("1 lead, explained", "/v1/score", 1),
        ("1 lead, explain=false", "/v1/score?explain=false", 1),
        (f"{BATCH} leads, explain=false", "/v1/score?explain=false", BATCH),
    ]
    try:
        for path, size in (("/v1/score", 1), ("/v1/score?explain=false", BATCH)):
            body = {"leads": leads[:size]}
            answers = [
                httpx.post(u + path, json=body, timeout=30).content for u in servers.values()
            ]
            assert answers[0] == answers[1], "the shadow changed an answer"
        print("Both servers give the same bytes for the same requests.", flush=True)

        bodies = {
            size: [
                json.dumps({"leads": [leads[(i + k) % len(leads)] for k in range(size)]}).encode()
                for i in range(len(leads))
            ]
            for size in {s for _, _, s in workloads}
        }
        for url in servers.values():
            for _, path, size in workloads:
                run_phase(url, path, bodies[size], 1, 1.0)  # warm-up
        slice_s = opts.seconds / opts.rounds
        phases: dict[tuple[str, str], list[Phase]] = {}
        for r in range(opts.rounds):
            order = list(servers.items()) if r % 2 == 0 else list(reversed(servers.items()))
            for name, path, size in workloads:
                for server, url in order:
                    phase = run_phase(url, path, bodies[size], 1, slice_s)
                    phases.setdefault((name, server), []).append(phase)
        status = httpx.get(f"{shadow_url}/ready", timeout=10).json()["shadow"]
    finally:
        stop_process(plain)
        stop_process(shadowed)
        shutil.rmtree(home, ignore_errors=True)

    rows, verdicts = [], []
    for name, _, _ in workloads:
        base = merge(phases[(name, "without")]).row()
        mine = merge(phases[(name, "with --shadow")]).row()
        ratio = mine["p50_ms"] / base["p50_ms"]
        pairs = zip(phases[(name, "without")], phases[(name, "with --shadow")], strict=True)
        per_round = [s.row()["p50_ms"] / b.row()["p50_ms"] for b, s in pairs]
        rows.append(
            {
                "request": name,
                "p50 ms without": f"{base['p50_ms']:.3f}",
                "p50 ms with": f"{mine['p50_ms']:.3f}",
                "p50 ratio": f"{ratio:.3f}",
                "per-round ratios (median, min–max)": f"{statistics.median(per_round):.3f}, "
                f"{min(per_round):.3f}–{max(per_round):.3f}",
                "p99 ms without / with": f"{base['p99_ms']:.2f} / {mine['p99_ms']:.2f}",
                "req/s without / with": f"{base['req_s']:.0f} / {mine['req_s']:.0f}",
                "errors": base["errors"] + mine["errors"],
            }
        )
        verdicts.append(
            f"- {name}: p50 × {ratio:.3f} with the shadow "
            f"(goal ≤ {GOAL:.2f} {'met' if ratio <= GOAL else 'NOT met'})\n"
        )
        print(f"  {rows[-1]}", flush=True)
    text = table(rows, list(rows[0]))
    load_end = os.getloadavg()
    note = (
        f"\nOne keep-alive connection, requests back to back, {opts.seconds:.0f} s per workload "
        f"and server in {opts.rounds} interleaved rounds (order alternating), {os.cpu_count()} "
        f"cores; load average (1 min) {load_start[0]:.1f} before the run, {load_end[0]:.1f} at "
        "the end (the load generator itself takes one core). Score history "
        f"{'on (SQLite)' if history else 'OFF'} in "
        "both servers.\n\nThe challenger during the run: "
        f"{status['scored']:,} leads scored, {status['recorded']:,} shadow rows recorded, "
        f"{status['dropped']:,} dropped, error {status['error']}; its input: {status['input']} "
        "(read off the champion's encoded leads, or encoded by the shadow itself). "
        "`--no-history` runs the same without histories: what the challenger's scoring alone "
        "costs; the rest is the history writer's second row per lead.\n\n" + "".join(verdicts)
    )
    print("\n" + text + note)
    if not history:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "shadow.md").write_text("# Shadow scoring benchmark\n\n" + text + note)


if __name__ == "__main__":
    main()
