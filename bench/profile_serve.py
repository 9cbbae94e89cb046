"""Where one scoring request's time goes: a flame graph of ``leadml serve`` under one CRM.

A model is trained on synthetic leads, ``leadml serve`` serves it (score history on, as by
default), and one sequential client sends single-lead ``/v1/score`` requests (explanations on,
or ``--numbers`` for ``?explain=false``) while py-spy samples the server process from outside
(no change to the server, no instrumentation in the timings). Writes

* ``bench/results/serve-flame.svg``: the flame graph (open it in a browser: every request's
  stack, the width is the share of samples);
* ``bench/results/serve-profile.md``: the functions with the largest share of the samples,
  inclusive and by themselves, for a closing note or an issue.

py-spy reads another process's memory, which needs ptrace: it works as root or where
``/proc/sys/kernel/yama/ptrace_scope`` is 0, and says so in one line where it cannot.

    .venv/bin/python bench/profile_serve.py [--seconds 15] [--numbers]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import run_phase, train_with_pool
from common import BIN, RESULTS, free_port, start_process, stop_process

from leadml.config import Settings

RATE_HZ = 1000
#: Frames every request passes through below the app (the CLI, uvicorn's loop): left out of
#: the summary, kept in the flame graph.
SCAFFOLD = (
    *("<module>", "main", "Typer", "Command", "Context", "_main", "wrapper", "run", "Runner"),
    *("get_callback", "asyncio_run", "serve ", "friendly", "Server.run", "Thread", "Base"),
)


def frame_name(frame: str) -> str:
    """``score_leads (serve/scoring/predict.py:37)`` → ``score_leads (predict.py)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name


def read_stacks(collapsed: Path) -> list[tuple[list[str], int]]:
    """py-spy's collapsed stacks: (frames from the thread's root down, samples)."""
    stacks = []
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append(([frame_name(f) for f in stack.split(";")], int(count)))
    return stacks


def flame_text(stacks: list[tuple[list[str], int]], floor: float = 0.02) -> str:
    """The flame graph as indented text: every frame with at least ``floor`` of the samples,
    under its caller. A chain of frames that each pass (almost) everything to one callee, such
    as the middleware stack, is one line: its first and last frame and how many it holds."""
    total = sum(n for _, n in stacks)
    root: dict = {"n": 0, "kids": {}}
    for frames, n in stacks:
        node = root
        for name in frames:
            node = node["kids"].setdefault(name, {"n": 0, "kids": {}})
            node["n"] += n
    lines: list[str] = []

    def walk(name: str, node: dict, depth: int) -> None:
        chain = [name]
        while len(node["kids"]) >= 1:
            child_name, child = max(node["kids"].items(), key=lambda kv: kv[1]["n"])
            if child["n"] < 0.98 * node["n"]:
                break
            chain.append(child_name)
            node = child
        label = chain[0] if len(chain) == 1 else f"{chain[0]} … {chain[-1]} ({len(chain)} frames)"
        lines.append(f"{'  ' * depth}{100 * node['n'] / total:5.1f} %  {label}")
        for kid_name, kid in sorted(node["kids"].items(), key=lambda kv: -kv[1]["n"]):
            if kid["n"] >= floor * total:
                walk(kid_name, kid, depth + 1)

    for name, node in sorted(root["kids"].items(), key=lambda kv: -kv[1]["n"]):
        if node["n"] >= floor * total:
            walk(name, node, 0)
    return "\n".join(lines) + "\n"


def summary(collapsed: Path, top: int = 30) -> str:
    """Inclusive and self shares of the samples, from py-spy's collapsed stacks."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    stacks = read_stacks(collapsed)
    for frames, n in stacks:
        total += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    if not total:
        return "py-spy recorded no samples.\n"

    def rows(counter: collections.Counter[str]) -> str:
        kept = [(k, v) for k, v in counter.most_common() if not k.startswith(SCAFFOLD)]
        return "".join(f"| {100 * v / total:.1f} % | `{k}` |\n" for k, v in kept[:top])

    head = "| share of samples | function |\n|---|---|\n"
    return (
        f"{total:,} samples at {RATE_HZ} Hz over every thread of the server.\n\n"
        f"### The flame graph as text (frames with at least 2 % of the samples)\n\n"
        f"```\n{flame_text(stacks)}```\n\n"
        f"### By itself (where the time is spent)\n\n{head}{rows(own)}\n"
        f"### Inclusive (the function and what it calls)\n\n{head}{rows(inclusive)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="time sampled")
    parser.add_argument("--numbers", action="store_true", help="profile ?explain=false")
    parser.add_argument("--rows", type=int, default=20_000, help="training leads")
    opts = parser.parse_args()
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed: make install (it is a test dependency)")

    home = Path(tempfile.mkdtemp(prefix="leadml-profile-serve-"))
    result, leads = train_with_pool(opts.rows, Settings(home=home))
    bodies = [json.dumps({"leads": [lead]}).encode() for lead in leads]
    path = "/v1/score?explain=false" if opts.numbers else "/v1/score"

    env = {**os.environ, "LEADML_HOME": str(home), "LEADML_API_KEYS": ""}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_process(
        [str(BIN / "leadml"), "serve", "--model", str(result.bundle), "--port", str(port)],
        env,
        f"{url}/ready",
        home / "serve.log",
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    svg, collapsed = RESULTS / "serve-flame.svg", home / "stacks.txt"
    try:
        run_phase(url, path, bodies, 1, 2.0)  # warm-up
        record = [spy, "record", "--pid", str(server.pid), "--rate", str(RATE_HZ)]
        record += ["--duration", str(int(opts.seconds)), "--nonblocking"]
        # One client runs through both recordings (the stacks, then the SVG drawn by py-spy).
        phase: dict = {}
        client = threading.Thread(
            target=lambda: phase.update(
                run_phase(url, path, bodies, 1, 2 * int(opts.seconds) + 2).row()
            ),
        )
        client.start()
        for output, extra in ((collapsed, ["--format", "raw"]), (svg, [])):
            done = subprocess.run(
                [*record, *extra, "--output", str(output)], capture_output=True, text=True
            )
            if done.returncode != 0:
                client.join()
                raise SystemExit(f"py-spy could not sample the server: {done.stderr[-300:]}")
        client.join()
    finally:
        stop_process(server)
    text = (
        f"# Profile of `leadml serve`: one client, single-lead `{path}`\n\n"
        f"{phase.get('requests', 0):,} requests, p50 {phase.get('p50_ms', float('nan')):.2f} ms "
        f"while sampled; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.\n\n"
        + summary(collapsed)
    )
    (RESULTS / "serve-profile.md").write_text(text)
    shutil.rmtree(home, ignore_errors=True)
    print(text)
    print(f"Flame graph: {svg}")


if __name__ == "__main__":
    main()
