"""Real public lead data: leadml next to plain baselines on the same split (README table).

For each shared data set this runs the one `leadml train` command a user would type on the raw
files (schema inferred, leakage guard on), then fits two baselines on exactly the same rows
and features: a plain LogisticRegression (one-hot categories, median-imputed and scaled
numbers) and a default HistGradientBoostingClassifier. A last column shows what the default
HistGradientBoostingClassifier would have scored *with* the columns the guard left out: the
size of the leak it prevented.

    .venv/bin/python bench/real_data_table.py [--data ../shared/data]

Prints a markdown table. Slow part: four trainings through the CLI (a few minutes).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.data.outcomes import attach_outcomes
from leadml.data.read import read_table
from leadml.data.split import split_rows
from leadml.data.suggest import suggest_schema
from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.schema import LeadSchema

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Case:
    name: str
    data: str
    args: list[str]
    outcomes: str | None = None
    on: str | None = None


def cases(shared: Path) -> list[Case]:
    bank = shared / "bank-marketing"
    olist = shared / "olist-marketing-funnel"
    return [
        Case(
            "bank-full, time order",
            str(bank / "bank-full.csv"),
            ["--target", "y", "--positive", "yes", "--time-order"],
        ),
        Case(
            "bank-full, shuffled",
            str(bank / "bank-full.csv"),
            ["--target", "y", "--positive", "yes"],
        ),
        Case(
            "bank-additional-full, time order",
            str(bank / "bank-additional-full.csv"),
            ["--target", "y", "--positive", "yes", "--time-order"],
        ),
        Case(
            "Olist MQL + closed deals",
            str(olist / "olist_marketing_qualified_leads_dataset.csv"),
            [],
            outcomes=str(olist / "olist_closed_deals_dataset.csv"),
            on="mql_id",
        ),
    ]


def run_cli(case: Case, home: Path) -> float:
    """`leadml train` in its own process, in a fresh project folder; returns the wall time."""
    args = ["train", "--data", case.data, *case.args]
    if case.outcomes:
        args += ["--outcomes", case.outcomes, "--on", str(case.on)]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["LEADML_HOME"] = str(home)
    exe = Path(sys.executable).with_name("leadml")
    started = time.perf_counter()
    done = subprocess.run([str(exe), *args], cwd=home, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{case.name}: leadml train failed\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def matrix(schema: LeadSchema, frame: pd.DataFrame, train: np.ndarray) -> tuple[np.ndarray, list]:
    """The features as leadml encodes them (codes for categories), fitted on training rows."""
    encoder = FeatureEncoder.fit(schema, frame.iloc[train])
    x = encoder.transform(frame)
    cats = encoder.categorical_indices
    for j in cats:  # HistGradientBoosting takes category codes below max_bins (255)
        x[:, j] = np.where(x[:, j] < 254, x[:, j], np.nan)
    return x, cats


def logistic(x: np.ndarray, cats: list[int], y: np.ndarray, fit: np.ndarray, test: np.ndarray):
    nums = [j for j in range(x.shape[1]) if j not in cats]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value=-1),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                cats,
            ),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=2000))
    return model.fit(x[fit], y[fit]).predict_proba(x[test])[:, 1]


def boosting(x: np.ndarray, cats: list[int], y: np.ndarray, fit: np.ndarray, test: np.ndarray):
    mask = np.zeros(x.shape[1], dtype=bool)
    mask[cats] = True
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=0)
    return model.fit(x[fit], y[fit]).predict_proba(x[test])[:, 1]


def evaluate(case: Case) -> dict:
    with tempfile.TemporaryDirectory(prefix="leadml-bench-") as tmp:
        home = Path(tmp)
        seconds = run_cli(case, home)
        (bundle,) = (home / "models").iterdir()  # one project: named after its data file
        model = LeadModel.load(bundle)
        metrics = model.metrics
    frame = read_table(case.data)
    target, positive = "y", "yes"
    if case.outcomes:
        frame, _ = attach_outcomes(frame, read_table(case.outcomes), str(case.on))
        target, positive = "converted", "1"
    full = suggest_schema(frame, target, positive).schema.model_copy(
        update={"rows_in_time_order": "--time-order" in case.args}
    )
    checked = validate(frame, full)
    settings = Settings()
    split = split_rows(
        checked.frame,
        checked.y,
        model.schema,
        settings.test_fraction,
        settings.valid_fraction,
        settings.seed,
    )
    y = checked.y
    assert len(split.test) == metrics["test_rows"], "not the split leadml used"
    assert abs(y[split.test].mean() - metrics["test_positive_rate"]) < 1e-12
    fit = np.concatenate([split.train, split.valid])  # baselines need no early-stopping slice

    x, cats = matrix(model.schema, checked.frame, split.train)
    p_lr = logistic(x, cats, y, fit, split.test)
    p_hgb = boosting(x, cats, y, fit, split.test)
    x_all, cats_all = matrix(checked.schema, checked.frame, split.train)
    p_leaky = boosting(x_all, cats_all, y, fit, split.test)
    y_test = y[split.test]
    leakage = model.meta.get("leakage", {})
    return {
        "case": case,
        "seconds": seconds,
        "flagged": leakage.get("dropped", []),
        "split": metrics["split"],
        "rows": f"{len(split.train) + len(split.valid):,} / {len(split.test):,}",
        "rate": y_test.mean(),
        "leadml": (metrics["roc_auc"], metrics["pr_auc"]),
        "lr": (roc_auc_score(y_test, p_lr), average_precision_score(y_test, p_lr)),
        "hgb": (roc_auc_score(y_test, p_hgb), average_precision_score(y_test, p_hgb)),
        "leaky": roc_auc_score(y_test, p_leaky) if leakage.get("dropped") else None,
    }


def command(case: Case, shared: Path) -> str:
    parts = ["leadml train --data", Path(case.data).name, *case.args]
    if case.outcomes:
        parts += ["--outcomes", Path(case.outcomes).name, "--on", str(case.on)]
    return "`" + " ".join(parts) + "`"


def table(rows: list[dict], shared: Path) -> str:
    head = (
        "| data | command | left out by the leakage guard | split | fit / test rows | "
        "test conversion | leadml ROC AUC | leadml PR AUC | LogisticRegression ROC / PR | "
        "HistGradientBoosting ROC / PR | HGB with the left-out columns, ROC |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        leaky = f"{r['leaky']:.3f}" if r["leaky"] is not None else "–"
        lines.append(
            f"| {r['case'].name} | {command(r['case'], shared)} | "
            f"{', '.join(r['flagged']) or 'none'} | {r['split']} | {r['rows']} | "
            f"{r['rate']:.1%} | **{r['leadml'][0]:.3f}** | {r['leadml'][1]:.3f} | "
            f"{r['lr'][0]:.3f} / {r['lr'][1]:.3f} | {r['hgb'][0]:.3f} / {r['hgb'][1]:.3f} | "
            f"{leaky} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    rows = []
    for case in cases(args.data):
        row = evaluate(case)
        print(f"{case.name}: trained through the CLI in {row['seconds']:.0f} s", file=sys.stderr)
        rows.append(row)
    print(table(rows, args.data))
    print(
        "\nSame rows and features for all three; the baselines are fitted on the training and "
        "validation rows leadml used (it needs the validation rows for early stopping and "
        "calibration). Left-out columns: see the model report and leakage_audit.json.",
    )


if __name__ == "__main__":
    main()
