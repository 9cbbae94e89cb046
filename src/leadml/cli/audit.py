"""``leadml audit``: how a model's SQL cut-off treats groups of leads in any file.

The audit columns (age, marital status: never features, never stored) are read from the file,
the model scores every lead, and outcomes are taken where the file has the schema's target
with a settled value; leads still open count for selection rates only. What is printed (or
written with ``--out``) is aggregates only: group labels and figures, never a lead's value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadml.cli.options import DATA_HELP, MODEL_HELP, warn_all
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings

if TYPE_CHECKING:
    pass


def _table(column: dict) -> Table:
    from leadml.fairness.words import percent

    table = Table(title=f"{column['column']} ({column['how']})", title_justify="left")
    for head in ("group", "leads", "selected", "ratio", "TPR", "FPR", "mean p", "observed", "AUC"):
        table.add_column(head, justify="left" if head == "group" else "right")
    for r in column["groups"]:
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}"
        table.add_row(
            r["group"],
            f"{r['leads']:,}",
            percent(r["selection_rate"]),
            f"[bold red]{ratio}[/]" if r["flagged"] else ratio,
            percent(r.get("tpr")),
            percent(r.get("fpr")),
            percent(r.get("mean_probability")),
            percent(r.get("observed_conversion")),
            "–" if r.get("roc_auc") is None else f"{r['roc_auc']:.3f}",
        )
    return table


def audit(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[str, typer.Option(help=f"Leads to audit. {DATA_HELP}", metavar="FILE")],
    columns: Annotated[
        list[str] | None,
        typer.Option(
            "--audit",
            help="Audit column (repeatable; default: the schema's audit columns).",
            metavar="COL",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the audit as an HTML page.", metavar="FILE.html")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit as JSON.")] = False,
) -> None:
    """Fairness audit: selection rate at the SQL cut-off, TPR, FPR and ROC AUC per group, the
    80 % rule, and features that stand in for an audit column."""
    from leadml.data.read import describe_source, read_table
    from leadml.lifecycle.audit import audit_file
    from leadml.tracking.references import load_model

    settings = project_settings()
    with console.status(f"Loading {model}"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    with console.status(f"Reading {describe_source(data)}") as status:
        frame = read_table(data)
        status.update(f"Auditing {len(frame):,} leads")
        result, notes = audit_file(
            lead_model,
            frame,
            columns or [],
            seed=settings.seed,
            resamples=settings.bootstrap,
        )
    warn_all(notes)
    found = result.to_dict()
    if as_json:
        typer.echo(json.dumps(found, indent=2))
    else:
        for column in found["columns"].values():
            screen.print(_table(column))
        for line in result.lines():
            screen.print(line, highlight=False, soft_wrap=True)
    if out is not None:
        written = _write_page(found, out, lead_model.version)
        console.print(f"Wrote the audit page to [bold]{written}[/]")


def _write_page(found: dict, out: Path, version: str) -> Path:
    from leadml.report.audit_section import audit_page
    from leadml.report.plots_audit import audit_png

    out.write_text(audit_page(found, f"Fairness audit · {version}", audit_png(found)))
    return out
