"""The monitoring page: one self-contained HTML file (plots embedded as PNGs) that a sales-ops
lead can open and forward.

It reads the result's JSON (``MonitorResult.to_dict()``), so the page shows exactly what the
API returns: the verdicts first, then drift (PSI per field coloured by band, a sentence per
criterion), realized performance (conversion per grade against its promise, reliability) and,
in a box of its own, the estimated figures, which rest on the model's calibration rather than
on outcomes. Like the model report, only aggregates go in, never a lead's row.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment

from leadml.monitor.drift import ACT, STABLE
from leadml.report.plots import png

BAND_COLOURS = {"stable": "#4c9a5b", "watch": "#e0a030", "act": "#c8463d", "unknown": "#9aa6bf"}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
 body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1080px;
      margin:2em auto;padding:0 1em;color:#1d2430}
 h1{font-size:1.6em;margin-bottom:.2em}
 h2{margin-top:2em;border-bottom:2px solid #e3e7ee;padding-bottom:.2em}
 table{border-collapse:collapse;margin:.8em 0}
 th,td{padding:.35em .8em;text-align:right;border-bottom:1px solid #e3e7ee}
 th:first-child,td:first-child{text-align:left} th{background:#f4f6fa}
 figure{margin:0} figure img{max-width:100%} .lead{color:#55607a}
 .alarm{background:#fbeceb;border-left:4px solid #c8463d;padding:.6em 1em}
 .ok{background:#eef7ee;border-left:4px solid #4c9a5b;padding:.6em 1em}
 .note{background:#f8f9fb;border-left:4px solid #9aa6bf;padding:.6em 1em}
 .estimated{background:#f6f3fb;border:1px dashed #8a76b8;padding:.2em 1.2em 1em;margin-top:2em}
 .stable{color:#2f6b3a} .watch{color:#8a5a00} .act{color:#a3302a;font-weight:600}
</style></head><body>
<h1>{{ title }}</h1>
<p class="lead">{{ leads }} leads{{ window }}, {{ labelled }} with a known outcome ·
framework {{ framework }} · model trained {{ trained_at }}</p>
{% for line in alarms %}<p class="alarm">{{ line }}</p>{% endfor %}
{% if not alarms %}<p class="ok">No alarm: no PSI above 0.25, and realized performance is
within what training promised.</p>{% endif %}
{% for note in notes %}<p class="note">{{ note }}</p>{% endfor %}

{% if drift %}
<h2>Do recent leads look like the training leads?</h2>
<p>Population stability index (PSI) of each field, of each criterion's push on the score and
of the score itself: below 0.1 stable, 0.1–0.25 watch, above 0.25 act.</p>
<ul>{% for s in sentences %}<li>{{ s }}</li>{% endfor %}</ul>
<figure><img alt="PSI per field" src="data:image/png;base64,{{ drift_plot }}"></figure>
<table><tr><th>criterion</th><th>PSI</th><th>band</th></tr>
{% for c in criteria %}<tr><td>{{ c.label }}</td><td>{{ fmt(c.psi) }}</td>
<td class="{{ c.band }}">{{ c.band }}</td></tr>{% endfor %}
<tr><td>Score</td><td>{{ fmt(score.psi) }}</td>
<td class="{{ score.band }}">{{ score.band }}</td></tr></table>
{% endif %}

<h2>Realized: leads whose outcome is known</h2>
{% if realized.available %}
<p>{{ realized_line }}</p>
<figure><img alt="conversion per grade" src="data:image/png;base64,{{ grade_plot }}"></figure>
{% if reliability_plot %}
<figure><img alt="reliability" src="data:image/png;base64,{{ reliability_plot }}"></figure>
{% endif %}
{% else %}<p class="note">{{ realized.reason }}</p>{% endif %}

<div class="estimated"><h2>Estimated: leads whose outcome has not arrived</h2>
<p>Not measured: expected from the calibrated probabilities (confidence-based estimation, as
NannyML's CBPE does). It holds only while the model stays calibrated, so read it beside the
drift above.</p>
{% if estimated.available %}
<p>{{ estimated_line }}</p>
<table><tr><th>grade</th><th>leads</th><th>expected conversion</th></tr>
{% for g in estimated.grades %}<tr><td>{{ g.grade }}</td><td>{{ g.n }}</td>
<td>{{ '—' if g.rate is none else '%.1f %%'|format(100 * g.rate) }}</td></tr>{% endfor %}
</table>
{% else %}<p class="note">{{ estimated.reason }}</p>{% endif %}
</div>

{% if shadow_line %}<h2>Shadow model</h2><p>{{ shadow_line }}</p>{% endif %}
<h2>Summary</h2><pre>{{ summary }}</pre>
</body></html>
"""


def render_page(result: dict[str, Any], summary: list[str]) -> str:
    """The page for a ``MonitorResult.to_dict()`` and its ``summary_lines()``."""
    drift = result.get("drift")
    realized = result["performance"]["realized"]
    estimated = result["performance"]["estimated"]["unlabelled"]
    alarms = []
    if result["alarms"]["drift"]:
        alarms.append("Drift alarm: at least one PSI above 0.25.")
    alarms += [f"Performance alarm: {f}." for f in result["alarms"]["performance_findings"]]
    context: dict[str, Any] = {
        "title": f"Model monitoring — {result['model']['version']}",
        "leads": f"{result['leads']:,}",
        "window": f" ({result['window']})" if result["window"] else "",
        "labelled": f"{result['labelled']:,}",
        "framework": result["framework"].upper(),
        "trained_at": result["model"].get("trained_at") or "—",
        "alarms": alarms,
        "fmt": lambda v: "—" if v is None else f"{v:.3f}",
        "notes": result["notes"],
        "drift": drift,
        "realized": realized,
        "estimated": estimated,
        "summary": "\n".join(summary),
        "shadow_line": next((s for s in summary if s.startswith("Shadow")), ""),
        "realized_line": next((s for s in summary if s.startswith("Realized on")), ""),
        "estimated_line": next((s for s in summary if s.startswith("Estimated on")), ""),
    }
    if drift:
        context["sentences"] = [c["sentence"] for c in drift["criteria"]] + [
            f["sentence"] for f in drift["features"] if f["band"] in ("watch", "act")
        ]
        context["criteria"] = drift["criteria"]
        context["score"] = drift["score"]
        context["drift_plot"] = png(lambda: psi_plot(drift))
    if realized.get("available"):
        context["grade_plot"] = png(lambda: grade_plot(realized))
        if realized.get("reliability"):
            context["reliability_plot"] = png(lambda: reliability_plot(realized["reliability"]))
    return Environment(autoescape=True).from_string(TEMPLATE).render(**context)


# -- plots ---------------------------------------------------------------------------------------
def psi_plot(drift: dict[str, Any]) -> None:
    """Horizontal bars: PSI per field, then per criterion push and the score, by band."""
    rows = [(f["label"], f["psi"], f["band"]) for f in drift["features"]]
    rows += [(f"{c['label']} (push)", c["psi"], c["band"]) for c in drift["criteria"]]
    rows.append(("Score", drift["score"]["psi"], drift["score"]["band"]))
    rows = [r for r in rows if r[1] is not None]
    _, ax = plt.subplots(figsize=(7.5, 0.28 * len(rows) + 1.2))
    shown = np.array([r[1] for r in rows], dtype=float)
    top = max(0.35, min(float(shown.max(initial=0)) * 1.1, 1.0))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, np.minimum(shown, top), color=[BAND_COLOURS[r[2]] for r in rows])
    for yi, value in zip(y, shown, strict=True):
        if value > top:  # off the scale: say how far
            ax.text(top, yi, f" {value:.2f}", va="center", ha="right", color="white", size=8)
    ax.set_yticks(y, [r[0] for r in rows], size=8)
    for cut in (STABLE, ACT):
        ax.axvline(cut, ls=":", c="grey")
    ax.set_xlim(0, top)
    ax.set_xlabel("PSI (0.1: watch, 0.25: act)")
    ax.set_title("Drift against the training leads")


def grade_plot(realized: dict[str, Any]) -> None:
    """Realized conversion per grade with its 95 % interval, beside what the grade promised
    and what the model predicted for these very leads."""
    rows = [r for r in realized["grades"] if r["n"]]
    x = np.arange(len(rows))
    rate = np.array([r["rate"] for r in rows])
    lo = rate - np.array([r["interval"][0] for r in rows])
    hi = np.array([r["interval"][1] for r in rows]) - rate
    _, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(x, rate, yerr=[lo, hi], fmt="o", capsize=5, label="realized (95 %)")
    promised = [np.nan if r["promised"] is None else r["promised"] for r in rows]
    ax.plot(x, promised, "s", c="#c8463d", label="promised at training")
    ax.plot(x, [r["expected_rate"] for r in rows], "x", c="#55607a", label="predicted")
    ax.set_xticks(x, [f"{r['grade']}\n{r['n']:,} leads" for r in rows])
    ax.set_ylabel("conversion")
    ax.set_title("Conversion per grade")
    ax.legend()


def reliability_plot(bins: list[dict[str, Any]]) -> None:
    """Observed against predicted conversion per probability decile, with intervals."""
    predicted = np.array([b["predicted"] for b in bins])
    observed = np.array([b["observed"] for b in bins])
    lo = observed - np.array([b["interval"][0] for b in bins])
    hi = np.array([b["interval"][1] for b in bins]) - observed
    _, ax = plt.subplots(figsize=(5, 5))
    ax.errorbar(predicted, observed, yerr=[lo, hi], fmt="o-", capsize=3)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed conversion")
    ax.set_title("Reliability on leads with an outcome")
