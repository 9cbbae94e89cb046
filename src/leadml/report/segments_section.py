"""Segments as a section of the model report: per segment value, the backtest's figures
with their intervals, what it was given (its own calibration, grade bands, a specialist) and
why, and ROC AUC fold by fold.

It reads the ``segments`` section of ``metrics.json`` (:mod:`leadml.modeling.segments`), so
the report shows what MLflow and ``GET /v1/model`` hold. Only aggregates.
"""

from __future__ import annotations

from html import escape
from typing import Any

_HEAD = (
    "segment",
    "leads",
    "converted",
    "ROC AUC (95 %)",
    "ECE",
    "model",
    "calibration",
    "bands",
    "SQL from",
)


def _auc(pooled: dict[str, Any]) -> str:
    auc = pooled.get("roc_auc")
    if auc is None:
        return "–"
    ci = (pooled.get("intervals") or {}).get("roc_auc")
    return f"{auc:.3f}" + (f" ({ci[0]:.3f}–{ci[1]:.3f})" if ci else "")


def _number(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def segments_section(segments: dict[str, Any] | None) -> str:
    """The HTML fragment (an ``<h2>`` and what follows); empty without segments."""
    if not segments:
        return ""
    column = escape(str(segments["column"]))
    rows = ["<tr>" + "".join(f"<th>{escape(h)}</th>" for h in _HEAD) + "</tr>"]
    notes = []
    for seg in segments["segments"]:
        pooled = seg["pooled"]
        cells = (
            seg["value"],
            f"{seg['leads']:,}",
            f"{seg['converted']:,}",
            _auc(pooled),
            _number(pooled.get("ece")),
            seg["model"],
            seg["calibration"],
            seg["bands"],
            "–" if seg.get("sql_cutoff") is None else f"{seg['sql_cutoff']:.1%}",
        )
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in cells) + "</tr>")
        notes.append(f"<li><b>{escape(str(seg['value']))}</b>: {escape(seg['note'])}</li>")
    folds = _fold_table(segments["segments"])
    shipped = segments.get("specialists") or []
    lead = (
        f"Specialist models score {', '.join(map(str, shipped))}; every other segment is "
        "scored by the global model."
        if shipped
        else "Every segment is scored by the global model."
    )
    return "\n".join(
        [
            f"<h2>Segments: how it does for each value of {column}</h2>",
            f"<p>The global model has <b>{column}</b> among its features. {escape(lead)} "
            "A specialist ships only where it beat the global model on the segment's own "
            "backtest and the bootstrap interval of the ROC AUC difference excludes zero.</p>",
            "<table>" + "".join(rows) + "</table>",
            f'<ul class="note">{"".join(notes)}</ul>',
            folds,
        ]
    )


def _fold_table(segments: list[dict[str, Any]]) -> str:
    """ROC AUC of each segment in each backtest fold (oldest first)."""
    count = max((len(s["folds"]) for s in segments), default=0)
    if not count:
        return ""
    head = "".join(f"<th>fold {k + 1}</th>" for k in range(count))
    rows = [f"<tr><th>segment</th>{head}</tr>"]
    for seg in segments:
        cells = "".join(
            f"<td>{_number(fold.get('roc_auc'))} <small>({fold['leads']:,})</small></td>"
            for fold in seg["folds"]
        )
        rows.append(f"<tr><td>{escape(str(seg['value']))}</td>{cells}</tr>")
    return (
        "<h3>ROC AUC per fold and segment <small>(leads judged)</small></h3><table>"
        + "".join(rows)
        + "</table>"
    )
