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
import io
import time
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment

from leadml.explain import ExplainedRows, explain_rows
from leadml.frameworks import FRAMEWORKS, criterion_label, framework_criteria
from leadml.model import LeadModel

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
    test_frame: pd.DataFrame,
    x_test: np.ndarray,
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    bundle_dir: Path,
    framework: str = "bant",
    sample_size: int = REPORT_SAMPLE,
    seed: int = 0,
) -> Path:
    """Write ``bundle_dir/report.html`` and return its path (``test_frame`` is never read row by
    row: only ``x_test`` and ``y_test`` feed the report, so no personal data can reach it)."""
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
        "title": f"Lead model report — {model.version}",
        "model": _model_facts(model, n, len(x_sample)),
        "metrics": _metrics_rows(model.metrics),
        "metric_columns": METRIC_COLUMNS,
        "grades": _grade_rows(model.metrics),
        "grades_strict": model.metrics.get("grades_strictly_falling"),
        "framework": explained.framework.upper(),
        "criteria": _criterion_rows(
            explained, own, y_sample, dict(zip(explained.features, labels, strict=True))
        ),
        "qualified": _qualified_row(explained, y_sample),
        "criterion_bar": _png(lambda: _criterion_plot(explained, "bar")),
        "criterion_beeswarm": _png(lambda: _criterion_plot(explained, "beeswarm")),
        "feature_bar": _png(lambda: _feature_plot(model, explained, x_sample, labels, "bar")),
        "feature_beeswarm": _png(
            lambda: _feature_plot(model, explained, x_sample, labels, "beeswarm")
        ),
        "evaluation_plots": _evaluation_plots(bundle_dir / "plots"),
        "mapping": _mapping_rows(model, explained),
        "frameworks": {k: list(v) for k, v in FRAMEWORKS.items()},
        "warnings": list(model.meta.get("warnings", [])),
        "sample": len(x_sample),
        "test_rows": n,
    }
    context["elapsed"] = f"{time.perf_counter() - started:.1f}"
    page = _TEMPLATE.render(**context)
    path = bundle_dir / REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# -- content -------------------------------------------------------------------------------------
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
        ("Calibration", str(model.metrics.get("calibration", "—"))),
    ]
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


def _qualified_row(explained: ExplainedRows, y: np.ndarray) -> dict[str, str]:
    q = explained.bant_qualified
    return {
        "share": f"{q.mean():.0%}" if len(y) else "—",
        "conv_yes": _rate(y, q),
        "conv_no": _rate(y, ~q),
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


# -- figures -------------------------------------------------------------------------------------
def _png(draw: Any) -> str:
    """Run a plotting function and return its figure as a base64 PNG for an <img> tag."""
    plt.close("all")
    draw()
    fig = plt.gcf()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close("all")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _criterion_plot(explained: ExplainedRows, kind: str) -> None:
    import shap

    keep = [c for c, name in enumerate(explained.criteria) if explained.criterion_features[name]]
    names = [criterion_label(explained.criteria[c]) for c in keep]
    values = explained.criterion_contributions[:, keep]
    expl = shap.Explanation(
        values=values,
        base_values=np.full(len(values), explained.base_value),
        feature_names=names,
    )
    if kind == "bar":
        shap.plots.bar(expl, max_display=len(names), show=False)
    else:
        shap.plots.beeswarm(expl, max_display=len(names), show=False, color_bar=False)
    plt.gcf().suptitle(
        "By criterion: mean |push| on the log-odds"
        if kind == "bar"
        else "By criterion: each dot a lead"
    )


def _feature_plot(
    model: LeadModel, explained: ExplainedRows, x: np.ndarray, labels: list[str], kind: str
) -> None:
    import shap

    # Colour means "low → high value": meaningful for numbers, ranks and yes/no, not for
    # category codes, which shap draws grey when given NaN.
    colour = np.array(x, dtype=np.float64, copy=True)
    for j, k in enumerate(model.encoder.kinds):
        if k == "categorical":
            colour[:, j] = np.nan
    expl = shap.Explanation(
        values=explained.contributions,
        base_values=np.full(len(x), explained.base_value),
        data=colour,
        feature_names=labels,
    )
    shown = min(15, len(labels))
    if kind == "bar":
        shap.plots.bar(expl, max_display=shown, show=False)
    else:
        with warnings.catch_warnings():  # grey categories are all-NaN colours on purpose
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            shap.plots.beeswarm(expl, max_display=shown, show=False)
    plt.gcf().suptitle(
        "By field: mean |push| on the log-odds" if kind == "bar" else "By field: each dot a lead"
    )


def _evaluation_plots(folder: Path) -> list[dict[str, str]]:
    plots = []
    for name, caption in EVALUATION_PLOTS:
        path = folder / f"{name}.png"
        if path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            plots.append({"name": name, "caption": caption, "data": data})
    return plots


# -- page ----------------------------------------------------------------------------------------
_TEMPLATE = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1080px;
      margin:2em auto;padding:0 1em;color:#1d2430}
 h1{font-size:1.6em;margin-bottom:.2em}
 h2{margin-top:2em;border-bottom:2px solid #e3e7ee;padding-bottom:.2em}
 .lead{color:#55607a}
 table{border-collapse:collapse;margin:.8em 0}
 th,td{padding:.35em .8em;text-align:right;border-bottom:1px solid #e3e7ee}
 th:first-child,td:first-child,.text{text-align:left}
 th{background:#f4f6fa} tr.ours td{font-weight:600;background:#eef7ee}
 .facts td{text-align:left} .grid{display:flex;flex-wrap:wrap;gap:1em}
 figure{margin:0;flex:1 1 480px} figure img{max-width:100%}
 figcaption{color:#55607a;font-size:.9em}
 .note{background:#f8f9fb;border-left:4px solid #9aa6bf;padding:.6em 1em}
 .warn{color:#8a5a00} code{background:#f1f3f7;padding:0 .25em}
</style></head><body>
<h1>{{ title }}</h1>
<p class="lead">What this model does for your pipeline, in plain numbers: how it compares with
what sales does today, whether its grades hold up, whether its probabilities can be taken at
face value, and which qualification answers drive it.</p>
<table class="facts">
{% for k, v in model %}
<tr><td>{{ k }}</td><td>{{ v }}</td></tr>
{% endfor %}
</table>

<h2>Is it better than what we do today?</h2>
<p>Held-out test leads (the newest ones when the data has dates): the model against three
baselines fitted on the same training leads.</p>
<table>
<tr><th>model</th>
{% for key, name, why in metric_columns %}
<th title="{{ why }}">{{ name }}</th>
{% endfor %}
</tr>
{% for r in metrics %}
<tr class="{{ 'ours' if r.ours }}"><td>{{ r.name }}</td>
{% for c in r.cells %}
<td>{{ c }}</td>
{% endfor %}
</tr>
{% endfor %}
</table>
<p class="note">
{% for key, name, why in metric_columns %}
<b>{{ name }}</b>: {{ why }}.
{% endfor %}
</p>

<h2>Do the grades mean anything?</h2>
<table>
<tr><th>grade</th><th>from probability</th><th>leads</th><th>share</th>
<th>predicted conversion</th><th>observed conversion</th></tr>
{% for g in grades %}
<tr><td>{{ g.grade }}</td><td>{{ g.min_probability }}</td><td>{{ g.leads }}</td>
<td>{{ g.share }}</td><td>{{ g.predicted }}</td><td>{{ g.observed }}</td></tr>
{% endfor %}
</table>
{% if grades_strict %}
<p>Observed conversion falls strictly from A to D on the test leads.</p>
{% else %}
<p class="warn">Observed conversion does not fall strictly from A to D on the test leads:
treat neighbouring grades as one.</p>
{% endif %}

<h2>What drives the score, by {{ framework }} criterion</h2>
<p>Each lead's score is split exactly into pushes (log-odds, from the model's own TreeSHAP)
and summed per criterion. A criterion is <b>met</b> when its push is above zero (its answers
make the lead likelier to convert than the average lead), <b>not met</b> when it is zero or
below, and <b>unknown</b> when every field feeding it is empty. Based on
{{ "{:,}".format(sample) }} of {{ "{:,}".format(test_rows) }} test leads.</p>
<table>
<tr><th>criterion</th><th class="text">fields</th><th>mean |push|</th><th>met</th><th>not met</th>
<th>unknown</th><th>conv. when met</th><th>when not met</th><th>when unknown</th></tr>
{% for c in criteria %}
<tr><td>{{ c.name }}</td><td class="text">{{ c.features }}</td><td>{{ c.impact }}</td>
<td>{{ c.met }}</td><td>{{ c.not_met }}</td><td>{{ c.unknown }}</td>
<td>{{ c.conv_met }}</td><td>{{ c.conv_not_met }}</td><td>{{ c.conv_unknown }}</td></tr>
{% endfor %}
</table>
<p><b>BANT qualified</b> (at least 3 of the 4 BANT criteria met): {{ qualified.share }} of
leads; they converted at {{ qualified.conv_yes }}, the others at {{ qualified.conv_no }}.</p>
<div class="grid">
<figure><img alt="mean absolute push by criterion"
 src="data:image/png;base64,{{ criterion_bar }}">
<figcaption>Average size of each criterion's push.</figcaption></figure>
<figure><img alt="push by criterion, one dot per lead"
 src="data:image/png;base64,{{ criterion_beeswarm }}">
<figcaption>One dot per lead: right raises the score, left lowers it.</figcaption></figure>
</div>

<h2>What drives the score, by field</h2>
<div class="grid">
<figure><img alt="mean absolute push by field" src="data:image/png;base64,{{ feature_bar }}">
<figcaption>Average size of each field's push (top 15).</figcaption></figure>
<figure><img alt="push by field, one dot per lead"
 src="data:image/png;base64,{{ feature_beeswarm }}">
<figcaption>Colour is the field's value, low (blue) to high (red); categories are grey.
</figcaption></figure>
</div>

<h2>Can the probabilities be taken at face value?</h2>
<div class="grid">
{% for p in evaluation_plots %}
<figure><img alt="{{ p.caption }}" src="data:image/png;base64,{{ p.data }}">
<figcaption>{{ p.caption }}</figcaption></figure>
{% endfor %}
</div>

<h2>Which fields feed which criterion</h2>
<table>
<tr><th>criterion or group</th><th class="text">kind</th><th class="text">fields</th></tr>
{% for m in mapping %}
<tr><td>{{ m.bucket }}</td><td class="text">{{ m.kind }}</td>
<td class="text">{{ m.features }}</td></tr>
{% endfor %}
</table>
<p class="note">The same schema tags also read as CHAMP, ANUM, FAINT and GPCT (set
<code>LEADML_FRAMEWORK</code>):
{% for name, crits in frameworks.items() %}
<b>{{ name.upper() }}</b> {{ crits | join(", ") }}{{ ";" if not loop.last else "." }}
{% endfor %}
</p>
{% if warnings %}
<h2>Warnings from training</h2>
<ul>
{% for w in warnings %}
<li class="warn">{{ w }}</li>
{% endfor %}
</ul>
{% endif %}
<p class="lead">Generated by leadml in {{ elapsed }} s.</p>
</body></html>
"""
)
