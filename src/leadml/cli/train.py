"""``leadml train``: a lead model from history, logged to MLflow and registered as challenger."""

from __future__ import annotations

import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadml.cli.options import (
    AS_OF_HELP,
    CONVERTED_AT_HELP,
    DASK_HELP,
    DATA_HELP,
    HORIZON_HELP,
    NAME_HELP,
    NEGATIVE_HELP,
    OPEN_HELP,
    OUTCOMES_HELP,
    POSITIVE_HELP,
    SCHEDULER_HELP,
    TIME_ORDER_HELP,
    OutcomeOptions,
    outcome_options,
    read_with_outcomes,
    resolve_schema,
    schema_options,
    warn_all,
)
from leadml.cli.render import backtest_table, console, grades_table, metrics_table, screen
from leadml.cli.shell import project_settings
from leadml.counts import plural
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    from leadml.config import Settings
    from leadml.modeling.finish import TrainResult
    from leadml.schema.spec import LeadSchema


def train(
    data: Annotated[str, typer.Option(help=DATA_HELP, metavar="FILE|URL")],
    schema: Annotated[Path | None, typer.Option(help="LeadSchema TOML.", metavar="FILE")] = None,
    target: Annotated[
        str | None, typer.Option(help="Target column (infers a schema).", metavar="COL")
    ] = None,
    positive: Annotated[list[str] | None, typer.Option(help=POSITIVE_HELP, metavar="VALUE")] = None,
    negative: Annotated[list[str] | None, typer.Option(help=NEGATIVE_HELP, metavar="VALUE")] = None,
    open_values: Annotated[
        list[str] | None, typer.Option("--open", help=OPEN_HELP, metavar="VALUE")
    ] = None,
    converted_at: Annotated[str | None, typer.Option(help=CONVERTED_AT_HELP, metavar="COL")] = None,
    horizon: Annotated[str, typer.Option(help=HORIZON_HELP, metavar="auto|DAYS|none")] = "auto",
    as_of: Annotated[str | None, typer.Option(help=AS_OF_HELP, metavar="DATE")] = None,
    name: Annotated[str | None, typer.Option(help=NAME_HELP, metavar="NAME")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Bundle folder (default: models/<name> in the project home).", metavar="DIR"
        ),
    ] = None,
    experiment: Annotated[
        str | None, typer.Option(help="MLflow experiment (default: the name).", metavar="NAME")
    ] = None,
    outcomes: Annotated[str | None, typer.Option(help=OUTCOMES_HELP, metavar="FILE")] = None,
    on: Annotated[
        str | None, typer.Option(help="Key column shared with --outcomes.", metavar="KEY")
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep a column the leakage guard flags, or a staff column inference left out "
            "(repeatable).",
            metavar="COL",
        ),
    ] = None,
    time_order: Annotated[bool, typer.Option("--time-order", help=TIME_ORDER_HELP)] = False,
    dask: Annotated[bool, typer.Option("--dask", help=DASK_HELP)] = False,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP, metavar="ADDR")] = None,
    recency: Annotated[
        str,
        typer.Option(
            help="Weight recent leads more: auto (the backtest chooses), none, or a half-life "
            "in days.",
            metavar="auto|none|DAYS",
        ),
    ] = "auto",
    tune: Annotated[
        int,
        typer.Option(
            min=0,
            help="Tune LightGBM with N Optuna trials, judged by the backtest (off: 0).",
            metavar="N",
        ),
    ] = 0,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Make the new version challenger (and first champion) even if it loses to "
            "its baselines.",
        ),
    ] = False,
    tune_minutes: Annotated[
        float | None,
        typer.Option(min=0.1, help="Stop tuning after M minutes.", metavar="M"),
    ] = None,
) -> None:
    """Train a lead model, log it to MLflow, register it as challenger, write the bundle.

    A backtest judges it first (the newest leads, by a model trained on the older ones); the
    model shipped is then trained on every lead."""
    from leadml.data.maturity import LabelRule
    from leadml.data.read import describe_source
    from leadml.modeling.recency import parse_recency
    from leadml.tracking.store import connect

    parse_recency(recency)  # bad values stop here, before any work
    LabelRule.parse(horizon, as_of)
    settings = project_settings().model_copy(
        update={
            "recency": recency, "tune": tune, "tune_minutes": tune_minutes,
            "horizon": horizon, "as_of": as_of,
        }
    )  # fmt: skip
    outcome = OutcomeOptions(positive, negative, open_values, converted_at)
    if target is None and schema is None and outcomes is None:
        raise LeadMLError("give --schema FILE, or --target COLUMN to infer a schema from the data")
    # The store is checked before the data is even read: nothing is half-done if it is down.
    with console.status("Checking the MLflow store"):
        connect(settings)
    if dask or scheduler:
        result = _train_on_dask(
            data, schema, target, outcome, allow, time_order, settings, scheduler, outcomes, on,
            name, out, experiment, force,
        )  # fmt: skip
    else:
        from leadml.modeling.train import train_leads

        target_given = target  # as the user typed it, for the command that edits the schema
        with console.status(f"Reading {describe_source(data)}"):
            frame, target, given = read_with_outcomes(data, outcomes, on, target, positive)
        if outcomes is not None:
            outcome = OutcomeOptions([str(given)], None, None, converted_at)
        lead_schema = resolve_schema(data, frame, schema, target, outcome)
        left_out = set(lead_schema.exclude)
        lead_schema = schema_options(lead_schema, allow, time_order)
        for column in sorted(left_out - set(lead_schema.exclude)):
            console.print(
                f"Schema: staff column '{column}' kept as a feature, as --allow asks",
                style="cyan", markup=False, highlight=False, soft_wrap=True,
            )  # fmt: skip
        if schema is None:
            given_outcome = OutcomeOptions(positive, negative, open_values, converted_at)
            show_schema_hint(
                schema_edit_hint(
                    lead_schema, data, target_given, given_outcome, outcomes, on, name, time_order
                )
            )
        project = settings.project_name(lead_schema.name, name)
        from leadml.cli.progress import progress

        with progress("Training") as status:  # plain lines off a terminal
            result = train_leads(
                frame,
                lead_schema,
                settings,
                out=out or settings.models_dir / project,
                experiment=experiment,
                progress=lambda msg: status.update(msg),
                source=describe_source(data),
                name=project,
                force=force,
            )
    show_result(result, settings)


def schema_edit_hint(
    lead_schema: LeadSchema,
    data: str,
    target: str | None,
    outcome: OutcomeOptions,
    outcomes: str | None = None,
    on: str | None = None,
    name: str | None = None,
    time_order: bool = False,
) -> list[str]:
    """What an inferred schema left undecided, and the two commands that settle it: the one
    that writes the schema for editing (with the options this training was given, so it
    reads the outcome the same way) and the training that uses it. Empty when nothing is
    left undecided. Every name is quoted as the shell needs it, spelled as the file does."""
    from leadml.schema.frameworks import bant_rollup

    unassigned = [f.name for f in lead_schema.features if f.group == "other"]
    unrecorded = bant_rollup(lead_schema).unrecorded  # as the model will say it, once
    if not unassigned and not unrecorded:
        return []
    said = []
    if unassigned:
        shown = ", ".join(f"'{c}'" for c in unassigned[:5]) + (", …" if len(unassigned) > 5 else "")
        said.append(f"{plural(len(unassigned), 'column')} unassigned ({shown})")
    if unrecorded:
        said.append(f"no column tagged {' or '.join(unrecorded)}")
    out = f"{lead_schema.name}.schema.toml"
    infer = ["leadml", "schema", "infer", "--data", data]
    infer += ["--target", target] if target else []
    for flag, values in (
        ("--positive", outcome.positive),
        ("--negative", outcome.negative),
        ("--open", outcome.open),
    ):
        for value in values or ():
            infer += [flag, value]
    infer += ["--converted-at", outcome.converted_at] if outcome.converted_at else []
    labelled = ["--outcomes", outcomes, "--on", str(on)] if outcomes else []
    infer += labelled + (["--name", name] if name else [])
    infer += (["--time-order"] if time_order else []) + ["--out", out]
    fit = ["leadml", "train", "--data", data, *labelled, "--schema", out]
    fit += ["--name", name] if name else []
    return [
        f"{' and '.join(said)}: write the inferred schema, set groups and criteria in it, "
        "and train with it:",
        shlex.join(infer),
        shlex.join(fit),
    ]


def show_schema_hint(lines: list[str]) -> None:
    """The hint, then its commands on lines of their own, printed as they paste (no prefix,
    no markup, no wrapping)."""
    for i, line in enumerate(lines):
        console.print(
            f"Schema: {line}" if i == 0 else f"  {line}",
            style="cyan", markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip


def show_result(result: TrainResult, settings: Settings) -> None:
    """Warnings, the model against its baselines, the grade table, and where it all went."""
    label = result.metrics.get("label") or {}
    for line in label.get("lines") or []:
        console.print(f"[cyan]Outcomes:[/] {line}", highlight=False, soft_wrap=True)
    warn_all(result.warnings)
    screen.print(backtest_table(result.metrics))
    screen.print(metrics_table(result.metrics))
    screen.print(grades_table(result.metrics["grades"]))
    meta = result.model.meta
    verdict = result.metrics.get("verdict") or {}
    aliases = "alias challenger"
    if verdict.get("loses"):
        screen.print(f"[bold red]✗[/] {verdict['sentence']}", highlight=False, soft_wrap=True)
        aliases = "aliases given anyway: --force" if result.forced else "no alias"
    screen.print(
        f"Bundle: [bold]{result.bundle}[/]\n"
        f"MLflow run {result.run_id} → registered as [bold]{meta.get('registered_model')}[/] "
        f"version {result.version} ({aliases}), model [bold]{result.model.version}[/]\n"
        f"Store: {settings.tracking_uri}"
    )


def _train_on_dask(
    data: str,
    schema: Path | None,
    target: str | None,
    outcome: OutcomeOptions,
    allow: list[str] | None,
    time_order: bool,
    settings: Settings,
    scheduler: str | None,
    outcomes: str | None,
    on: str | None,
    name: str | None,
    out: Path | None,
    experiment: str | None,
    force: bool = False,
) -> TrainResult:
    """``train --dask``: lightgbm.dask over the parts; a schema is inferred from the first part.

    With ``--outcomes`` the outcome table (keys only) is read here and the parts are labelled
    on the workers.
    """
    from leadml.cluster.client import dask_client
    from leadml.cluster.partitions import first_rows
    from leadml.cluster.train import train_dask

    keys = None
    if outcome_options(outcomes, on):
        from leadml.data.outcomes import outcome_keys
        from leadml.data.read import read_table

        target = target or "converted"
        outcome = OutcomeOptions(["1"], None, None, outcome.converted_at)
        keys = outcome_keys(read_table(str(outcomes)), str(on), target)
    with ExitStack() as stack:
        with console.status(f"Connecting to Dask at {scheduler}" if scheduler else "Starting Dask"):
            client = stack.enter_context(dask_client(scheduler))
        sample = first_rows(data) if schema is None else None
        if sample is not None and keys is not None:
            from leadml.data.outcomes import check_lead_columns, label_leads

            check_lead_columns(list(map(str, sample.columns)), keys.on, keys.target)
            sample = label_leads(sample, keys)
        lead_schema = resolve_schema(data, sample, schema, target, outcome)
        lead_schema = schema_options(lead_schema, allow, time_order)
        project = settings.project_name(lead_schema.name, name)
        with console.status("Training on Dask") as status:
            return train_dask(
                data,
                lead_schema,
                client,
                settings,
                out=out or settings.models_dir / project,
                experiment=experiment,
                progress=lambda msg: status.update(msg),
                outcomes=keys,
                name=project,
                force=force,
            )
