"""Everything a user judges, per segment: the backtest's folds, calibration, grade bands and
the specialists, from the same backtest as the global model.

With ``schema.segment`` the global model has the segment among its features; this module
then reads the backtest per segment value (the encoder's levels of that column):

* the fold table: per fold and pooled, the leads, conversion, ROC AUC and ECE of the global
  model's honest probabilities on the segment's leads, with bootstrap intervals;
* calibration: the segment's own calibrator where it has ``segment_min_class`` leads of each
  class among the judged leads *and* its cross-validated log loss beats the global
  calibrator's on them; else the global one (the report says which);
* grade bands: the segment's own (the same shares, among its own leads; so its SQL cut-off
  and, with ``leadml thresholds --segment``, its own capacity), where its headline leads
  hold both classes and at least ``MIN_BAND_LEADS``; else the global bands;
* specialists (:mod:`leadml.modeling.specialists`): for at most ten segments with enough
  leads of both classes (largest first), shipped where they win.

The result is the bundle's :class:`leadml.bundle.routes.SegmentRoutes` and the per-segment
section of ``metrics.json``, the report and MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from leadml.bundle.calibration import Calibrator, fit_calibrator
from leadml.bundle.routes import MAX_SPECIALISTS, Route, SegmentRoutes, specialist_file
from leadml.config import Settings
from leadml.counts import plural
from leadml.modeling.held_out import calibration_methods
from leadml.modeling.judge import Backtest
from leadml.modeling.metrics import bootstrap_intervals, classification_metrics
from leadml.modeling.prepare import Prepared
from leadml.modeling.specialists import compare, ship
from leadml.qualify.grades import GradeBands, choose_bands

Progress = Callable[[str], None]
#: A segment's own grade bands need at least this many leads in the headline fold.
MIN_BAND_LEADS = 200
#: The row of leads without a known segment value.
MISSING = "(missing)"


@dataclass
class SegmentReport:
    """One segment value's figures and what it was given."""

    value: str
    leads: int
    converted: int
    folds: list[dict[str, Any]] = field(default_factory=list)
    pooled: dict[str, Any] = field(default_factory=dict)
    calibration: str = "global"
    calibration_log_loss: dict[str, float] = field(default_factory=dict)
    bands: str = "global"
    grades: list[dict[str, Any]] = field(default_factory=list)
    sql_cutoff: float | None = None
    specialist: dict[str, Any] | None = None
    model: str = "global"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Segmented:
    """The routes the bundle carries and the per-segment record."""

    column: str
    routes: SegmentRoutes
    reports: list[SegmentReport]
    #: Every lead's probability as its segment's bands were chosen on (its route's
    #: calibrator on the shipped scale), NaN outside the headline fold: what the fairness
    #: audit selects at the SQL cut-off.
    headline_p: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "specialists": [r.value for r in self.routes.specialists],
            "segments": [r.to_dict() for r in self.reports],
        }


def _figures(y: np.ndarray, p: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"leads": len(y), "conversion": float(y.mean()) if len(y) else None}
    if len(y) and 0 < y.sum() < len(y):
        out.update(classification_metrics(y, p))
        out["intervals"] = bootstrap_intervals(y, p, resamples, seed)
    return out


def _fold_table(data: Prepared, backtest: Backtest, rows: np.ndarray, settings: Settings):
    y, p = data.rows.y, backtest.honest
    folds = []
    for k, fold in enumerate(backtest.folds.folds):
        at = fold.test[rows[fold.test]]
        folds.append({"fold": k + 1, **_figures(y[at], p[at], settings.bootstrap, settings.seed)})
    judged = backtest.judged
    at = judged[rows[judged]]
    return folds, _figures(y[at], p[at], settings.bootstrap, settings.seed), at


def _calibration(
    backtest: Backtest,
    y: np.ndarray,
    at: np.ndarray,
    scale: np.ndarray,
    fallback: Calibrator,
    settings: Settings,
) -> tuple[Calibrator | None, dict[str, float]]:
    """The segment's own calibrator when it has the leads and beats the global one."""
    from sklearn.metrics import log_loss

    enough = settings.segment_min_class
    if min(int(y[at].sum()), int(len(at) - y[at].sum())) < enough:
        return None, {}
    w = None if backtest.weights is None else backtest.weights[at]
    own, losses = fit_calibrator(
        scale[at], y[at], settings.seed, w, calibration_methods(backtest.folds)
    )
    mine = min(losses.values()) if losses else float("inf")
    theirs = float(log_loss(y[at], np.clip(fallback(scale[at]), 1e-6, 1 - 1e-6), sample_weight=w))
    record = {"own": mine, "global": theirs}
    return (own if mine < theirs else None), record


def judge_segments(
    data: Prepared,
    backtest: Backtest,
    booster: lgb.Booster,
    calibrator: Calibrator,
    settings: Settings,
    say: Progress,
    bands: GradeBands,
    specialists: bool = True,
) -> Segmented | None:
    """Per-segment figures, calibration, bands and specialists (see the module's docstring);
    None when the model has no segment feature (the leakage guard may have left it out)."""
    column = data.schema.segment
    if column is None or column not in data.encoder.names:
        return None
    index = data.encoder.names.index(column)
    levels = data.encoder.level_names(index)
    codes, y = data.rows.x[:, index], data.rows.y
    say(f"Judging {plural(len(levels), 'segment')} of '{column}'")
    global_scale = np.full(len(y), np.nan)
    global_scale[backtest.judged] = backtest.shipped_scale(backtest.judged)
    head = backtest.folds.headline.test
    specialists = specialists and settings.specialists
    eligible = _eligible(codes, y, len(levels), settings) if specialists else []
    routes, reports = [], []
    shipped = 0
    seen = np.full(len(y), np.nan)
    seen[head] = calibrator(global_scale[head])  # leads of no segment: the global way
    for code, value in enumerate(levels):
        rows = codes == code
        report = SegmentReport(value, int(rows.sum()), int(y[rows].sum()))
        report.folds, report.pooled, at = _fold_table(data, backtest, rows, settings)
        route = Route(value=value, code=float(code))
        scale = global_scale
        if code in eligible and shipped < MAX_SPECIALISTS:
            say(f"Trying specialist models for {column} = {value}")
            found = compare(data, backtest, rows, settings.seed, settings.bootstrap)
            if found is not None:
                report.specialist = found.to_dict()
                if found.wins:
                    shipped += 1
                    route.booster, route.calibrator = ship(
                        data, backtest, found, rows, booster, settings.seed
                    )
                    route.continued = found.best.variant == "continued"
                    route.file = specialist_file(shipped)
                    scale, at = found.best.scale, found.judged
                    report.calibration = "own (specialist)"
        if route.booster is None:
            route.calibrator, report.calibration_log_loss = _calibration(
                backtest, y, at, global_scale, calibrator, settings
            )
            report.calibration = "global" if route.calibrator is None else "own"
        route_cal = route.calibrator or calibrator
        at_head = head[rows[head]]
        at_head = at_head[np.isfinite(scale[at_head])]
        seen[at_head] = route_cal(scale[at_head])
        if len(at_head) >= MIN_BAND_LEADS and 0 < y[at_head].sum() < len(at_head):
            p = route_cal(scale[at_head])
            route.bands, table, _strict = choose_bands(p, y[at_head], settings.grade_shares)
            report.bands, report.grades = "own", table.to_dict(orient="records")
        report.model = route.name
        report.sql_cutoff = (route.bands or bands).sql_from
        report.note = _note(report, settings, specialists)
        routes.append(route)
        reports.append(report)
    unplaced = _unplaced(data, backtest, codes, len(levels), settings)
    routes_ = SegmentRoutes(column, index, routes)
    return Segmented(column, routes_, reports + unplaced, seen)


def _unplaced(
    data: Prepared, backtest: Backtest, codes: np.ndarray, levels: int, settings: Settings
) -> list[SegmentReport]:
    """The leads of no known segment (the value missing, or too rare to be a level): scored
    by the global model, figures of their own so nobody is left unmeasured."""
    rows = ~np.isin(codes, np.arange(levels))
    if not rows.any():
        return []
    y = data.rows.y
    report = SegmentReport(MISSING, int(rows.sum()), int(y[rows].sum()))
    report.folds, report.pooled, _ = _fold_table(data, backtest, rows, settings)
    report.note = "No segment value (missing, or too rare to be a segment): the global model."
    return [report]


def _eligible(codes: np.ndarray, y: np.ndarray, levels: int, settings: Settings) -> list[int]:
    """Segments with enough leads of both classes for a specialist, the largest first, ten
    at most."""
    need = settings.segment_min_class
    sizes = []
    for code in range(levels):
        rows = codes == code
        pos = int(y[rows].sum())
        if pos >= need and int(rows.sum()) - pos >= need:
            sizes.append((int(rows.sum()), code))
    return [code for _, code in sorted(sizes, reverse=True)[:MAX_SPECIALISTS]]


def _note(report: SegmentReport, settings: Settings, tried: bool) -> str:
    """One sentence: what this segment was given, and why."""
    spec = report.specialist
    if spec is None:
        need = settings.segment_min_class
        why = (
            f"fewer than {need} converted or {need} unconverted leads for a specialist"
            if tried
            else "specialists not tried"
        )
        return f"Global model ({why}); calibration {report.calibration}, bands {report.bands}."
    diff, (low, high) = spec["roc_auc_difference"], spec["interval"]
    figure = f"ROC AUC {diff:+.3f} against the global model [{low:+.3f}, {high:+.3f}]"
    if spec["wins"]:
        verdict = f"Specialist ({spec['best']}) shipped: {figure}"
    else:
        verdict = f"Global model kept: the specialist ({spec['best']}) scored {figure}"
        if diff <= 0:
            verdict += ": no better"
        elif low <= 0:
            verdict += ", an interval that does not exclude zero"
        else:
            verdict += ", but its probabilities were worse (log loss "
            verdict += f"{spec['log_loss_difference']:+.4f})"
    return f"{verdict}; calibration {report.calibration}, bands {report.bands}."
