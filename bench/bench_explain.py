"""Explaining a lead vs scoring it, one lead at a time and in batch.

One small model is trained in this process on synthetic leads; then, on the same fresh leads:

* **per lead** (the API path): ``model.score_one(lead)`` against ``explain_lead(model, lead)``,
  called alternately lead by lead so both see the same machine load; medians per call.
  Attributions are LightGBM's own ``pred_contrib`` on one row with one thread.
* **batch** (``leadml score --explain``, reports): rows per second for scoring and for
  attributions + roll-ups (``explain_rows``), once each; then LightGBM's ``pred_contrib`` alone
  (``model.contributions(x)``) against the full CSV columns with reasons
  (``explanation_columns(model, batch, x=x)``), both from the same encoded matrix of the same
  rows with the same threads, called alternately ``--repeats`` times; the best of each counts.

Goals: explaining one lead costs at most 2× scoring it (issue #3); explaining a batch runs at
least 0.9× as fast as ``pred_contrib`` on it, i.e. everything after the attributions costs at
most about 11% of them. Ratios taken in one run are what count on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import RESULTS, ROOT, table


def per_call(fn, leads, rounds: int) -> list[float]:
    return [fn(lead) for _ in range(rounds) for lead in leads]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=1_000, help="leads timed one by one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100_000, help="leads explained in batch")
    parser.add_argument("--repeats", type=int, default=3, help="alternating batch timings")
    parser.add_argument("--threads", type=int, default=0, help="batch threads (0: LightGBM's)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.data.synthetic import generate_leads
    from leadml.explain.attributions import explain_lead, explain_rows, explanation_columns
    from leadml.explain.rollup import prepare
    from leadml.modeling.train import train_leads
    from leadml.schema import bundled_schema

    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="leadml-bench-explain-"))
    print(f"Training on {args.train_rows:,} synthetic leads …", flush=True)
    result = train_leads(
        generate_leads(args.train_rows, seed=7),
        bundled_schema(),
        Settings(home=work, num_threads=1),
        out=work / "model",
        track=False,
    )
    model = result.model
    trees = model.booster.num_trees()
    leaves = sum(t["num_leaves"] for t in model.booster.dump_model()["tree_info"])
    print(f"Model: {trees} trees, {leaves:,} leaves, {len(model.feature_names)} features")

    t0 = time.perf_counter()
    prepare(LeadModel.load(result.bundle))  # what a server does when it loads a model
    prepare_s = time.perf_counter() - t0
    prepare(model)

    fresh = generate_leads(args.leads, seed=99)
    leads = fresh.drop(columns=["converted"]).astype(object)
    leads = leads.where(leads.notna(), None).to_dict("records")

    for lead in leads[:50]:  # warm caches and reason texts on both paths
        model.score_one(lead)
        explain_lead(model, lead)

    score_ns, explain_ns = [], []
    for _ in range(args.rounds):
        for lead in leads:
            t = time.perf_counter_ns()
            model.score_one(lead)
            score_ns.append(time.perf_counter_ns() - t)
            t = time.perf_counter_ns()
            explain_lead(model, lead)
            explain_ns.append(time.perf_counter_ns() - t)

    score_us = statistics.median(score_ns) / 1e3
    explain_us = statistics.median(explain_ns) / 1e3
    p95 = lambda v: float(np.percentile(v, 95)) / 1e3  # noqa: E731

    print(f"Batch: {args.batch:,} synthetic leads …", flush=True)
    batch = generate_leads(args.batch, seed=123).drop(columns=["converted"])

    def rate(fn, rows: int) -> float:
        t = time.perf_counter()
        fn()
        return rows / (time.perf_counter() - t)

    threads = args.threads
    x = model.matrix(batch)  # both sides of the batch goal start from this matrix
    score_rate = rate(lambda: model.score_frame(batch, num_threads=threads), len(batch))
    rows_rate = rate(lambda: explain_rows(model, x, num_threads=threads), len(batch))

    explanation_columns(model, batch.head(1_000), x=x[:1_000], num_threads=threads)  # warm
    contrib_rates, columns_rates = [], []
    for r in range(args.repeats):  # alternately, so both see the same machine load
        contrib_rates.append(rate(lambda: model.contributions(x, num_threads=threads), len(x)))
        columns_rates.append(
            rate(lambda: explanation_columns(model, batch, x=x, num_threads=threads), len(x))
        )
        print(
            f"  repeat {r + 1}: pred_contrib {contrib_rates[-1]:,.0f} rows/s, "
            f"explanation_columns {columns_rates[-1]:,.0f} rows/s",
            flush=True,
        )
    contrib_rate, columns_rate = max(contrib_rates), max(columns_rates)
    batch_ratio = columns_rate / contrib_rate
    median_ratio = statistics.median(columns_rates) / statistics.median(contrib_rates)

    rows = [
        {
            "path": "score_one (per lead)",
            "median µs": f"{score_us:.0f}",
            "p95 µs": f"{p95(score_ns):.0f}",
            "vs score": "1.00×",
        },
        {
            "path": "explain_lead (pred_contrib + roll-up + reasons)",
            "median µs": f"{explain_us:.0f}",
            "p95 µs": f"{p95(explain_ns):.0f}",
            "vs score": f"{explain_us / score_us:.2f}×",
        },
    ]
    batch_rows = [
        {"batch path": "score_frame (probability, grade, …)", "rows/s": f"{score_rate:,.0f}"},
        {"batch path": "explain_rows (attributions + roll-ups)", "rows/s": f"{rows_rate:,.0f}"},
        {
            "batch path": "LightGBM pred_contrib alone (model.contributions(x))",
            "rows/s": f"{contrib_rate:,.0f}",
        },
        {
            "batch path": "explanation_columns(x=x) (+ roll-ups, verdicts, reasons)",
            "rows/s": f"{columns_rate:,.0f}",
        },
    ]
    report = (
        f"Model: {trees} trees, {leaves:,} leaves; {args.leads:,} leads × {args.rounds} rounds "
        f"per lead; batch of {args.batch:,} leads, pred_contrib and explanation_columns "
        f"timed alternately from the same matrix, best of {args.repeats} each "
        f"(threads: {threads or 'LightGBM default'}); "
        f"{os.cpu_count()} cores, load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end; "
        f"prepare() on a freshly loaded model {prepare_s:.2f} s.\n\n"
        + table(rows, ["path", "median µs", "p95 µs", "vs score"])
        + "\n"
        + table(batch_rows, ["batch path", "rows/s"])
        + f"\nGoal: explain ≤ 2× score per lead → {explain_us / score_us:.2f}× "
        f"({'met' if explain_us / score_us <= 2 else 'NOT met'}).\n"
        f"Goal: batch explanation ≥ 0.9× pred_contrib → {batch_ratio:.2f}× "
        f"({'met' if batch_ratio >= 0.9 else 'NOT met'}; median of {args.repeats}: "
        f"{median_ratio:.2f}×; after pred_contrib "
        f"{(1 / columns_rate - 1 / contrib_rate) * 1e6:.1f} µs/row).\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "explain.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
