"""Everything after the booster is fitted, the same for one machine and for Dask: calibrate,
evaluate against the baselines, choose grade bands, write the bundle and its report, log the
run, register the model, and put the bundle in place.

Order matters for safety: the bundle replaces the previous one only after the run and the
registry version exist, so a failure at any step leaves the last good model as it was.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from leadml import __version__
from leadml.bundle.calibration import fit_calibrator
from leadml.bundle.files import replace_folder
from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.modeling.baselines import baseline_predictions
from leadml.modeling.booster import Fitted
from leadml.modeling.metrics import classification_metrics
from leadml.modeling.prepare import Prepared
from leadml.qualify.grades import choose_bands

Progress = Callable[[str], None]


@dataclass
class RunOptions:
    """Where a training run goes: the settings, the registered model's name, the MLflow
    experiment (None: not tracked), the bundle folder, and whom to tell about progress."""

    settings: Settings
    name: str
    experiment_id: str | None = None
    out: Path | None = None
    say: Progress = field(default=lambda _msg: None)
    source: str | None = None
    started: float = field(default_factory=time.perf_counter)


@dataclass
class TrainResult:
    """What a training run produced, for the CLI, notebooks and tests."""

    model: LeadModel
    bundle: Path | None
    run_id: str | None
    version: str | None
    metrics: dict[str, Any]
    grade_table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def finish_training(fitted: Fitted, data: Prepared, run: RunOptions) -> TrainResult:
    """Calibrate on the validation rows, judge on the test rows, write, log and register."""
    say, settings = run.say, run.settings
    booster, encoder, warnings = fitted.booster, data.encoder, list(data.warnings)
    say("Calibrating probabilities on the validation slice")
    raw_valid = booster.predict(data.valid.x, raw_score=True)
    calibrator, calib_losses = fit_calibrator(raw_valid, data.valid.y, seed=settings.seed)

    say("Evaluating on the test slice against baselines")
    test = data.test
    p_test = calibrator(booster.predict(test.x, raw_score=True))
    baselines = baseline_predictions(
        data.train, test, encoder.names, data.schema, seed=settings.seed
    )
    predictions = {"model": p_test, **baselines}
    scores = {name: classification_metrics(test.y, p) for name, p in predictions.items()}
    bands, table, strict = choose_bands(p_test, test.y, settings.grade_shares)
    if not strict:
        warnings.append("observed conversion does not fall strictly from grade A to D on test")

    trained_at = datetime.now(UTC).isoformat(timespec="seconds")
    metrics: dict[str, Any] = {
        **scores["model"],
        "baselines": {k: v for k, v in scores.items() if k != "model"},
        "test_rows": len(test.y),
        "test_positive_rate": float(test.y.mean()),
        "best_iteration": booster.best_iteration,
        "calibration": calibrator.method,
        "calibration_cv_log_loss": calib_losses,
        "split": data.split_method,
        "grades": table.to_dict(orient="records"),
        "grades_strictly_falling": strict,
    }
    meta: dict[str, Any] = {
        "model_id": f"local-{trained_at}",
        "trained_at": trained_at,
        "leadml_version": __version__,
        "data": data.data_print,
        "source": run.source,
        "rows": data.rows,
        "warnings": warnings,
        "leakage": data.leakage,
        **data.meta,
    }
    model = LeadModel(booster, encoder, data.schema, calibrator, bands, meta, metrics)

    workdir = Path(tempfile.mkdtemp(prefix="leadml-train-"))
    try:
        say("Writing plots and the model report")
        bundle_dir = workdir / "bundle"
        model.write_files(bundle_dir)
        from leadml.report.html import write_report
        from leadml.report.plots import plot_evaluation

        plot_evaluation(test.y, predictions, bundle_dir / "plots")
        write_report(model, test.x, test.y, predictions, bundle_dir, framework=settings.framework)

        run_id = version = None
        if run.experiment_id is not None:
            from leadml.tracking.registry import version_label
            from leadml.tracking.runs import log_run

            say("Logging the run to MLflow and registering the model")
            run_id, version = log_run(run.experiment_id, run.name, model, fitted.params, bundle_dir)
            model.meta.update(
                {
                    "run_id": run_id,
                    "version": version_label(run.name, version, run_id),
                    "registry_version": str(version),
                    "registered_model": run.name,
                }
            )
            model.write_files(bundle_dir)  # the on-disk bundle knows its registry version
        bundle = None
        if run.out is not None:
            bundle = Path(run.out).resolve()
            replace_folder(bundle_dir, bundle)
        say(f"Done in {time.perf_counter() - run.started:.1f} s")
        return TrainResult(model, bundle, run_id, version, metrics, table, warnings)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
