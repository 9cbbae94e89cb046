"""The fairness audit drawn: selection rate per group at the SQL cut-off, with its 95 %
interval, one panel per audit column; the four-fifths line of the top group shows which bars
fall below it. Draws what it is given (the audit's JSON), computes nothing."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _figure(audit: dict) -> plt.Figure:
    columns = list(audit["columns"].values())
    fig, axes = plt.subplots(
        1, max(len(columns), 1), figsize=(4.5 * max(len(columns), 1), 3.6), squeeze=False
    )
    for ax, column in zip(axes[0], columns, strict=False):
        rows = column["groups"]
        rates = [(r["selection_rate"] or 0.0) * 100 for r in rows]
        lows = [r["selection_rate_ci"] or [r["selection_rate"] or 0.0] * 2 for r in rows]
        err = [
            [max(rate - lo[0] * 100, 0) for rate, lo in zip(rates, lows, strict=True)],
            [max(lo[1] * 100 - rate, 0) for rate, lo in zip(rates, lows, strict=True)],
        ]
        colours = ["#c77b00" if r["flagged"] else "#4a6fa5" for r in rows]
        ax.bar(range(len(rows)), rates, yerr=err, color=colours, capsize=3)
        ax.set_xticks(range(len(rows)), [r["group"] for r in rows], rotation=30, ha="right")
        compared = [r["selection_rate"] for r in rows if r.get("ratio") is not None]
        if compared and max(compared) > 0:
            floor = max(compared) * audit["ratio_floor"] * 100
            ax.axhline(floor, ls=":", c="grey", label=f"{audit['ratio_floor']:g} × top group")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_title(column["column"])
        ax.set_ylabel("selected at the SQL cut-off (%)")
    fig.tight_layout()
    return fig


def plot_audit(audit: dict, path: str | Path) -> Path:
    """Write the audit's plot as a PNG at ``path``."""
    path = Path(path)
    fig = _figure(audit)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def audit_png(audit: dict) -> str:
    """The same plot as a base64 PNG, for the report's ``<img>``."""
    fig = _figure(audit)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
