"""`leadml train` on 1,000,000 synthetic leads next to the bare `lightgbm.train` calls it makes.

`leadml train` fits many boosters: the backtest's folds for every recency weighting it tries
(one `lightgbm.cv` call each), then the shipped model on every lead (`lightgbm.train`). This
script runs `leadml train` first, reads from its `metrics.json` which fits it made (rows,
rounds, weighting), then replays exactly those calls, bare, on the same encoded matrix and
parameters, in their own process, in the same run; and once more as separate
`lightgbm.train` calls, one per fold (`lightgbm.cv` boosts its folds in lockstep, which costs a
little more than boosting them one after the other). The ratio leadml / bare is what leadml
adds around the learner: reading and validating the CSV, encoding, the leakage audit, the
baselines on every
fold, bootstrap intervals, calibration, plots, the report, MLflow logging and registration.

A third process does what a data scientist would write by hand (`read_csv`, category casts,
default `LGBMClassifier().fit`, no evaluation at all), reported as it falls.

Goal (issue: learn from all of the history): time ≤ 1.3× the bare calls; memory reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import BIN, RESULTS, ROOT, run_measured, table

BARE = r"""
import sys, json, time, numpy as np, lightgbm as lgb
data = np.load(sys.argv[1])
plan = json.load(open(sys.argv[2]))
mode = sys.argv[3]  # "cv": lightgbm.cv as leadml calls it; "train": one lightgbm.train per fold
x, y = data["x"], data["y"]
ages = data["ages"] if "ages" in data else None
folds = [(data[f"train{k}"], data[f"test{k}"]) for k in range(plan["folds"])]
def weights(rows, half_life):
    if half_life is None:
        return None
    w = np.power(0.5, ages[rows] / half_life)
    return w / w.mean()
def dataset(rows, w=None):
    return lgb.Dataset(x[rows], y[rows], weight=w, feature_name=plan["names"],
                       categorical_feature=plan["cats"], free_raw_data=False)
started = time.perf_counter()
everyone = np.arange(len(y))
for tried in plan["tried"]:
    hl = tried["half_life"]
    if mode == "cv":
        full = weights(everyone, hl)
        def weigh(train, test, prm):
            if full is not None:
                train.construct()
                w = full[train.used_indices]
                train.set_weight(w / w.mean())
            return train, test, prm
        lgb.cv(plan["params"], dataset(everyone), num_boost_round=tried["rounds_run"],
               folds=folds, fpreproc=weigh)
    else:
        for train, _ in folds:
            lgb.train(plan["params"], dataset(train, weights(train, hl)), tried["rounds_run"])
lgb.train(plan["params"], dataset(everyone, weights(everyone, plan["shipped_half_life"])),
          plan["shipped_rounds"])
print(f"{time.perf_counter() - started:.2f}")
"""

BY_HAND = r"""
import sys, pandas as pd, lightgbm as lgb
frame = pd.read_csv(sys.argv[1])
y = frame.pop("converted")
frame = frame.drop(columns=["lead_id", "full_name", "email", "phone", "created_at"])
for c in frame.columns:
    if not pd.api.types.is_numeric_dtype(frame[c]):
        frame[c] = frame[c].astype("category")
lgb.LGBMClassifier(verbose=-1).fit(frame, y)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--separate",
        action="store_true",
        help="also replay the fits as one lightgbm.train per fold (a few more minutes)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from leadml.bundle.model import LeadModel
    from leadml.data.read import read_table
    from leadml.data.split import backtest_folds
    from leadml.data.synthetic import generate_leads
    from leadml.data.validate import validate
    from leadml.modeling.booster import lgb_params
    from leadml.modeling.recency import lead_ages

    work = Path(tempfile.mkdtemp(prefix="leadml-bench-train-"))
    csv = work / "leads.csv"
    print(f"Generating {args.rows:,} leads …", flush=True)
    generate_leads(args.rows, seed=1).to_csv(csv, index=False)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {"LEADML_HOME": str(work), "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}

    print("leadml train …", flush=True)
    schema_file = ROOT / "data" / "schemas" / "synthetic.toml"
    ours = run_measured(
        [str(BIN / "leadml"), "train", "--data", str(csv), "--schema", str(schema_file)],
        env,
        cwd=work,
    )
    model = LeadModel.load(work / "models" / "synthetic-crm")
    metrics = model.metrics
    backtest, shipped = metrics["backtest"], metrics["shipped"]

    # The matrix and folds leadml learned from: its own encoder, the same rows and folds.
    checked = validate(read_table(csv), model.schema)
    folds = backtest_folds(checked.frame, checked.y, model.schema, 4, 0.2, 42)
    assert len(folds) == len(backtest["folds"]), "not the folds leadml used"
    ages = lead_ages(checked.frame, model.schema)
    arrays = {"x": model.encoder.transform(checked.frame), "y": checked.y}
    arrays |= {f"train{k}": f.train for k, f in enumerate(folds.folds)}
    arrays |= {f"test{k}": f.test for k, f in enumerate(folds.folds)}
    if ages is not None:
        arrays["ages"] = ages.values
    np.savez(work / "matrix.npz", **arrays)
    tried = [
        {"half_life": t["half_life"], "rounds_run": backtest["fits"][i * len(folds)]["rounds"]}
        for i, t in enumerate(backtest["recency"]["tried"])
    ]
    plan = {
        "names": model.encoder.names,
        "cats": model.encoder.categorical_indices,
        "params": lgb_params(model.encoder, 42, 2),
        "folds": len(folds),
        "tried": tried,
        "shipped_half_life": shipped["recency_half_life"],
        "shipped_rounds": shipped["rounds"],
    }
    (work / "plan.json").write_text(json.dumps(plan))
    del checked, arrays

    replay = [sys.executable, "-c", BARE, str(work / "matrix.npz"), str(work / "plan.json")]
    print(f"Bare lightgbm.cv × {len(tried)} + lightgbm.train …", flush=True)
    bare = run_measured([*replay, "cv"], env)
    fit_seconds = float(bare["stdout"].strip().splitlines()[-1])
    apart = None
    if args.separate:
        print(f"Bare lightgbm.train × {len(tried) * len(folds) + 1} …", flush=True)
        apart = run_measured([*replay, "train"], env)
        apart_seconds = float(apart["stdout"].strip().splitlines()[-1])
    print("By hand: read_csv + LGBMClassifier().fit …", flush=True)
    by_hand = run_measured([sys.executable, "-c", BY_HAND, str(csv)], env)

    fits = f"{len(tried)} weightings × {len(folds)} folds + the shipped model"
    rows = [
        {
            "what": f"bare LightGBM, the calls leadml makes ({fits}: lightgbm.cv, lightgbm.train)",
            "seconds": f"{fit_seconds:.1f}",
            "peak MiB": f"{bare['peak_mib']:.0f}",
        },
        {
            "what": "leadml train (CSV → validated, backtested, calibrated, logged, registered)",
            "seconds": f"{ours['seconds']:.1f}",
            "peak MiB": f"{ours['peak_mib']:.0f}",
        },
        {
            "what": "ratio leadml / bare calls",
            "seconds": f"{ours['seconds'] / fit_seconds:.2f}×",
            "peak MiB": f"{ours['peak_mib'] / bare['peak_mib']:.2f}×",
        },
        {
            "what": "by hand: read_csv + default LGBMClassifier().fit (one fit, no evaluation)",
            "seconds": f"{by_hand['seconds']:.1f}",
            "peak MiB": f"{by_hand['peak_mib']:.0f}",
        },
    ]
    if apart is not None:
        rows[1:1] = [
            {
                "what": "the same fits as separate lightgbm.train calls, one per fold",
                "seconds": f"{apart_seconds:.1f}",
                "peak MiB": f"{apart['peak_mib']:.0f}",
            }
        ]
        rows.append(
            {
                "what": "ratio leadml / separate lightgbm.train calls",
                "seconds": f"{ours['seconds'] / apart_seconds:.2f}×",
                "peak MiB": f"{ours['peak_mib'] / apart['peak_mib']:.2f}×",
            }
        )
    load = os.getloadavg()[0]
    report = (
        f"### Training {args.rows:,} leads (goal: ≤ 1.3× the bare fits; load {load:.1f})\n\n"
        + table(rows, ["what", "seconds", "peak MiB"])
        + f"\nleadml: backtest rounds {metrics['best_iteration']}, shipped rounds "
        f"{shipped['rounds']}; {backtest['recency']['note']}\n"
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train.md").write_text(report)


if __name__ == "__main__":
    main()
