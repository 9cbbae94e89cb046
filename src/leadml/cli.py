"""``leadml``: the command line, one verb per stage (typer + rich).

Each command is a thin shell over a library function. Input problems (``LeadMLError``) print
one red line and exit with code 2, never a traceback; set ``LEADML_DEBUG=1`` to see one.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from leadml.config import Settings
from leadml.errors import LeadMLError

app = typer.Typer(
    name="leadml",
    help="Open lead conversion scoring: train, score and explain leads against BANT.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
schema_app = typer.Typer(help="Lead schemas: infer one from a raw export.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")

console = Console(stderr=True)
screen = Console()
F = TypeVar("F", bound=Callable[..., Any])


def _quiet_libraries() -> None:
    """MLflow and friends are chatty; the CLI says what matters itself."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for name in ("mlflow", "alembic", "urllib3", "distributed", "lightgbm"):
        logging.getLogger(name).setLevel(logging.ERROR)


def friendly(func: F) -> F:
    """Turn input errors into one line and exit code 2; keep tracebacks for real bugs only."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _quiet_libraries()
        try:
            return func(*args, **kwargs)
        except LeadMLError as exc:
            console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            console.print("[yellow]Interrupted.[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("LEADML_DEBUG"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            console.print(
                f"[bold red]Error:[/] unexpected {type(exc).__name__}: {first[:300]} "
                "(set LEADML_DEBUG=1 for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return Settings()


# -- generate ------------------------------------------------------------------------------------
@app.command()
@friendly
def generate(
    rows: Annotated[int, typer.Option(min=1, help="Number of leads.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed, same table.")] = 7,
    out: Annotated[Path, typer.Option(help="CSV or .parquet file to write.")] = Path(
        "data/sample/leads.csv"
    ),
) -> None:
    """Write a synthetic CRM lead history with a known generating process."""
    from leadml.synth import generate_leads, write_leads

    with console.status(f"Generating {rows:,} leads"):
        frame = generate_leads(rows, seed)
        path = write_leads(frame, out)
    console.print(
        f"Wrote {len(frame):,} leads × {frame.shape[1]} columns to [bold]{path}[/] "
        f"(converted {frame['converted'].mean():.1%})"
    )


# -- train ---------------------------------------------------------------------------------------
def resolve_schema(
    data: Path | str | None,
    frame: Any,
    schema: Path | None,
    target: str | None,
    positive: str | None,
) -> Any:
    """A schema file when given; else one inferred from the data around ``--target``."""
    from leadml.schema import LeadSchema

    if schema is not None:
        loaded = LeadSchema.load(schema)
        if positive is not None:
            loaded = loaded.model_copy(update={"positive": positive})
        return loaded
    if target is None:
        raise LeadMLError("give --schema FILE, or --target COLUMN to infer a schema from the data")
    from leadml.infer import infer

    inference = infer(frame, target=target, positive=positive)
    for line in inference.summary():
        console.print(f"[cyan]Schema:[/] {line}", highlight=False, soft_wrap=True)
    return inference.schema


def outcome_options(outcomes: str | None, on: str | None) -> bool:
    """``--outcomes FILE`` and ``--on KEY`` come together; True when both are given."""
    if outcomes is None and on is not None:
        raise LeadMLError("--on KEY goes with --outcomes FILE")
    if outcomes is not None and on is None:
        raise LeadMLError("--outcomes needs --on KEY: the column both tables share")
    return outcomes is not None


def read_with_outcomes(
    data: str, outcomes: str | None, on: str | None, target: str | None, positive: str | None
) -> tuple[Any, str | None, str | None]:
    """The lead table, labelled from a second table of conversions when ``--outcomes`` is given.

    Returns the frame and the target column and positive value to use with it.
    """
    from leadml.data import read_leads

    frame = read_leads(data)
    if not outcome_options(outcomes, on):
        return frame, target, positive
    from leadml.readers import attach_outcomes

    target = target or "converted"
    frame, notes = attach_outcomes(frame, read_leads(outcomes), str(on), target)
    for note in notes:
        console.print(f"[yellow]Warning:[/] {note}", highlight=False, soft_wrap=True)
    return frame, target, "1"


def schema_options(lead_schema: Any, allow: list[str] | None, time_order: bool) -> Any:
    """``--allow`` and ``--time-order`` written into the schema, so the bundle records them."""
    update: dict[str, Any] = {}
    if allow:
        update["leakage_allowed"] = sorted({*lead_schema.leakage_allowed, *allow})
    if time_order:
        update["rows_in_time_order"] = True
    return lead_schema.model_copy(update=update) if update else lead_schema


DATA_HELP = (
    "CSV/TSV, Parquet or .xlsx file of historical leads, or a SQLAlchemy URL "
    "(URL#table or URL#SELECT ...)."
)
OUTCOMES_HELP = (
    "A second table of conversions (e.g. closed deals): a lead converted when its --on key "
    "appears there. Only the key is used."
)
TIME_ORDER_HELP = (
    "The rows are oldest first: test on the newest (last) 20% when there is no date column."
)
DASK_HELP = (
    "Run on Dask: --data is then a folder or glob of CSV or Parquet parts. Uses the cluster at "
    "--scheduler, else at DASK_SCHEDULER_ADDRESS, else a local cluster of 2 worker processes."
)
SCHEDULER_HELP = "Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies --dask)."


@schema_app.command("infer")
@friendly
def schema_infer(
    data: Annotated[str, typer.Option(help=DATA_HELP)],
    target: Annotated[str | None, typer.Option(help="Target column.")] = None,
    positive: Annotated[str | None, typer.Option(help="Target value meaning converted.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="TOML file to write (default: print it).")
    ] = None,
    outcomes: Annotated[str | None, typer.Option(help=OUTCOMES_HELP)] = None,
    on: Annotated[str | None, typer.Option(help="Key column shared with --outcomes.")] = None,
    time_order: Annotated[bool, typer.Option("--time-order", help=TIME_ORDER_HELP)] = False,
) -> None:
    """Infer a schema from a raw export and write it as TOML, to review, edit and train with."""
    from leadml.data import validate
    from leadml.infer import infer
    from leadml.leakage import audit_leakage
    from leadml.readers import describe_source

    if target is None and outcomes is None:
        raise LeadMLError("give --target COLUMN (or --outcomes FILE --on KEY)")
    with console.status(f"Reading {describe_source(data)}"):
        frame, target, positive = read_with_outcomes(data, outcomes, on, target, positive)
    assert target is not None
    inference = infer(frame, target=target, positive=positive)
    inference.schema = schema_options(inference.schema, None, time_order)
    # What the leakage guard will leave out at training, so the user sees it now.
    checked = validate(frame, inference.schema, min_class_count=1)
    audit = audit_leakage(checked.frame, checked.y, checked.schema)
    guard = [
        f"leakage guard will leave out '{n}': {'; '.join(audit.flagged[n])}" for n in audit.dropped
    ]
    text = inference.to_toml(describe_source(data), extra=guard)
    for line in [*inference.summary(), *guard]:
        console.print(f"[cyan]Schema:[/] {line}", highlight=False, soft_wrap=True)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"Wrote [bold]{out}[/]: review it, then train with --schema {out}")


def metrics_table(metrics: dict[str, Any]) -> Table:
    """Model next to its baselines, one row each, on the test split."""
    cols = ["roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile"]
    table = Table(title="Test split: model vs baselines")
    table.add_column("model")
    for c in cols:
        table.add_column(c, justify="right")
    rows = {"leadml (LightGBM)": metrics, **metrics.get("baselines", {})}
    for name, values in rows.items():
        table.add_row(name, *(f"{values.get(c, float('nan')):.3f}" for c in cols))
    return table


def grades_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Grade bands on the test split")
    for c in ("grade", "min probability", "leads", "share", "observed conversion"):
        table.add_column(c, justify="right")
    for r in records:
        conv = r.get("conversion")
        table.add_row(
            r["grade"],
            f"{r['min_probability']:.3f}",
            f"{r['leads']:,}",
            f"{r['share']:.0%}",
            "–" if conv is None or conv != conv else f"{conv:.1%}",
        )
    return table


@app.command()
@friendly
def train(
    data: Annotated[str, typer.Option(help=DATA_HELP)],
    schema: Annotated[Path | None, typer.Option(help="LeadSchema TOML.")] = None,
    target: Annotated[str | None, typer.Option(help="Target column (infers a schema).")] = None,
    positive: Annotated[str | None, typer.Option(help="Target value meaning converted.")] = None,
    out: Annotated[Path | None, typer.Option(help="Bundle folder (default models/leadml).")] = None,
    experiment: Annotated[str | None, typer.Option(help="MLflow experiment name.")] = None,
    outcomes: Annotated[str | None, typer.Option(help=OUTCOMES_HELP)] = None,
    on: Annotated[str | None, typer.Option(help="Key column shared with --outcomes.")] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(help="Keep a column the leakage guard flags (repeatable)."),
    ] = None,
    time_order: Annotated[bool, typer.Option("--time-order", help=TIME_ORDER_HELP)] = False,
    dask: Annotated[bool, typer.Option("--dask", help=DASK_HELP)] = False,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Train a lead model, log it to MLflow, register it as challenger, write the bundle."""
    from leadml.readers import describe_source
    from leadml.train import train_leads

    settings = _settings()
    if target is None and schema is None and outcomes is None:
        raise LeadMLError("give --schema FILE, or --target COLUMN to infer a schema from the data")
    bundle = out or settings.models_dir / "leadml"
    # The store is checked before the data is even read: nothing is half-done if it is down.
    from leadml.tracking import connect

    with console.status("Checking the MLflow store"):
        connect(settings, experiment)
    if dask or scheduler:
        result = _train_on_dask(
            data,
            schema,
            target,
            positive,
            allow,
            time_order,
            settings,
            bundle,
            experiment,
            scheduler,
            outcomes,
            on,
        )
    else:
        with console.status(f"Reading {describe_source(data)}"):
            frame, target, positive = read_with_outcomes(data, outcomes, on, target, positive)
        lead_schema = resolve_schema(data, frame, schema, target, positive)
        lead_schema = schema_options(lead_schema, allow, time_order)
        with console.status("Training") as status:
            result = train_leads(
                frame,
                lead_schema,
                settings,
                out=bundle,
                experiment=experiment,
                progress=lambda msg: status.update(msg),
                source=describe_source(data),
            )
    for warning in result.warnings:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False, soft_wrap=True)
    screen.print(metrics_table(result.metrics))
    screen.print(grades_table(result.metrics["grades"]))
    screen.print(
        f"Bundle: [bold]{result.bundle}[/]\n"
        f"MLflow run {result.run_id} → registered as "
        f"[bold]{settings.registered_model}[/] version {result.version} (alias challenger)\n"
        f"Store: {settings.tracking_uri}"
    )


def _train_on_dask(
    data: str,
    schema: Path | None,
    target: str | None,
    positive: str | None,
    allow: list[str] | None,
    time_order: bool,
    settings: Settings,
    bundle: Path,
    experiment: str | None,
    scheduler: str | None,
    outcomes: str | None = None,
    on: str | None = None,
) -> Any:
    """``train --dask``: lightgbm.dask over the parts; a schema is inferred from the first part.

    With ``--outcomes`` the outcome table (keys only) is read here and the parts are labelled
    on the workers.
    """
    from contextlib import ExitStack

    from leadml.scale import dask_client, first_rows, train_dask

    keys = None
    if outcome_options(outcomes, on):
        from leadml.data import read_leads
        from leadml.readers import outcome_keys

        target = target or "converted"
        positive = "1"
        keys = outcome_keys(read_leads(str(outcomes)), str(on), target)
    with ExitStack() as stack:
        with console.status(f"Connecting to Dask at {scheduler}" if scheduler else "Starting Dask"):
            client = stack.enter_context(dask_client(scheduler))
        sample = first_rows(data) if schema is None else None
        if sample is not None and keys is not None:
            from leadml.readers import check_lead_columns, label_leads

            check_lead_columns(list(map(str, sample.columns)), keys.on, keys.target)
            sample = label_leads(sample, keys)
        lead_schema = resolve_schema(data, sample, schema, target, positive)
        lead_schema = schema_options(lead_schema, allow, time_order)
        with console.status("Training on Dask") as status:
            return train_dask(
                data,
                lead_schema,
                client,
                settings,
                out=bundle,
                experiment=experiment,
                progress=lambda msg: status.update(msg),
                outcomes=keys,
            )


# -- score ---------------------------------------------------------------------------------------
def scored_output(frame: Any, scores: Any, id_column: str | None) -> Any:
    """Input columns kept, id first, scores appended."""
    import pandas as pd

    result = pd.concat([frame.reset_index(drop=True), scores.reset_index(drop=True)], axis=1)
    if id_column and id_column in result.columns:
        result = result[[id_column, *(c for c in result.columns if c != id_column)]]
    return result


def write_table(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


@app.command()
@friendly
def score(
    model: Annotated[str, typer.Option(help="Bundle folder or models:/leadml@champion.")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet of leads to score.")],
    out: Annotated[Path, typer.Option(help="CSV or .parquet file to write.")],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add one column per criterion (contribution, met), bant_qualified and reasons.",
        ),
    ] = False,
    dask: Annotated[
        bool, typer.Option("--dask", help=f"{DASK_HELP} --out is then a folder of Parquet parts.")
    ] = False,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
) -> None:
    """Score leads: probability, score 0–100, grade A–D, tier and stage."""
    from leadml.data import read_leads
    from leadml.model import load_model

    settings = _settings()
    with console.status("Loading the model"):
        lead_model = load_model(model, settings.tracking_uri)
    if dask or scheduler:
        _score_on_dask(lead_model, data, out, explain, scheduler, settings)
        return
    with console.status(f"Reading {data}"):
        frame = read_leads(data)
    started = time.perf_counter()
    scores = lead_model.score_frame(frame)
    if explain:
        import pandas as pd

        from leadml.explain import explanation_columns

        with console.status("Explaining the scores"):
            reasons = explanation_columns(lead_model, frame, settings.framework)
        scores = pd.concat([scores, reasons], axis=1)
    result = scored_output(frame, scores, lead_model.schema.id)
    write_table(result, out)
    elapsed = time.perf_counter() - started
    counts = result["grade"].value_counts().reindex(list("ABCD"), fill_value=0)
    console.print(
        f"Scored {len(result):,} leads with {lead_model.version} in {elapsed:.2f} s "
        f"→ [bold]{out}[/]"
        f"  (A {counts['A']:,} · B {counts['B']:,} · C {counts['C']:,} · D {counts['D']:,})"
    )


def _score_on_dask(
    lead_model: Any, data: Path, out: Path, explain: bool, scheduler: str | None, settings: Settings
) -> None:
    """``score --dask``: one Parquet part per input part, a bar of partitions done."""
    from contextlib import ExitStack

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from leadml.scale import dask_client, score_dask

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
                on_partition=lambda done, total: bar.update(task, completed=done, total=total),
            )
    for warning in summary.warnings:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False, soft_wrap=True)
    counts = summary.grades
    console.print(
        f"Scored {summary.rows:,} leads with {lead_model.version} in {summary.seconds:.2f} s "
        f"on Dask → [bold]{summary.out}[/] ({summary.partitions} Parquet parts)"
        f"  (A {counts['A']:,} · B {counts['B']:,} · C {counts['C']:,} · D {counts['D']:,})"
    )


# -- explain -------------------------------------------------------------------------------------
@app.command("explain")
@friendly
def explain_command(
    model: Annotated[str, typer.Option(help="Bundle folder or models:/leadml@champion.")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet holding the lead.")],
    lead_id: Annotated[str, typer.Option("--id", help="The lead's id (schema id column).")],
    png: Annotated[
        Path | None, typer.Option(help="Also write a waterfall by criterion to this PNG.")
    ] = None,
    framework: Annotated[
        str | None, typer.Option(help="bant, champ, anum, faint or gpct (default: bant).")
    ] = None,
) -> None:
    """Why one lead scored what it did: criteria met or not, and the reasons, in sales' words."""
    from leadml.data import read_leads
    from leadml.explain import explain_matrix, explanation_card, waterfall_png
    from leadml.model import load_model

    settings = _settings()
    chosen = framework or settings.framework
    with console.status("Loading the model"):
        lead_model = load_model(model, settings.tracking_uri)
    id_column = lead_model.schema.id
    if not id_column:
        raise LeadMLError("the model's schema names no id column, so leads cannot be looked up")
    with console.status(f"Reading {data}"):
        frame = read_leads(data)
    if id_column not in frame.columns:
        raise LeadMLError(f"{data} has no id column '{id_column}'")
    rows = frame[frame[id_column].astype(str) == str(lead_id)]
    if rows.empty:
        raise LeadMLError(f"no lead with {id_column} '{lead_id}' in {data} ({len(frame):,} rows)")
    explanation = explain_matrix(lead_model, lead_model.matrix(rows.head(1)), chosen)[0]
    labels = lead_model.score_frame(rows.head(1)).iloc[0]
    title = f"Lead {lead_id} · score {labels['score']} · grade {labels['grade']}"
    screen.print(explanation_card(explanation, f"{title} ({labels['tier']})"))
    if png is not None:
        path = waterfall_png(explanation, png, title=f"Lead {lead_id}")
        console.print(f"Waterfall by criterion → [bold]{path}[/]")


# -- demo ----------------------------------------------------------------------------------------
@app.command()
@friendly
def demo(
    rows: Annotated[int, typer.Option(min=1000, help="Synthetic leads to generate.")] = 20_000,
) -> None:
    """Sample data → train → score → the ten hottest leads, end to end."""
    from leadml.data import read_leads
    from leadml.schema import bundled_schema
    from leadml.synth import generate_leads, write_leads
    from leadml.train import train_leads

    settings = _settings()
    started = time.perf_counter()
    data_path = settings.sample_data
    with console.status(f"Generating {rows:,} synthetic leads"):
        write_leads(generate_leads(rows, seed=7), data_path)
    console.print(f"[green]✓[/] Sample data: {data_path}")
    frame = read_leads(data_path)
    bundle = settings.models_dir / "leadml"
    with console.status("Training") as status:
        result = train_leads(
            frame,
            bundled_schema(),
            settings,
            out=bundle,
            progress=lambda msg: status.update(msg),
            source=str(data_path),
        )
    console.print(f"[green]✓[/] Trained {result.model.version} → {bundle}")
    screen.print(metrics_table(result.metrics))
    screen.print(grades_table(result.metrics["grades"]))

    # Score the newest month as if it had just arrived from the CRM.
    fresh = frame.tail(2000).drop(columns=["converted"])
    scored = scored_output(fresh, result.model.score_frame(fresh), "lead_id")
    scored_path = settings.home / "data" / "sample" / "scored.csv"
    write_table(scored, scored_path)
    top = scored.sort_values("probability", ascending=False).head(10)
    table = Table(title="The ten hottest new leads")
    for c in (
        "lead",
        "job title",
        "company",
        "budget",
        "timeline",
        "probability",
        "grade",
        "stage",
    ):
        table.add_column(c)
    for _, r in top.iterrows():
        table.add_row(
            str(r["lead_id"]),
            str(r["job_title"]),
            f"{r['industry']}, {r['employees']:,.0f} staff"
            if r["employees"] == r["employees"]
            else str(r["industry"]),
            str(r["budget_range"]),
            str(r["purchase_timeline"]),
            f"{r['probability']:.1%}",
            str(r["grade"]),
            str(r["stage"]),
        )
    screen.print(table)
    _demo_explanations(result.model, top, screen)
    screen.print(
        f"\nDone in {time.perf_counter() - started:.0f} s. Next:\n"
        f"  • scores for 2,000 new leads: {scored_path}\n"
        f"  • model bundle and report: {bundle}\n"
        "  • MLflow UI: make mlflow-ui  (then http://127.0.0.1:5000)\n"
        "  • serve it: leadml serve --model models/leadml"
    )


def _demo_explanations(model: Any, top: Any, console_out: Console) -> None:
    """Hook for the explanation card of the three hottest leads (filled by explain.py)."""
    try:
        from leadml.explain import explain_frame
    except ImportError:
        return
    cards = explain_frame(model, top.head(3))
    for card in cards:
        console_out.print(card)


# -- evaluate & promote --------------------------------------------------------------------------
@app.command()
@friendly
def evaluate(
    model: Annotated[str, typer.Option(help="Bundle folder or models:/leadml@champion.")],
    data: Annotated[Path, typer.Option(help="Labelled leads (CSV or Parquet).")],
) -> None:
    """Metrics of a trained model on labelled leads it has not seen."""
    from leadml.data import read_leads
    from leadml.evaluate import evaluate_model
    from leadml.model import load_model

    lead_model = load_model(model, _settings().tracking_uri)
    numbers = evaluate_model(lead_model, read_leads(data))
    table = Table(title=f"{lead_model.version} on {data} ({numbers.pop('rows'):,} leads)")
    for key in numbers:
        table.add_column(key, justify="right")
    table.add_row(*(f"{v:.4f}" for v in numbers.values()))
    screen.print(table)


@app.command()
@friendly
def promote(
    model: Annotated[
        str, typer.Option(help="Challenger to promote.")
    ] = "models:/leadml@challenger",
    data: Annotated[
        Path | None,
        typer.Option(help="Held-out labelled leads (default: the challenger's own test split)."),
    ] = None,
) -> None:
    """Make the challenger champion, only if it is not worse on the same held-out data."""
    import getpass

    from mlflow.tracking import MlflowClient

    from leadml.data import read_leads, split_rows, validate
    from leadml.errors import ModelLoadError
    from leadml.evaluate import evaluate_model
    from leadml.model import load_model
    from leadml.registry import (
        AUC_TOLERANCE,
        CHAMPION,
        ECE_TOLERANCE,
        alias_version,
        promotion_verdict,
        record_promotion,
    )
    from leadml.tracking import connect

    settings = _settings()
    connect(settings)
    name = settings.registered_model
    challenger = load_model(model, settings.tracking_uri)
    new = str(challenger.meta.get("registry_version") or "")
    client = MlflowClient()
    if not new:
        raise ModelLoadError(f"{model} is not a registered model version; give models:/...")
    old = alias_version(client, name, CHAMPION)
    if old == new:
        screen.print(f"Version {new} is already the champion.")
        return
    if data is not None:
        frame = read_leads(data)
    else:
        source = challenger.meta.get("source")
        if not source or not Path(source).exists():
            raise LeadMLError("give --data: the challenger's training file is not available")
        full = validate(read_leads(source), challenger.schema)
        part = split_rows(full.frame, full.y, challenger.schema)
        frame = full.frame.iloc[part.test]
    new_numbers = evaluate_model(challenger, frame)
    table = Table(title=f"Promotion gate on {len(frame):,} held-out leads")
    for c in ("model", "roc_auc", "ece", "log_loss", "brier"):
        table.add_column(c, justify="right")
    table.add_row(
        f"challenger v{new}",
        *(f"{new_numbers[c]:.4f}" for c in ("roc_auc", "ece", "log_loss", "brier")),
    )
    old_numbers = None
    if old is not None:
        champion = load_model(f"models:/{name}/{old}", settings.tracking_uri)
        old_numbers = evaluate_model(champion, frame)
        table.add_row(
            f"champion v{old}",
            *(f"{old_numbers[c]:.4f}" for c in ("roc_auc", "ece", "log_loss", "brier")),
        )
    screen.print(table)
    if old_numbers is not None:
        ok, reasons = promotion_verdict(old_numbers, new_numbers)
        if not ok:
            raise LeadMLError(
                f"promotion refused: {'; '.join(reasons)} (tolerances: ROC AUC -{AUC_TOLERANCE}, "
                f"ECE +{ECE_TOLERANCE}); champion stays v{old}"
            )
    evidence = {"challenger": new_numbers, "champion": old_numbers, "rows": len(frame)}
    record_promotion(client, name, old, new, getpass.getuser(), evidence)
    screen.print(f"[green]✓[/] {name} v{new} is now champion (was v{old or '-'}).")


# -- serve ---------------------------------------------------------------------------------------
@app.command()
@friendly
def serve(
    model: Annotated[str, typer.Option(help="Bundle folder or models:/leadml@champion.")],
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond loopback needs LEADML_API_KEYS.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    history: Annotated[
        str | None,
        typer.Option(help="Score history: SQLAlchemy URL or 'none' (default: SQLite under home)."),
    ] = None,
) -> None:
    """Serve the scoring API for CRMs and the sales-ops page (FastAPI + uvicorn)."""
    # The service lives in serve/, outside the library: only this verb loads it, at call
    # time, so importing leadml never imports FastAPI.
    from serve.server import run
    from serve.settings import ServeSettings

    overrides: dict[str, Any] = {"model_ref": model}
    if history is not None:
        overrides["history_url"] = history
    run(ServeSettings(**overrides), host=host, port=port)


def main() -> None:  # pragma: no cover - console-script shim
    app(prog_name="leadml")
    sys.exit(0)
