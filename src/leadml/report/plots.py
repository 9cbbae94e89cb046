"""The pictures people would rather look at than read: evaluation curves, what drives the score,
and one lead's waterfall by criterion.

Computation lives elsewhere (:mod:`leadml.modeling.metrics`, :mod:`leadml.explain`); these
functions only draw what they are given. Matplotlib runs headless (Agg), so training on a server
writes the same PNGs as a laptop.
"""

from __future__ import annotations

import base64
import io
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibrationDisplay
from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

from leadml.schema.frameworks import criterion_label

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.explain.attributions import ExplainedRows
    from leadml.explain.explanation import LeadExplanation


# -- evaluation ------------------------------------------------------------------------------------
def _gains(y: np.ndarray, p: np.ndarray, points: int = 1001) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains at ``points`` evenly spaced shares of leads contacted: a line of a
    thousand points looks the same as one of 200,000 and renders a hundred times faster."""
    order = np.argsort(-p, kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1)])
    at = np.unique(np.linspace(0, len(captured) - 1, points).round().astype(int))
    return at / (len(captured) - 1), captured[at]


def plot_evaluation(
    y: np.ndarray, predictions: dict[str, np.ndarray], folder: Path
) -> dict[str, Path]:
    """ROC, PR, reliability, cumulative gains and score histogram; one PNG each."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    ranked = {k: v for k, v in predictions.items() if k != "base_rate"}

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        RocCurveDisplay.from_predictions(y, p, name=name, ax=ax)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set_title("ROC on the test split")
    files["roc"] = _save(fig, folder / "roc.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        PrecisionRecallDisplay.from_predictions(y, p, name=name, ax=ax, drop_intermediate=True)
    ax.axhline(np.mean(y), ls=":", c="grey", label="base rate")
    ax.set_title("Precision–recall on the test split")
    files["pr"] = _save(fig, folder / "pr.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        CalibrationDisplay.from_predictions(y, p, n_bins=10, name=name, ax=ax)
    ax.set_title("Reliability: predicted vs observed conversion")
    files["reliability"] = _save(fig, folder / "reliability.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        ax.plot(*_gains(y, p), label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    ax.set_xlabel("share of leads contacted (best first)")
    ax.set_ylabel("share of conversions captured")
    ax.set_title("Cumulative gains")
    ax.legend(loc="lower right")
    files["gains"] = _save(fig, folder / "gains.png")

    model_p = predictions["model"]
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    ax.hist(model_p[y == 0], bins=bins, alpha=0.6, label="not converted", density=True)
    ax.hist(model_p[y == 1], bins=bins, alpha=0.6, label="converted", density=True)
    ax.set_xlabel("calibrated probability")
    ax.set_title("Score distribution on the test split")
    ax.legend()
    files["score_histogram"] = _save(fig, folder / "score_histogram.png")
    return files


def plot_folds(backtest: dict[str, Any], path: Path) -> Path:
    """ROC AUC per backtest fold, oldest first, with its 95 % interval and the logistic
    regression baseline: a business that drifts shows as a line that moves."""
    folds = backtest["folds"]
    x = np.arange(len(folds))
    auc = np.array([f["roc_auc"] for f in folds], dtype=float)
    lo, hi = (
        np.array([f["intervals"].get("roc_auc", [np.nan, np.nan])[i] for f in folds])
        for i in (0, 1)
    )
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.errorbar(x, auc, yerr=[auc - lo, hi - auc], fmt="o-", capsize=4, label="leadml")
    base = [f["baselines"].get("logistic_regression", {}).get("roc_auc") for f in folds]
    if all(b is not None for b in base):
        ax.plot(x, base, "s--", c="grey", label="logistic regression")
    ax.set_xticks(x, [f"{f['fold']}: {f['period']}" for f in folds], rotation=20, ha="right")
    ax.set_ylabel("ROC AUC (95 % interval)")
    ax.set_title(f"Backtest, fold by fold ({backtest['method']})")
    ax.legend()
    return _save(fig, path)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- drivers -------------------------------------------------------------------------------------
def png(draw: Any) -> str:
    """Run a plotting function and return its figure as a base64 PNG for an <img> tag."""
    plt.close("all")
    draw()
    fig = plt.gcf()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close("all")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def criterion_plot(explained: ExplainedRows, kind: str) -> None:
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


def feature_plot(
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


# -- one lead ------------------------------------------------------------------------------------
#: shap's colours: red raises the score, blue lowers it.
RAISES, LOWERS = "#ff0051", "#008bfb"


def waterfall_png(explanation: LeadExplanation, path: str | Path, title: str = "") -> Path:
    """A waterfall by criterion in points of the 0–100 score: from the average lead's score
    (``base_score``, bottom) each criterion's points (``points``) lead to this lead's score
    (100 × probability, top). See :func:`_climb` for the order of the bars."""
    points = explanation.points
    base = float(explanation.base_score)
    names = _climb(base, {n: points[n] for n, v in explanation.criteria.items() if v.features})
    values = np.array([points[n] for n in names], dtype=float)
    labels = [
        f"{criterion_label(n)} ({_plain_verdict(explanation.criteria[n].met)})"
        if n in explanation.framework_criteria
        else criterion_label(n)
        for n in names
    ]
    ends = base + np.cumsum(values)
    lead = 100 * float(explanation.probability)
    starts = ends - values

    rows = len(names)
    fig, ax = plt.subplots(figsize=(8, 1.6 + 0.5 * rows))
    y = np.arange(rows)
    ax.barh(y, values, left=starts, height=0.6, color=[RAISES if v > 0 else LOWERS for v in values])
    low = min(base, lead, *ends, *starts)
    high = max(base, lead, *ends, *starts)
    pad = max(0.12 * (high - low), 2.0)
    ax.set_xlim(low - pad, high + pad)  # room for the labels; ticks stay within 0–100
    ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= 100])
    ax.set_xlim(low - pad, high + pad)
    for row, (start, value) in enumerate(zip(starts, values, strict=True)):
        right = value >= 0
        ax.annotate(
            _signed(value),
            (start + value, row),
            xytext=(4 if right else -4, 0),
            textcoords="offset points",
            ha="left" if right else "right",
            va="center",
            color=RAISES if value > 0 else LOWERS,
            fontsize=10,
        )
    # The two ends on rows of their own, so they never meet the title or the axis.
    ax.axvline(base, ymin=0, ymax=1, color="grey", ls="--", lw=0.7, zorder=0)
    ax.axvline(lead, ymin=0, ymax=1, color="grey", ls="--", lw=0.7, zorder=0)
    _end_label(ax, base, -1, f"average lead {base:.0f}")
    _end_label(ax, lead, rows, f"this lead {lead:.0f}")
    ax.set_ylim(-1.6, rows + 0.6)
    ax.set_yticks(y, labels, fontsize=11)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("score (0–100)")
    heading = title or "Score by criterion"
    ax.set_title(f"{heading} — {explanation.probability:.0%} likely to convert", pad=14, loc="left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _climb(base: float, points: dict[str, float]) -> list[str]:
    """The bars' order, bottom first: one sign's pushes, then the other's, each group smallest
    first, so the largest of each sits nearest the top. Raises go first when the running total
    then stays at most 100, else lowers when it stays at least 0: a score never reads as
    below 0 or above 100 on the way (failing both, whichever strays least)."""
    up = sorted((n for n, v in points.items() if v > 0), key=lambda n: points[n])
    down = sorted((n for n, v in points.items() if v <= 0), key=lambda n: -points[n])
    peak = base + sum(points[n] for n in up)
    trough = base + sum(points[n] for n in down)
    if peak <= 100 or (trough < 0 and peak - 100 <= -trough):
        return up + down
    return down + up


def _signed(points: float) -> str:
    """ "+12", "−3", "+0.4": whole points unless the push is smaller than one."""
    text = f"{points:+.0f}" if abs(points) >= 1 else f"{points:+.1f}"
    return text.replace("-", "\u2212")


def _end_label(ax: plt.Axes, x: float, row: float, text: str) -> None:
    """A label for one end of the waterfall, turned towards the middle of the axis."""
    lo, hi = ax.get_xlim()
    left = x <= (lo + hi) / 2
    ax.annotate(
        text,
        (x, row),
        xytext=(5 if left else -5, 0),
        textcoords="offset points",
        ha="left" if left else "right",
        va="center",
        fontsize=11,
        fontweight="bold",
    )


def _plain_verdict(met: bool | None) -> str:
    return {True: "met", False: "not met", None: "unknown"}[met]
