"""What ``leadml train`` prints about segments and the fairness audit: a table per segment
(its backtest ROC AUC, the model that scores it, its calibration and bands, why) and the
audit's sentences. Read from ``metrics.json``'s sections, as the report and MLflow are."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from leadml.cli.render import screen


def segments_table(segments: dict[str, Any]) -> Table:
    """One row per segment value (and the leads without one)."""
    table = Table(title=f"Segments of {segments['column']}: the backtest per segment")
    for name in (
        "segment",
        "leads",
        "converted",
        "roc_auc (95 %)",
        "model",
        "calibration",
        "bands",
    ):
        table.add_column(name, justify="left" if name in ("segment", "model") else "right")
    for seg in segments["segments"]:
        pooled = seg["pooled"]
        auc = pooled.get("roc_auc")
        ci = (pooled.get("intervals") or {}).get("roc_auc")
        shown = "–" if auc is None else f"{auc:.3f}" + (f" ({ci[0]:.3f}–{ci[1]:.3f})" if ci else "")
        table.add_row(
            str(seg["value"]),
            f"{seg['leads']:,}",
            f"{seg['converted']:,}",
            shown,
            seg["model"],
            seg["calibration"],
            seg["bands"],
        )
    return table


def segment_notes(segments: dict[str, Any]) -> list[str]:
    """Why each segment got what it got, one line each (the ones with a specialist tried)."""
    return [
        f"{seg['value']}: {seg['note']}" for seg in segments["segments"] if seg.get("specialist")
    ]


def show_duties(metrics: dict[str, Any]) -> None:
    """Segments and the fairness audit, where the training made them."""
    if metrics.get("segments"):
        screen.print(segments_table(metrics["segments"]))
        for line in segment_notes(metrics["segments"]):
            screen.print(f"  {line}", highlight=False, soft_wrap=True)
    if metrics.get("audit"):
        screen.print("[bold]Fairness audit[/] (the newest leads, at the SQL cut-off):")
        for line in metrics["audit"].get("lines") or []:
            screen.print(f"  {line}", highlight=False, soft_wrap=True)
