"""``leadml score``, ``leadml explain`` and ``leadml evaluate``: a trained model at work."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadml.cli.options import (
    ALLOW_SPARSE_HELP,
    DASK_HELP,
    MODEL_HELP,
    SCHEDULER_HELP,
    warn_all,
)
from leadml.cli.render import console, explanation_card, screen
from leadml.cli.shell import project_settings
from leadml.counts import plural
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings

FRAMEWORK_HELP = "bant, champ, anum, faint or gpct (default: LEADML_FRAMEWORK, else bant)."


def _grade_counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{g} {counts.get(g, 0):,}" for g in "ABCD")


def score(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet of leads to score.", metavar="FILE")],
    out: Annotated[Path, typer.Option(help="CSV or .parquet file to write.", metavar="FILE")],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add each criterion's points and verdict, qualified, reasons, concerns and "
            "questions to ask.",
        ),
    ] = False,
    allow_sparse: Annotated[bool, typer.Option("--allow-sparse", help=ALLOW_SPARSE_HELP)] = False,
    dask: Annotated[
        bool, typer.Option("--dask", help=f"{DASK_HELP} --out is then a folder of Parquet parts.")
    ] = False,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP, metavar="ADDR")] = None,
) -> None:
    """Score leads: probability, score 0–100, grade A–D, tier and stage."""
    from leadml.api.scoring import min_share, score_frame
    from leadml.data.read import read_table
    from leadml.data.write import write_table
    from leadml.tracking.references import load_model

    settings = project_settings()
    share = min_share(settings, allow_sparse)
    with console.status("Loading the model"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    if dask or scheduler:
        _score_on_dask(lead_model, data, out, explain, scheduler, settings, share)
        return
    with console.status(f"Reading {data}"):
        frame = read_table(data)
    started = time.perf_counter()
    with console.status("Explaining the scores" if explain else "Scoring"):
        scored = score_frame(
            lead_model, frame, explain=explain, framework=settings.framework, min_field_share=share
        )
    warn_all(scored.notes)
    result = scored.table
    write_table(result, out)
    elapsed = time.perf_counter() - started
    counts = result["grade"].value_counts().to_dict()
    console.print(
        f"Scored {plural(len(result), 'lead')} with {lead_model.version} in {elapsed:.2f} s "
        f"→ [bold]{out}[/]  ({_grade_counts(counts)})"
    )
    warned = int((result["warnings"] != "").sum())
    if warned:
        console.print(
            f"[yellow]{plural(warned, 'lead')} {'has' if warned == 1 else 'have'} warnings[/] "
            "(unseen answers, unreadable values, "
            "numbers beyond training): see the warnings column"
        )


def _score_on_dask(
    lead_model: LeadModel,
    data: Path,
    out: Path,
    explain: bool,
    scheduler: str | None,
    settings: Settings,
    min_share: float | None,
) -> None:
    """``score --dask``: one Parquet part per input part, a bar of partitions done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leadml.cluster.client import dask_client
    from leadml.cluster.score import score_dask

    with ExitStack() as stack:
        with console.status(f"Connecting to Dask at {scheduler}" if scheduler else "Starting Dask"):
            client = stack.enter_context(dask_client(scheduler))
        columns = (TextColumn("Scoring partitions"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("score", total=None)
            summary = score_dask(
                lead_model,
                data,
                out,
                client,
                explain=explain,
                framework=settings.framework,
                min_share=min_share,
                on_partition=lambda done, total: bar.update(task, completed=done, total=total),
            )
    warn_all(summary.warnings)
    console.print(
        f"Scored {summary.rows:,} leads with {lead_model.version} in {summary.seconds:.2f} s "
        f"on Dask → [bold]{summary.out}[/] ({summary.partitions} Parquet parts)"
        f"  ({_grade_counts(summary.grades)})"
    )


def explain_command(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet holding the lead.", metavar="FILE")],
    lead_id: Annotated[
        str, typer.Option("--id", help="The lead's id (schema id column).", metavar="LEAD_ID")
    ],
    png: Annotated[
        Path | None,
        typer.Option(help="Also write a waterfall by criterion to this PNG.", metavar="FILE"),
    ] = None,
    framework: Annotated[str | None, typer.Option(help=FRAMEWORK_HELP, metavar="NAME")] = None,
) -> None:
    """Why one lead scored what it did: criteria met or not, and the reasons, in sales' words."""
    from leadml.data.read import read_table
    from leadml.explain.attributions import explain_matrix
    from leadml.explain.decisions import lead_decisions
    from leadml.report.plots import waterfall_png
    from leadml.tracking.references import load_model

    settings = project_settings()
    chosen = framework or settings.framework
    with console.status("Loading the model"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    id_column = lead_model.schema.id
    if not id_column:
        raise LeadMLError("the model's schema names no id column, so leads cannot be looked up")
    with console.status(f"Reading {data}"):
        frame = read_table(data)
    if id_column not in frame.columns:
        raise LeadMLError(f"{data} has no id column '{id_column}'")
    rows = frame[frame[id_column].astype(str) == str(lead_id)]
    if rows.empty:
        raise LeadMLError(f"no lead with {id_column} '{lead_id}' in {data} ({len(frame):,} rows)")
    x = lead_model.matrix(rows.head(1))
    explanation = explain_matrix(lead_model, x, chosen)[0]
    probability = float(lead_model.predict_proba(x)[0])
    labels = lead_model.label_one(probability, x[0])
    decisions = lead_decisions(lead_model, x, [probability], [explanation])[0]
    title = f"Lead {lead_id} · grade {labels['grade']} · {labels['stage']}"
    screen.print(explanation_card(explanation, title, decisions, lead_model))
    if png is not None:
        path = waterfall_png(explanation, png, title=f"Lead {lead_id}")
        console.print(f"Waterfall by criterion → [bold]{path}[/]")


def evaluate(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[Path, typer.Option(help="Labelled leads (CSV or Parquet).", metavar="FILE")],
) -> None:
    """Metrics of a trained model on labelled leads it has not seen."""
    from leadml.data.read import read_table
    from leadml.modeling.evaluate import evaluate_model
    from leadml.tracking.references import load_model

    settings = project_settings()
    lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    from leadml.cli.progress import progress

    with progress(f"Scoring {data} with {lead_model.version}"):  # plain lines off a terminal
        numbers = evaluate_model(lead_model, read_table(data))
    table = Table(title=f"{lead_model.version} on {data} ({numbers.pop('rows'):,} leads)")
    for key in numbers:
        table.add_column(key, justify="right")
    table.add_row(*(f"{v:.4f}" for v in numbers.values()))
    screen.print(table)
