"""``leadml train``: a lead model from history, logged to MLflow and registered as challenger."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadml.api.training import Listener
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
    warn_all,
)
from leadml.cli.render import backtest_table, console, grades_table, metrics_table, screen
from leadml.cli.segments_view import show_duties
from leadml.cli.shell import project_settings
from leadml.counts import plural
from leadml.data.resolve import OutcomeOptions

if TYPE_CHECKING:
    from leadml.api.training import TrainOptions
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
    segment: Annotated[
        str | None,
        typer.Option(
            help="A column splitting the leads into segments (region, channel, team): figures, "
            "calibration, grade bands and specialist models per segment.",
            metavar="COL",
        ),
    ] = None,
    audit: Annotated[
        list[str] | None,
        typer.Option(
            help="A column to audit fairness on: never a feature, never stored (repeatable).",
            metavar="COL",
        ),
    ] = None,
    opt_out: Annotated[
        str | None,
        typer.Option(
            "--opt-out",
            help="A column flagging leads that objected to profiling: never learned from.",
            metavar="COL",
        ),
    ] = None,
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
    from leadml.api.train import train as train_model

    settings = project_settings()
    model = train_model(
        data,
        schema=schema,
        target=target,
        positive=positive,
        negative=negative,
        open=open_values,
        converted_at=converted_at,
        horizon=horizon,
        as_of=as_of,
        name=name,
        out=out,
        experiment=experiment,
        outcomes=outcomes,
        on=on,
        allow=allow,
        time_order=time_order,
        segment=segment,
        audit=audit,
        opt_out=opt_out,
        dask=dask,
        scheduler=scheduler,
        recency=recency,
        tune=tune,
        tune_minutes=tune_minutes,
        force=force,
        settings=settings,
        progress=Printer(),
    )
    assert model.result is not None  # trained here
    show_result(model.result, settings)


class Printer(Listener):
    """The training's steps as a spinner (plain lines off a terminal), its notes as they come,
    and, for an inferred schema, the commands that write it for editing."""

    @contextmanager
    def phase(self, title: str, long: bool = False) -> Iterator[Callable[[str], None]]:
        from leadml.cli.progress import progress

        with progress(title) if long else console.status(title) as status:
            yield lambda msg: status.update(msg)

    def note(self, kind: str, line: str) -> None:
        if kind == "warning":
            console.print(f"[yellow]Warning:[/] {line}", highlight=False, soft_wrap=True)
        elif kind == "staff":
            console.print(
                f"Schema: {line}", style="cyan", markup=False, highlight=False, soft_wrap=True
            )
        else:
            console.print(f"[cyan]Schema:[/] {line}", highlight=False, soft_wrap=True)

    def schema_settled(self, schema: LeadSchema, options: TrainOptions) -> None:
        if options.schema is None:
            show_schema_hint(
                schema_edit_hint(
                    schema,
                    str(options.data),
                    options.target,
                    options.outcome,
                    options.outcomes,
                    options.on,
                    options.name,
                    options.time_order,
                )
            )


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
            style="cyan",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def show_result(result: TrainResult, settings: Settings) -> None:
    """Warnings, the model against its baselines, the grade table, and where it all went."""
    label = result.metrics.get("label") or {}
    for line in label.get("lines") or []:
        console.print(f"[cyan]Outcomes:[/] {line}", highlight=False, soft_wrap=True)
    warn_all(result.warnings)
    screen.print(backtest_table(result.metrics))
    screen.print(metrics_table(result.metrics))
    screen.print(grades_table(result.metrics["grades"]))
    show_duties(result.metrics)
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
