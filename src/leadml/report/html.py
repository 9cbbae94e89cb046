"""The model report: one self-contained HTML file that sales ops can open, forward and trust.

It answers the questions a sales team asks before it lets a score route its leads: is it better
than what we do today (the baselines), do the grades mean anything (observed conversion per
grade), can we take the probability at face value (calibration), and what drives it, in our
own words (criteria of the qualification framework, then individual fields, with shap's
beeswarm and bar plots).

Speed: the attributions come from LightGBM's ``pred_contrib`` on a random sample of at most
``REPORT_SAMPLE`` test leads, so the report costs the same couple of seconds whether the model
was trained on twenty thousand leads or a million. Privacy: only aggregates, column labels and
plots go in; never a lead's row, so never personal data.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader

from leadml.bundle.model import LeadModel
from leadml.counts import plural
from leadml.explain.attributions import ExplainedRows, explain_rows
from leadml.explain.verdicts import QualifiedRule, qualified_rule
from leadml.qualify.grades import ALWAYS_A
from leadml.report.plots import criterion_plot, feature_plot, png
from leadml.schema.criteria import FRAMEWORKS
from leadml.schema.frameworks import criterion_label, framework_criteria

#: Test leads explained for the driver plots: enough for stable averages, fast at any size.
REPORT_SAMPLE = 2_000
REPORT_FILE = "report.html"
#: Evaluation plots written by ``evaluate.plot_evaluation``, in reading order.
EVALUATION_PLOTS = (
    ("reliability", "Calibration: predicted probability against observed conversion"),
    ("gains", "Gains: share of conversions captured when working the top-scored leads first"),
    ("score_histogram", "How scores are distributed"),
    ("roc", "ROC curve"),
    ("pr", "Precision–recall curve"),
)
METRIC_COLUMNS = (
    ("roc_auc", "ROC AUC", "higher is better: ranks a converting lead above a non-converting one"),
    ("pr_auc", "PR AUC", "higher is better: precision across the list"),
    ("log_loss", "Log loss", "lower is better: honesty of the probabilities"),
    ("brier", "Brier", "lower is better: squared error of the probabilities"),
    ("ece", "ECE", "lower is better: average gap between predicted and observed"),
    ("lift_top_decile", "Lift top 10%", "conversion in the top tenth ÷ overall conversion"),
)
BASELINE_NAMES = {
    "base_rate": "Base rate (every lead alike)",
    "logistic_regression": "Logistic regression",
    "bant_points": "BANT points (spreadsheet score)",
}


def write_report(
    model: LeadModel,
    x_test: np.ndarray,
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    bundle_dir: Path,
    framework: str = "bant",
    sample_size: int = REPORT_SAMPLE,
    seed: int = 0,
) -> Path:
    """Write ``bundle_dir/report.html`` and return its path. Only the encoded ``x_test`` and
    ``y_test`` feed the report, never a lead's raw row, so no personal data can reach it."""
    started = time.perf_counter()
    bundle_dir = Path(bundle_dir)
    y = np.asarray(y_test, dtype=np.int64)
    rng = np.random.default_rng(seed)
    n = len(x_test)
    rows = np.sort(rng.choice(n, size=sample_size, replace=False)) if n > sample_size else None
    x_sample = x_test if rows is None else x_test[rows]
    y_sample = y if rows is None else y[rows]
    explained = explain_rows(model, x_sample, framework)

    labels = [_feature_label(model, name) for name in explained.features]
    own = framework_criteria(explained.framework)
    context: dict[str, Any] = {
        "title": report_title(model.version),
        "model": _model_facts(model, n, len(x_sample)),
        "metrics": _metrics_rows(model.metrics),
        "verdict": (model.metrics.get("verdict") or {}).get("sentence") or "",
        "headline": headline_description(str(model.metrics.get("split", ""))),
        "against": baselines_sentence(model.metrics),
        "metric_columns": METRIC_COLUMNS,
        "grades": _grade_rows(model.metrics),
        "grades_strict": model.metrics.get("grades_strictly_falling"),
        "grade_rule": (
            "Bands are cut at shares of the test leads' scores, but a lead at "
            f"{ALWAYS_A:.0%} or more, or at least as likely as the A leads proved to be, is "
            "always an A; B and C then keep their shares of the leads below."
        ),
        "framework": explained.framework.upper(),
        "criteria": _criterion_rows(
            explained, own, y_sample, dict(zip(explained.features, labels, strict=True))
        ),
        "qualified": _qualified_row(explained, y_sample, qualified_rule(model, framework)),
        "criterion_bar": png(lambda: criterion_plot(explained, "bar")),
        "criterion_beeswarm": png(lambda: criterion_plot(explained, "beeswarm")),
        "feature_bar": png(lambda: feature_plot(model, explained, x_sample, labels, "bar")),
        "feature_beeswarm": png(
            lambda: feature_plot(model, explained, x_sample, labels, "beeswarm")
        ),
        "evaluation_plots": _evaluation_plots(bundle_dir / "plots"),
        "backtest": _backtest(model.metrics, bundle_dir / "plots" / "backtest.png"),
        "mapping": _mapping_rows(model, explained),
        "frameworks": {k: list(v) for k, v in FRAMEWORKS.items()},
        "sections": _sections(model.metrics),
        "warnings": list(model.meta.get("warnings", [])),
        "sample": len(x_sample),
        "test_rows": n,
    }
    context["elapsed"] = f"{time.perf_counter() - started:.1f}"
    page = page_template().render(**context)
    path = bundle_dir / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _sections(metrics: dict[str, Any]) -> list[str]:
    """Segments and the fairness audit, each where the training made one."""
    from leadml.report.audit_section import audit_section
    from leadml.report.plots_audit import audit_png
    from leadml.report.segments_section import segments_section

    out = [segments_section(metrics.get("segments"))]
    if metrics.get("audit"):
        out.append(audit_section(metrics["audit"], audit_png(metrics["audit"])))
    return [s for s in out if s]


def report_title(version: str) -> str:
    """The page's title: the model's version label, as ``GET /v1/model`` and the CLI name it."""
    return f"Lead model report — {version}"


def retitle_report(bundle_dir: Path, was: str, version: str) -> None:
    """Name the report by ``version`` where it was written under ``was``: the report is written
    before the run is registered (MLflow logs it with the run), and only registration gives
    the version label (``<name>-v<N>-<run>``) that the service and the CLI call the model by."""
    path = Path(bundle_dir) / REPORT_FILE
    if was == version or not path.is_file():
        return
    page = path.read_text(encoding="utf-8")
    path.write_text(page.replace(was, version), encoding="utf-8")


def calibration_text(method: str | None, on: int | None = None) -> str:
    """How the probabilities were calibrated, for a sentence: never "calibrated (none)"."""
    names = {"platt": "Platt scaling", "isotonic": "isotonic regression"}
    if not method or method == "none":
        return "not calibrated"
    where = f" on the backtest's {plural(on, 'held-out score')}" if on is not None else ""
    return f"calibrated with {names.get(method, method)}{where}"


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def baselines_sentence(metrics: dict[str, Any]) -> str:
    """ "against its 2 baselines (…), fitted on the same leads": the count is what the table
    shows (BANT points only exist when the schema feeds a BANT criterion)."""
    names = [BASELINE_NAMES.get(k, k) for k in metrics.get("baselines", {})]
    if not names:
        return "with no baseline to compare against"
    listed = ", ".join(n.split(" (")[0].lower() for n in names)
    return f"against its {plural(len(names), 'baseline')} ({listed}), fitted on the same leads"


# -- content -------------------------------------------------------------------------------------
def headline_description(split: str) -> str:
    """What the headline fold is, named by the split it came from (never "the newest leads"
    on a random split)."""
    if split.startswith("time"):
        return f"The backtest's headline fold: the newest leads ({split})"
    return f"The backtest's headline fold: one of its {split or 'folds'}, not the newest leads"


def _feature_label(model: LeadModel, name: str) -> str:
    try:
        return model.schema.feature(name).label
    except KeyError:
        return name.replace("_", " ").capitalize()


def _model_facts(model: LeadModel, test_rows: int, sample: int) -> list[tuple[str, str]]:
    meta = model.meta
    rows = meta.get("rows", {})
    facts = [
        ("Model", model.version),
        ("Trained", str(meta.get("trained_at", "—"))),
        ("Schema", model.schema.name),
        ("Features", f"{len(model.feature_names)}"),
        (
            "Leads",
            " · ".join(f"{k} {v:,}" for k, v in rows.items()) if rows else f"test {test_rows:,}",
        ),
        ("Split", str(model.metrics.get("split", "—"))),
        ("Calibration", _sentence_case(calibration_text(model.metrics.get("calibration")))),
    ]
    label = meta.get("label") or {}
    facts.append(("What a score means", model.probability_means.capitalize()))
    facts += [("Outcomes", line) for line in label.get("lines") or []]
    rate = model.metrics.get("test_positive_rate")
    if rate is not None:
        facts.append(("Conversion on the test leads", f"{rate:.1%}"))
    return facts


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}"


def _metrics_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"name": "leadml (LightGBM)", "ours": True, **metrics}]
    for key, values in metrics.get("baselines", {}).items():
        rows.append({"name": BASELINE_NAMES.get(key, key), "ours": False, **values})
    return [
        {
            "name": r["name"],
            "ours": r["ours"],
            "cells": [_fmt(r.get(key)) for key, _, _ in METRIC_COLUMNS],
        }
        for r in rows
    ]


def _grade_rows(metrics: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for r in metrics.get("grades", []):
        conv = r.get("conversion")
        mean_p = r.get("mean_probability")
        out.append(
            {
                "grade": str(r["grade"]),
                "min_probability": f"{r['min_probability']:.1%}",
                "leads": f"{int(r['leads']):,}",
                "share": f"{r['share']:.0%}",
                "predicted": "—" if mean_p is None or mean_p != mean_p else f"{mean_p:.1%}",
                "observed": "—" if conv is None or conv != conv else f"{conv:.1%}",
            }
        )
    return out


def _rate(y: np.ndarray, mask: np.ndarray) -> str:
    return f"{y[mask].mean():.1%}" if mask.any() else "—"


def _criterion_rows(
    explained: ExplainedRows, own: tuple[str, ...], y: np.ndarray, labels: dict[str, str]
) -> list[dict[str, str]]:
    """Per criterion: how often it is met, and how met leads actually converted."""
    rows = []
    for c, name in enumerate(explained.criteria):
        if name not in own:
            continue
        verdict = explained.verdicts[:, c]
        push = np.abs(explained.criterion_contributions[:, c]).mean() if len(y) else 0.0
        rows.append(
            {
                "name": criterion_label(name),
                "features": ", ".join(labels[f] for f in explained.criterion_features[name])
                or "— (no field feeds it)",
                "impact": f"{push:.2f}",
                "met": f"{(verdict == 1).mean():.0%}" if len(y) else "—",
                "not_met": f"{(verdict == 0).mean():.0%}" if len(y) else "—",
                "unknown": f"{(verdict == -1).mean():.0%}" if len(y) else "—",
                "conv_met": _rate(y, verdict == 1),
                "conv_not_met": _rate(y, verdict == 0),
                "conv_unknown": _rate(y, verdict == -1),
            }
        )
    return rows


def _qualified_row(
    explained: ExplainedRows, y: np.ndarray, rule: QualifiedRule
) -> dict[str, str | bool | None]:
    """The verdict's row: its rule over the recorded criteria, and the once-per-model sentence
    on what the export does not record."""
    q = explained.qualified
    return {
        "rule": rule.text,
        "judges": rule.judges,
        "unrecorded": rule.unrecorded_sentence,
        "share": f"{(q == 1).mean():.0%}" if len(y) else "—",
        "unknown": f"{(q < 0).mean():.0%}" if len(y) else "—",
        "conv_yes": _rate(y, q == 1),
        "conv_no": _rate(y, q == 0),
        "conv_unknown": _rate(y, q < 0),
    }


def _mapping_rows(model: LeadModel, explained: ExplainedRows) -> list[dict[str, str]]:
    own = framework_criteria(explained.framework)
    rows = []
    for name in explained.criteria:
        feats = explained.criterion_features[name]
        rows.append(
            {
                "bucket": criterion_label(name),
                "kind": "criterion" if name in own else "group",
                "features": ", ".join(_feature_label(model, f) for f in feats) or "—",
            }
        )
    return rows


def _backtest(metrics: dict[str, Any], plot: Path) -> dict[str, Any] | None:
    """The fold table, the pooled row, what the shipped model is, and the fold plot."""
    backtest = metrics.get("backtest")
    if not backtest:
        return None

    def interval(values: dict[str, Any]) -> str:
        lo, hi = values.get("intervals", {}).get("roc_auc", [None, None])
        return f"{_fmt(lo)}–{_fmt(hi)}" if lo is not None else "—"

    rows = [
        {
            "name": f"{f['fold']}{' (headline)' if f is backtest['folds'][-1] else ''}",
            "period": f["period"],
            "train": f"{f['train_rows']:,}",
            "waited": f"{f.get('not_yet_known', 0):,}",
            "test": f"{f['test_rows']:,}",
            "conversion": f"{f['conversion']:.1%}",
            "interval": interval(f),
            "cells": [_fmt(f.get(key)) for key, _, _ in METRIC_COLUMNS],
            "lr": _fmt(f["baselines"].get("logistic_regression", {}).get("roc_auc")),
        }
        for f in backtest["folds"]
    ]
    pooled = backtest["pooled"]
    shipped = metrics.get("shipped", {})
    return {
        "method": backtest["method"],
        "by_time": str(backtest["method"]).startswith("time"),
        "waited": any(f.get("not_yet_known") for f in backtest["folds"]),
        "rows": rows,
        "pooled": {
            "test": f"{pooled['rows']:,}",
            "interval": interval(pooled),
            "cells": [_fmt(pooled.get(key)) for key, _, _ in METRIC_COLUMNS],
        },
        "shipped": (
            f"The shipped model learned from all {plural(shipped.get('rows', 0), 'lead')} for "
            f"{plural(shipped.get('rounds') or 0, 'round')} (the backtest's "
            f"{backtest['rounds']}, grown with the rows); its probabilities are "
            f"{calibration_text(shipped.get('calibration'), shipped.get('calibrated_on', 0))}."
        ),
        "recency": backtest.get("recency", {}).get("note", ""),
        "plot": base64.b64encode(plot.read_bytes()).decode("ascii") if plot.is_file() else None,
    }


def _evaluation_plots(folder: Path) -> list[dict[str, str]]:
    plots = []
    for name, caption in EVALUATION_PLOTS:
        path = folder / f"{name}.png"
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            plots.append({"name": name, "caption": caption, "data": data})
    return plots


def page_template(name: str = "template.html") -> Any:
    """A page beside this module (the model report, ``template.html``; the monitoring page,
    ``monitor.html``), both opening with ``head.html``; autoescaped: only labels and numbers
    go in, but a schema's display names are the user's own text."""
    environment = Environment(
        loader=PackageLoader("leadml.report", "."),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(name)
