"""Explaining a lead vs scoring it, one lead at a time and in batch.

One small model is trained in this process on synthetic leads; then, on the same fresh leads:

* **per lead** (the API path): ``model.score_one(lead)`` against ``explain_lead(model, lead)``,
  called alternately lead by lead so both see the same machine load; medians per call.
  Attributions are LightGBM's own ``pred_contrib`` on one row with one thread.
* **batch** (``leadml score --explain``, reports): rows per second for scoring, for
  attributions + roll-ups (``explain_rows``), for the full CSV columns with reasons
  (``explanation_columns``), and for ``pred_contrib`` itself.

Goal (issue #3): explaining one lead costs at most 2× scoring it. Ratios taken in one run are
what count on a shared machine.
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
    parser.add_argument("--contrib-batch", type=int, default=20_000, help="rows for pred_contrib")
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

    x = model.matrix(batch)
    score_rate = rate(lambda: model.score_frame(batch), len(batch))
    rows_rate = rate(lambda: explain_rows(model, x), len(batch))
    columns_rate = rate(lambda: explanation_columns(model, batch), len(batch))
    sub = x[: args.contrib_batch]
    contrib_rate = rate(lambda: model.booster.predict(sub, pred_contrib=True), len(sub))

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
            "batch path": "explanation_columns (+ reasons, for --explain)",
            "rows/s": f"{columns_rate:,.0f}",
        },
        {"batch path": "LightGBM pred_contrib alone", "rows/s": f"{contrib_rate:,.0f}"},
    ]
    report = (
        f"Model: {trees} trees, {leaves:,} leaves; {args.leads:,} leads × {args.rounds} rounds "
        f"per lead; batch of {args.batch:,} leads ({args.contrib_batch:,} for pred_contrib); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"prepare() on a freshly loaded model {prepare_s:.2f} s.\n\n"
        + table(rows, ["path", "median µs", "p95 µs", "vs score"])
        + "\n"
        + table(batch_rows, ["batch path", "rows/s"])
        + f"\nGoal: explain ≤ 2× score per lead → {explain_us / score_us:.2f}× "
        f"({'met' if explain_us / score_us <= 2 else 'NOT met'}).\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "explain.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
