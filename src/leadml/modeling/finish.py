"""Everything after the shipped booster is fitted, the same for one machine and for Dask:
calibrate on the backtest's held-out scores, take the backtest's figures, choose grade bands,
write the bundle and its report, log the run, register the model, and put the bundle in place.

Which numbers belong to which model: the figures (top level of ``metrics.json``: the headline
fold; ``backtest``: every fold and the pooled folds) are those of the backtest's models, each
trained only on leads older than (or apart from) those it is judged on. The shipped model is
trained on every lead; ``shipped`` says on how many, for how many rounds, with what weighting
and calibration. It is judged by the backtest because nothing is left to judge it on.

Order matters for safety: the bundle replaces the previous one only after the run and the
registry version exist, so a failure at any step leaves the last good model as it was. With a
bundle key (``LEADML_BUNDLE_KEY``) the folder is signed once every file is in it, each time it
is (re)written: the copy MLflow logs and the one put in place both verify.
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

import numpy as np
import pandas as pd

from leadml.bundle.files import replace_folder
from leadml.bundle.model import LeadModel
from leadml.bundle.signing import sign_bundle
from leadml.config import Settings
from leadml.counts import plural
from leadml.features.novelty_counts import novelty_spec
from leadml.modeling.audit import training_audit
from leadml.modeling.booster import Fitted
from leadml.modeling.conformal import fit_outcome_interval
from leadml.modeling.judge import Backtest
from leadml.modeling.prepare import Prepared
from leadml.modeling.segments import judge_segments
from leadml.modeling.verdict import judge_against_baselines
from leadml.monitor.profile import reference_profile
from leadml.qualify.grades import choose_bands
from leadml.version import __version__

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
    #: Give the new version its aliases even when it loses to its baselines.
    force: bool = False
    #: With a segment column, try specialist models (one machine; Dask gives per-segment
    #: figures, calibration and bands of the global model only).
    specialists: bool = True


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
    #: The new version was given its aliases although it loses to its baselines (--force).
    forced: bool = False


def bundle_folder(run: RunOptions, version: str | None) -> Path:
    """Where the bundle goes: ``run.out``, except that the project's own folder
    (``models/<name>/``, what the Docker example mounts and the README scores with) always
    holds the champion: a version registered beside a champion it did not displace is
    written to ``models/<name>-challenger/`` instead (``leadml promote`` then swaps it in)."""
    out = Path(run.out).resolve()  # type: ignore[arg-type]
    own = (run.settings.models_dir / run.name).resolve()
    if out != own or version is None:
        return out
    from leadml.tracking.runs import champion_version

    if champion_version(run.name) in (None, str(version)):
        return out
    beside = out.with_name(f"{out.name}-challenger")
    run.say(f"The champion stays in {out}; this challenger goes to {beside}")
    return beside


def finish_training(
    fitted: Fitted, data: Prepared, backtest: Backtest, run: RunOptions
) -> TrainResult:
    """Calibrate on the backtest's held-out scores, report its figures, write, log and register."""
    say, settings = run.say, run.settings
    booster, encoder, warnings = fitted.booster, data.encoder, list(data.warnings)
    if backtest.folds.dropped:
        warnings.append(
            f"{plural(backtest.folds.dropped, 'backtest fold')} held one class only and "
            "were left out"
        )
    if len(backtest.folds) < 3:
        folds = plural(len(backtest.folds), "fold")
        warnings.append(f"the backtest has {folds}; more leads give more")
    say("Calibrating probabilities on the backtest's held-out scores")
    calibrator, calib_losses = backtest.calibrator(data.rows.y, settings.seed)

    head = data.folds.headline
    y_head = data.rows.y[head.test]
    predictions = {"model": backtest.honest[head.test], **backtest.headline_baselines}
    report = backtest.reports[-1]
    # Grade cut-offs in the shipped model's probability scale, on leads it was not fitted on.
    p_bands = calibrator(backtest.shipped_scale(head.test))
    bands, table, strict = choose_bands(p_bands, y_head, settings.grade_shares)
    if not strict:
        warnings.append("observed conversion does not fall strictly from grade A to D on test")
    segmented = judge_segments(
        data, backtest, booster, calibrator, settings, say, bands, run.specialists
    )
    rounds = booster.current_iteration()
    recency = backtest.to_dict()["recency"]

    trained_at = datetime.now(UTC).isoformat(timespec="seconds")
    label = data.label.to_dict() if data.label else None
    metrics: dict[str, Any] = {
        **report.metrics,
        "intervals": report.intervals,
        "baselines": report.baselines,
        "figures_from": "the backtest's headline fold: a model trained on the leads before it "
        "(apart from it, without a time order), calibrated on earlier folds' scores",
        "test_rows": len(y_head),
        "test_positive_rate": float(y_head.mean()),
        "best_iteration": backtest.chosen.rounds,
        "calibration": calibrator.method,
        "calibration_cv_log_loss": calib_losses,
        "split": data.folds.method,
        "label": label,
        "grades": table.to_dict(orient="records"),
        "grades_strictly_falling": strict,
        "backtest": backtest.to_dict(),
        "shipped": {
            "rows": data.total_rows,
            "rounds": rounds,
            "recency_half_life": recency["half_life"],
            "recency_unit": recency["unit"],
            "calibration": calibrator.method,
            "calibrated_on": len(backtest.judged),
            "note": "trained on every lead; judged by the backtest above",
        },
    }
    if segmented is not None:
        metrics["segments"] = segmented.to_dict()
    verdict = judge_against_baselines(metrics)
    metrics["verdict"] = verdict.to_dict()
    meta: dict[str, Any] = {
        "model_id": f"local-{trained_at}",
        "trained_at": trained_at,
        "leadml_version": __version__,
        "data": data.data_print,
        "source": run.source,
        "rows": {
            "shipped": data.total_rows,
            "opted out": data.opted_out,
            "headline train": len(head.train),
            "headline test": len(head.test),
        },
        "warnings": warnings,
        "leakage": data.leakage,
        # What the probability means: converted within this horizon (None: outcomes as final).
        "label": label,
        "verdict": verdict.to_dict(),
        **data.meta,
    }
    model = LeadModel(
        booster,
        encoder,
        data.schema,
        calibrator,
        bands,
        meta,
        metrics,
        segments=None if segmented is None else segmented.routes,
    )
    # What the training leads looked like, as numbers only: what monitoring measures drift from.
    model.meta["reference"] = reference_profile(model, data.rows.x, seed=settings.seed)
    # How unusual a lead is (the unfamiliar flag), and the 90 % outcome interval calibrated on
    # the backtest's held-out leads: neither uses a lead the judging model learned from.
    model.meta["novelty"] = novelty_spec(encoder, data.rows.x, seed=settings.seed)
    judged = backtest.judged
    model.meta["interval"] = fit_outcome_interval(backtest.honest[judged], data.rows.y[judged])
    if segmented is not None:
        seen = segmented.headline_p  # each lead by its segment's calibrator
    else:
        seen = np.full(len(data.rows.y), np.nan)
        seen[head.test] = p_bands
    audit = training_audit(model, data, backtest, settings, seen)
    if audit is not None:
        say("Auditing fairness by " + ", ".join(data.schema.audit))
        metrics["audit"] = audit

    workdir = Path(tempfile.mkdtemp(prefix="leadml-train-"))
    try:
        say("Writing plots and the model report")
        bundle_dir = workdir / "bundle"
        model.write_files(bundle_dir)
        from leadml.report.html import retitle_report, write_report
        from leadml.report.plots import plot_evaluation, plot_folds

        plot_evaluation(y_head, predictions, bundle_dir / "plots")
        plot_folds(metrics["backtest"], bundle_dir / "plots" / "backtest.png")
        write_report(
            model,
            data.rows.x[head.test],
            y_head,
            predictions,
            bundle_dir,
            framework=settings.framework,
        )
        if settings.bundle_key is not None:
            sign_bundle(bundle_dir, settings.bundle_key)

        run_id = version = None
        if run.experiment_id is not None:
            from leadml.tracking.registry import version_label
            from leadml.tracking.runs import log_run

            say("Logging the run to MLflow and registering the model")
            crown = not verdict.loses or run.force
            run_id, version = log_run(
                run.experiment_id, run.name, model, fitted.params, bundle_dir, crown=crown
            )
            model.meta.update(
                {
                    "run_id": run_id,
                    "version": version_label(run.name, version, run_id),
                    "registry_version": str(version),
                    "registered_model": run.name,
                }
            )
            model.write_files(bundle_dir)  # the on-disk bundle knows its registry version
            retitle_report(bundle_dir, model.meta["model_id"], model.version)  # and its report
            if settings.bundle_key is not None:
                sign_bundle(bundle_dir, settings.bundle_key)
        bundle = None
        if run.out is not None:
            bundle = bundle_folder(run, version)
            replace_folder(bundle_dir, bundle)
        say(f"Done in {time.perf_counter() - run.started:.1f} s")
        forced = verdict.loses and run.force
        return TrainResult(model, bundle, run_id, version, metrics, table, warnings, forced)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
