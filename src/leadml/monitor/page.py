"""The monitoring page: one self-contained HTML file (plots embedded as PNGs) that a sales-ops
lead can open and forward.

It reads the result's JSON (``MonitorResult.to_dict()``), so the page shows exactly what the
API returns: the verdicts first, then drift (PSI per field coloured by band, a sentence per
criterion), realized performance (conversion per grade against its promise, reliability) and,
in a box of its own, the estimated figures, which rest on the model's calibration rather than
on outcomes. Like the model report, only aggregates go in, never a lead's row; its template
(``report/monitor.html``) opens with the report's own head and styles.
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from leadml.monitor.drift import ACT, STABLE, drift_alarm
from leadml.report.html import page_template
from leadml.report.plots import png

BAND_COLOURS = {"stable": "#4c9a5b", "watch": "#e0a030", "act": "#c8463d", "unknown": "#9aa6bf"}


def render_page(result: dict[str, Any], summary: list[str]) -> str:
    """The page for a ``MonitorResult.to_dict()`` and its ``summary_lines()``."""
    drift = result.get("drift")
    realized = result["performance"]["realized"]
    estimated = result["performance"]["estimated"]["unlabelled"]
    alarms = []
    if drift and drift_alarm(drift):
        alarms.append("Drift alarm: at least one PSI above 0.25.")
    elif result["alarms"]["drift"]:  # in a segment only: the segment's section names it
        alarms.append("Drift alarm in a segment: see By segment.")
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
        "pct": lambda v: "—" if v is None else f"{v:.1%}",
        "segments": result.get("segments"),
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
    return page_template("monitor.html").render(**context)


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
