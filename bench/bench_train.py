"""`leadml train` on 1,000,000 synthetic leads vs a bare `lightgbm.train` on the same matrix.

Both run in their own process, one after the other, in the same run of this script; the
ratios (leadml / bare) are what count on a shared, noisy machine. The bare run gets the same
training and validation rows, parameters and early stopping, so the difference is what leadml
adds around the learner: reading and validating the CSV, encoding, calibration, baselines,
plots, the report, MLflow logging and registration, the bundle.

Goal (issue #2): time ≤ 1.5×, peak memory ≤ 2×.
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
import sys, numpy as np, lightgbm as lgb, json
data = np.load(sys.argv[1])
spec = json.load(open(sys.argv[2]))
x, y = data["x"], data["y"]
train, valid = data["train"], data["valid"]
ds = lgb.Dataset(x[train], y[train], feature_name=spec["names"],
                 categorical_feature=spec["cats"], free_raw_data=True)
vs = lgb.Dataset(x[valid], y[valid], reference=ds, categorical_feature=spec["cats"])
b = lgb.train(spec["params"], ds, num_boost_round=2000, valid_sets=[vs],
              callbacks=[lgb.early_stopping(100, verbose=False)])
print(b.best_iteration)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from leadml.data.read import read_table
    from leadml.data.split import split_rows
    from leadml.data.synthetic import generate_leads
    from leadml.data.validate import validate
    from leadml.features.encoder import FeatureEncoder
    from leadml.modeling.booster import lgb_params
    from leadml.schema import bundled_schema

    work = Path(tempfile.mkdtemp(prefix="leadml-bench-train-"))
    csv = work / "leads.csv"
    print(f"Generating {args.rows:,} leads …", flush=True)
    generate_leads(args.rows, seed=1).to_csv(csv, index=False)

    # The matrix the bare run trains on: the same rows, split and encoding leadml uses.
    schema = bundled_schema()
    checked = validate(read_table(csv), schema)
    split = split_rows(checked.frame, checked.y, schema)
    encoder = FeatureEncoder.fit(schema, checked.frame.iloc[split.train])
    import numpy as np

    np.savez(
        work / "matrix.npz",
        x=encoder.transform(checked.frame),
        y=checked.y,
        train=split.train,
        valid=split.valid,
    )
    spec = {
        "names": encoder.names,
        "cats": encoder.categorical_indices,
        "params": lgb_params(encoder, 42, 2),
    }
    (work / "spec.json").write_text(json.dumps(spec))
    del checked, encoder

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {"LEADML_HOME": str(work), "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    print("Bare lightgbm.train …", flush=True)
    bare = run_measured(
        [sys.executable, "-c", BARE, str(work / "matrix.npz"), str(work / "spec.json")], env
    )
    print("leadml train …", flush=True)
    schema_file = ROOT / "data" / "schemas" / "synthetic.toml"
    ours = run_measured(
        [str(BIN / "leadml"), "train", "--data", str(csv), "--schema", str(schema_file)],
        env,
        cwd=work,
    )
    rows = [
        {
            "what": "bare lightgbm.train (same matrix, params, early stopping)",
            "seconds": f"{bare['seconds']:.1f}",
            "peak MiB": f"{bare['peak_mib']:.0f}",
        },
        {
            "what": "leadml train (CSV → validated, calibrated, evaluated, logged, registered)",
            "seconds": f"{ours['seconds']:.1f}",
            "peak MiB": f"{ours['peak_mib']:.0f}",
        },
        {
            "what": "ratio leadml / bare",
            "seconds": f"{ours['seconds'] / bare['seconds']:.2f}×",
            "peak MiB": f"{ours['peak_mib'] / bare['peak_mib']:.2f}×",
        },
    ]
    report = f"### Training {args.rows:,} leads (goal: ≤ 1.5× time, ≤ 2× memory)\n\n" + table(
        rows, ["what", "seconds", "peak MiB"]
    )
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train.md").write_text(report)


if __name__ == "__main__":
    main()
