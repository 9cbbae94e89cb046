"""`leadml score --dask` on 10,000,000 synthetic leads vs a bare `booster.predict` on the same
rows, and the memory every process of the Dask run used vs the table in one pandas frame.

Each measurement runs in a child process of its own, one after the other, in the same run of
this script (ratios taken in one run are what count on a shared, noisy machine):

* ``dask``: ``score_dask`` on a LocalCluster of 2 single-threaded worker processes, reading
  the Parquet parts and writing scored Parquet parts. At the end it reads the kernel's peak
  resident memory (VmHWM) of every process of the run: the client (which in a LocalCluster
  also hosts the scheduler and the workers' nannies), both workers and any helper process.
* ``bare``: one process, the same model and rows (the first 20 parts unless told otherwise:
  rows/s is what is compared), part by part: read, encode, then
  ``booster.predict(raw_score=True)`` with 2 threads. The predict calls alone are timed as
  "bare predict"; read + encode + predict is timed too, as what a plain loop would cost.
* ``pandas``: the first parts loaded into one DataFrame, its ``memory_usage(deep=True)``
  scaled to the whole table (the share is printed).

The leads are generated once by ``leadml.synth.generate_leads`` (one seed per part, in two
processes) and kept in bench/results/dask-leads-<rows>-<parts>/ for later runs.

Goal (issue #6): every process added up stays under 2 GiB, well below the table in pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import RESULTS, ROOT, table

sys.path.insert(0, str(ROOT / "src"))
HERE = Path(__file__).resolve().parent
GIB = 1024**3
MIB = 1024**2


# -- data ----------------------------------------------------------------------------------------
def _write_part(job: tuple[int, int, int, str]) -> int:
    """One part of the table: its own seed, lead ids unique across parts, no outcome column."""
    from leadml.data.synthetic import generate_leads

    index, rows, seed, folder = job
    frame = generate_leads(rows, seed=seed).drop(columns=["converted"])
    frame["lead_id"] = f"P{index:04d}-" + frame["lead_id"]
    frame.to_parquet(Path(folder) / f"leads-{index:04d}.parquet", index=False)
    return rows


def ensure_leads(rows: int, parts: int) -> tuple[Path, float | None]:
    """The parts, generated unless an earlier run left them complete; generation rows/s."""
    folder = RESULTS / f"dask-leads-{rows}-{parts}"
    marker = folder / "_complete.json"
    if marker.exists():
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    size = rows // parts
    jobs = [(i, size + (1 if i < rows % parts else 0), 1000 + i, str(folder)) for i in range(parts)]
    print(f"Generating {rows:,} leads in {parts} Parquet parts (2 processes) …", flush=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        done = sum(pool.map(_write_part, jobs))
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"rows": done, "parts": parts, "seconds": seconds}))
    return folder, done / seconds


def train_model(folder: Path) -> Path:
    """A model trained single-process on 200,000 leads (another seed than the scored ones)."""
    from leadml.config import Settings
    from leadml.data.synthetic import generate_leads
    from leadml.modeling.train import train_leads
    from leadml.schema import bundled_schema

    bundle = folder / "bundle"
    print("Training the model to score with (200,000 leads) …", flush=True)
    train_leads(
        generate_leads(200_000, seed=99),
        bundled_schema(),
        Settings(home=folder),
        out=bundle,
        track=False,
    )
    return bundle


# -- the measured phases (each in its own process) -----------------------------------------------
def peak_rss(pid: int) -> int:
    """The kernel's high-water mark of a process's resident memory, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def phase_dask(bundle: str, data: str, out: str) -> dict:
    import psutil

    from leadml.bundle.model import LeadModel
    from leadml.cluster.client import dask_client
    from leadml.cluster.score import score_dask

    model = LeadModel.load(bundle)
    with dask_client() as client:
        workers = client.scheduler_info()["workers"]
        worker_pids = set(client.run(os.getpid).values())
        nanny_pids = set(client.run(os.getpid, nanny=True).values())
        started = time.perf_counter()
        summary = score_dask(model, data, out, client)
        seconds = time.perf_counter() - started
        me = psutil.Process()
        processes = {}
        for proc in [me, *me.children(recursive=True)]:
            pid = proc.pid
            role = (
                "client + scheduler + nannies (one process in a LocalCluster)"
                if pid == me.pid
                else "worker"
                if pid in worker_pids
                else "nanny"
                if pid in nanny_pids
                else f"helper ({proc.name()})"
            )
            processes[pid] = {"role": role, "peak": peak_rss(pid)}
    return {
        "rows": summary.rows,
        "partitions": summary.partitions,
        "seconds": seconds,
        "workers": len(workers),
        "processes": list(processes.values()),
    }


def phase_bare(bundle: str, data: str, parts: str) -> dict:
    import pandas as pd

    from leadml.bundle.model import LeadModel

    model = LeadModel.load(bundle)
    read = encode = predict = 0.0
    rows = 0
    for path in sorted(Path(data).glob("*.parquet"))[: int(parts)]:
        t0 = time.perf_counter()
        frame = pd.read_parquet(path)
        t1 = time.perf_counter()
        x = model.matrix(frame)
        t2 = time.perf_counter()
        model.booster.predict(x, raw_score=True, num_threads=2)
        t3 = time.perf_counter()
        read, encode, predict = read + t1 - t0, encode + t2 - t1, predict + t3 - t2
        rows += len(frame)
        del frame, x
    return {"rows": rows, "read": read, "encode": encode, "predict": predict}


def phase_pandas(data: str, parts: int) -> dict:
    import pandas as pd

    files = sorted(Path(data).glob("*.parquet"))
    frame = pd.concat([pd.read_parquet(p) for p in files[:parts]], ignore_index=True)
    return {
        "rows": len(frame),
        "bytes": int(frame.memory_usage(deep=True).sum()),
        "files": parts,
        "of": len(files),
    }


def child(args: list[str]) -> dict:
    """One phase in a fresh process (its peak memory is its own); its JSON result."""
    done = subprocess.run(
        [sys.executable, __file__, *args], cwd=HERE, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"phase {args[1]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--parts", type=int, default=100)
    parser.add_argument("--pandas-parts", type=int, default=10, help="parts loaded in pandas")
    parser.add_argument("--bare-parts", type=int, default=20, help="parts the bare run scores")
    args = parser.parse_args()

    data, generated = ensure_leads(args.rows, args.parts)
    work = Path(tempfile.mkdtemp(prefix="leadml-bench-dask-"))
    load_before = os.getloadavg()[0]
    try:
        bundle = train_model(work)
        import lightgbm as lgb

        trees = lgb.Booster(model_file=str(bundle / "model.txt")).num_trees()
        print("Scoring through Dask …", flush=True)
        dask = child(["--phase", "dask", str(bundle), str(data), str(work / "scored")])
        print("Bare booster.predict on the same rows, one process …", flush=True)
        bare_parts = str(min(args.bare_parts, args.parts))
        bare = child(["--phase", "bare", str(bundle), str(data), bare_parts])
        print("The table in one pandas frame (a share of it, scaled) …", flush=True)
        share = child(["--phase", "pandas", str(data), str(min(args.pandas_parts, args.parts))])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_after = os.getloadavg()[0]

    rows = dask["rows"]
    assert rows == args.rows, rows
    whole = share["bytes"] * rows / share["rows"]
    total = sum(p["peak"] for p in dask["processes"])
    dask_rate = rows / dask["seconds"]
    bare_rate = bare["rows"] / bare["predict"]
    loop_rate = bare["rows"] / (bare["read"] + bare["encode"] + bare["predict"])
    on = f"first {bare['rows']:,} of the rows"
    lines = [
        {"what": "rows scored", "value": f"{rows:,} in {dask['partitions']} Parquet parts"},
        {"what": "model", "value": f"{trees} trees, trained on 200,000 other leads"},
        {
            "what": "machine load (1-min load average, 2 cores) at start / end",
            "value": f"{load_before:.1f} / {load_after:.1f}",
        },
        {
            "what": "Dask score (2 workers × 1 thread): read, encode, predict, label, write",
            "value": f"{dask['seconds']:.1f} s = {dask_rate:,.0f} rows/s",
        },
        {
            "what": f"bare booster.predict, one process, 2 threads (predict calls only; {on})",
            "value": f"{bare['predict']:.1f} s = {bare_rate:,.0f} rows/s",
        },
        {
            "what": f"one process, part by part: read + encode + bare predict ({on})",
            "value": f"{bare['read'] + bare['encode'] + bare['predict']:.1f} s = "
            f"{loop_rate:,.0f} rows/s",
        },
        {"what": "Dask rows/s ÷ bare predict rows/s", "value": f"{dask_rate / bare_rate:.2f}"},
    ]
    for p in sorted(dask["processes"], key=lambda p: p["role"]):
        lines.append({"what": f"peak memory: {p['role']}", "value": f"{p['peak'] / MIB:,.0f} MiB"})
    lines += [
        {
            "what": f"peak memory, all {len(dask['processes'])} processes added up",
            "value": f"{total / MIB:,.0f} MiB ({total / GIB:.2f} GiB; goal < 2 GiB)",
        },
        {
            "what": f"whole table in one pandas frame ({share['files']} of {share['of']} parts "
            f"= {share['rows']:,} rows loaded, × {rows / share['rows']:.0f})",
            "value": f"{whole / GIB:.2f} GiB",
        },
        {"what": "Dask peak, all processes ÷ table in pandas", "value": f"{total / whole:.2f}"},
    ]
    if generated:
        lines.append(
            {"what": "generating the leads (2 processes)", "value": f"{generated:,.0f} rows/s"}
        )
    report = table(lines, ["what", "value"])
    print("\n" + report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dask.md").write_text(
        f"# Dask scoring, {time.strftime('%Y-%m-%d %H:%M')}\n\n{report}"
    )
    if total >= 2 * GIB or total >= whole / 2:
        sys.exit(f"memory goal missed: {total / GIB:.2f} GiB for the Dask run")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        phase = sys.argv[2]
        if phase == "dask":
            print(json.dumps(phase_dask(*sys.argv[3:6])))
        elif phase == "bare":
            print(json.dumps(phase_bare(*sys.argv[3:6])))
        else:
            print(json.dumps(phase_pandas(sys.argv[3], int(sys.argv[4]))))
    else:
        main()
