"""One MLflow run per training: params, metrics, fingerprint, schema, plots, report, the pyfunc,
and the registry version.

Only derived numbers, the schema and plots are logged: never a row of data, so never personal
data. The model is logged as a pyfunc "from code" (:mod:`leadml.tracking.pyfunc`) around the
bundle's plain files, so ``mlflow models serve`` works and nothing is pickled.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from warnings import catch_warnings, filterwarnings

import numpy as np
import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.data.write import csv_text
from leadml.report.html import REPORT_FILE
from leadml.schema.spec import LeadSchema
from leadml.version import __version__


def pyfunc_signature(schema: LeadSchema) -> Any:
    """The pyfunc's inputs and outputs for MLflow's UI, registry and ``mlflow models serve``.

    Every input is optional and of any type: CRMs send numbers as text and leave fields out,
    and the bundle's own encoder is what checks values. Columns not listed (the id, personal
    data) are dropped by MLflow before the model sees them. The time column is listed when
    present, as the reference for date ages.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    columns = list(dict.fromkeys([*(f.column for f in schema.features)]))
    if schema.time and any(f.kind == "age_days" for f in schema.features):
        columns = list(dict.fromkeys([*columns, schema.time]))
    outputs = [("double", "probability"), ("long", "score")]
    outputs += [("string", name) for name in ("grade", "tier", "stage")]
    return ModelSignature(
        inputs=Schema([ColSpec(AnyType(), name, required=False) for name in columns]),
        outputs=Schema([ColSpec(kind, name) for kind, name in outputs]),
    )


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """MLflow metrics from the nested evaluation: test_* (the headline fold), pooled_* (every
    backtest fold), baseline_<name>_*, grade_<G>_*."""
    flat = {f"test_{k}": v for k, v in metrics.items() if isinstance(v, float)}
    pooled = metrics.get("backtest", {}).get("pooled", {})
    flat |= {f"pooled_{k}": v for k, v in pooled.items() if isinstance(v, float)}
    for base, values in metrics.get("baselines", {}).items():
        flat |= {f"baseline_{base}_{k}": v for k, v in values.items()}
    for row in metrics.get("grades", []):
        flat[f"grade_{row['grade']}_conversion"] = row["conversion"]
    flat |= segment_metrics(metrics.get("segments"))
    if metrics.get("audit"):
        from leadml.fairness.audit import metrics_for_mlflow

        flat |= metrics_for_mlflow(metrics["audit"])
    return {k: v for k, v in flat.items() if v is not None and np.isfinite(v)}


def segment_metrics(segments: dict[str, Any] | None) -> dict[str, float]:
    """segment.<value>.<figure>: each segment's pooled backtest figures, and whether a
    specialist scores it (a value's unsafe characters made underscores)."""
    out: dict[str, float] = {}
    for seg in (segments or {}).get("segments", []):
        key = "segment." + (re.sub(r"[^\w\-. /]", "_", str(seg["value"])) or "_")
        for name in ("roc_auc", "ece", "conversion"):
            value = seg["pooled"].get(name)
            if isinstance(value, float):
                out[f"{key}.{name}"] = value
        out[f"{key}.specialist"] = float(seg["model"] != "global")
    return out


def champion_version(name: str) -> str | None:
    """The version holding ``name``'s champion alias in the current store, if any."""
    from mlflow.tracking import MlflowClient

    from leadml.tracking.aliases import CHAMPION, alias_version

    return alias_version(MlflowClient(), name, CHAMPION)


def log_run(
    experiment_id: str,
    name: str,
    model: LeadModel,
    params: dict[str, Any],
    bundle_dir: Path,
    crown: bool = True,
) -> tuple[str, str]:
    """Log the run that made ``model`` (its files are in ``bundle_dir``) and register it under
    ``name``, with the challenger (and, if vacant, champion) alias unless ``crown`` is False;
    returns the run id and the registry version."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from leadml.tracking.registry import register

    metrics, meta = model.metrics, model.meta
    logged_params = {
        k: (json.dumps(v) if isinstance(v, list) else v) for k, v in params.items()
    } | {
        "best_iteration": metrics["best_iteration"],
        "calibration": metrics["calibration"],
        "split": metrics["split"],
        "features": len(model.feature_names),
        "rows_shipped": meta["rows"]["shipped"],
        "rows_headline_train": meta["rows"]["headline train"],
        "rows_headline_test": meta["rows"]["headline test"],
        "shipped_rounds": metrics["shipped"]["rounds"],
        "recency_half_life": metrics["shipped"]["recency_half_life"],
        "backtest_folds": len(metrics["backtest"]["folds"]),
    }
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.set_tags(
            {
                "leadml.version": __version__,
                "leadml.schema": model.schema.name,
                "leadml.data_sha256": meta["data"]["sha256"],
                # The data window, for `leadml versions` (the fingerprint's first and last lead).
                "leadml.data_from": str(meta["data"].get("time_from") or ""),
                "leadml.data_to": str(meta["data"].get("time_to") or ""),
                "leadml.trained_at": str(meta.get("trained_at") or ""),
                # One plain sentence when the model loses to its baselines (else empty).
                "leadml.verdict": (metrics.get("verdict") or {}).get("sentence") or "",
                "leadml.horizon_days": str((meta.get("label") or {}).get("horizon_days") or ""),
            }
        )
        mlflow.log_params(logged_params)
        mlflow.log_metrics(flat_metrics(metrics))
        mlflow.log_dict(meta["data"], "data_fingerprint.json")
        mlflow.log_dict(meta.get("leakage", {}), "leakage_audit.json")
        if meta.get("label"):  # how the outcomes were read: classes, horizon, counts
            mlflow.log_dict(meta["label"], "label.json")
        mlflow.log_text(model.schema.to_toml(), "schema.toml")
        mlflow.log_text("\n".join(meta.get("warnings", [])) or "none", "warnings.txt")
        table = pd.DataFrame(metrics.get("grades", []))
        mlflow.log_text(csv_text(table), "grade_table.csv")
        mlflow.log_dict(metrics, "metrics.json")
        folds = pd.DataFrame(
            [
                {k: v for k, v in fold.items() if k not in ("intervals", "baselines")}
                for fold in metrics["backtest"]["folds"]
            ]
        )
        mlflow.log_text(csv_text(folds), "backtest_folds.csv")
        for fold in metrics["backtest"]["folds"]:
            mlflow.log_metric("backtest_roc_auc", fold["roc_auc"], step=fold["fold"])
        for trial in (metrics["backtest"].get("tuning") or {}).get("trials", []):
            with mlflow.start_run(
                experiment_id=experiment_id, run_name=f"tuning trial {trial['number']}", nested=True
            ):
                mlflow.log_params(trial["params"])
                mlflow.set_tag("leadml.trial_state", trial["state"])
                if trial["log_loss"] is not None:
                    mlflow.log_metric("backtest_log_loss", trial["log_loss"])
        for path in sorted((bundle_dir / "plots").glob("*.png")):
            mlflow.log_artifact(str(path), artifact_path="plots")
        report = bundle_dir / REPORT_FILE
        if report.is_file():
            mlflow.log_artifact(str(report), artifact_path="report")
        with catch_warnings():
            # No input example on purpose: it would have to be a real lead, personal data
            # included; the signature already names every field.
            filterwarnings("ignore", message=".*input example was not provided")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(Path(__file__).with_name("pyfunc.py")),
                artifacts={"bundle": str(bundle_dir)},
                pip_requirements=[f"leadml=={__version__}"],
                signature=pyfunc_signature(model.schema),
            )
        run_id = run.info.run_id
    version = register(MlflowClient(), info.model_uri, name, run_id, crown=crown)
    return run_id, version
