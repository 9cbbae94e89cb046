"""``leadml generate`` and ``leadml schema infer``: data to learn from, and what it means."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadml.cli.options import (
    CONVERTED_AT_HELP,
    DATA_HELP,
    NEGATIVE_HELP,
    OPEN_HELP,
    OUTCOMES_HELP,
    POSITIVE_HELP,
    TIME_ORDER_HELP,
    read_with_outcomes,
    schema_options,
)
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings
from leadml.errors import LeadMLError

schema_app = typer.Typer(help="Lead schemas: infer one from a raw export.", no_args_is_help=True)


class Style(StrEnum):
    """What ``leadml generate`` writes."""

    synthetic = "synthetic"
    export = "export"


class Segments(StrEnum):
    """``leadml generate --segments``: does one region convert by a rule of its own?"""

    same = "same"
    different = "different"


def _generate_export(rows: int, seed: int, out: Path) -> None:
    """The messy web-form export (:mod:`leadml.data.synthetic_export`), written like the rest."""
    from leadml.data.synthetic_export import generate_export
    from leadml.data.write import write_table

    with console.status(f"Generating {rows:,} leads"):
        frame = generate_export(rows, seed)
        path = write_table(frame, out)
    console.print(
        f"Wrote {len(frame):,} leads × {frame.shape[1]} columns to [bold]{path}[/] "
        f"(Converted {frame['Converted'].mean():.1%})"
    )


def generate(
    rows: Annotated[int, typer.Option(min=1, help="Number of leads.", metavar="N")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed, same table.", metavar="S")] = 7,
    out: Annotated[
        Path, typer.Option(help="CSV or .parquet file to write.", metavar="FILE")
    ] = Path("data/sample/leads.csv"),
    start: Annotated[
        str,
        typer.Option(
            help="First day of the leads; a later start continues the process's trends "
            "(2026-11-01: the month after the default history).",
            metavar="DATE",
        ),
    ] = "2024-11-01",
    months: Annotated[
        float, typer.Option(min=0.01, help="Months of leads from --start.", metavar="M")
    ] = 24,
    drift: Annotated[
        list[str] | None,
        typer.Option(
            help="A sudden change to rehearse monitoring, repeatable: budget=SHIFT (answers "
            "pushed toward '< 10k'), new-source=SHARE (leads from a source never seen), "
            "segment=REGION (only that region's leads drift: Americas, EMEA, APAC).",
            metavar="KEY=VALUE",
        ),
    ] = None,
    accounts: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Add a company column spreading the leads over N companies (for leadml accounts).",
            metavar="N",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Export the leads as a CRM would on that day: only those created by then, "
            "with status, converted_at and closed_at (many still open) instead of the "
            "eventual converted.",
            metavar="DATE",
        ),
    ] = None,
    segments: Annotated[
        Segments | None,
        typer.Option(
            help="Add a region column (from country): same, every region converts by the main "
            "rule; different, APAC leads by a rule of their own (budget reversed, partners "
            "and events strong), to test per-segment models.",
        ),
    ] = None,
    style: Annotated[
        Style,
        typer.Option(
            help="synthetic: the tidy demo history; export: a messy web-form export as a real "
            "CRM writes one (placeholders, a sales-set profile, staff names, Portuguese "
            "columns), to try leadml as on real data. export takes only --rows, --seed, --out.",
        ),
    ] = Style.synthetic,
) -> None:
    """Write a synthetic CRM lead history with a known generating process."""
    from leadml.data.synthetic import generate_leads, parse_drift, write_leads
    from leadml.data.synthetic_funnel import STATUS_LOST, STATUS_WON

    if style is Style.export:
        given = {
            "--start": start != "2024-11-01",
            "--months": months != 24,
            "--drift": bool(drift),
            "--accounts": accounts is not None,
            "--as-of": as_of is not None,
            "--segments": segments is not None,
        }
        if extra := [flag for flag, used in given.items() if used]:
            raise LeadMLError(
                f"--style export takes only --rows, --seed and --out; drop {', '.join(extra)}"
            )
        _generate_export(rows, seed, out)
        return
    changes = parse_drift(drift or [])
    with console.status(f"Generating {rows:,} leads"):
        frame = generate_leads(
            rows,
            seed,
            start=start,
            months=months,
            drift=changes,
            accounts=accounts,
            as_of=as_of,
            segments=None if segments is None else segments.value,
        )
        path = write_leads(frame, out)
    if as_of is None:
        outcome = f"converted {frame['converted'].mean():.1%}"
    else:
        won = int(frame["status"].isin(STATUS_WON).sum())
        lost = int(frame["status"].isin(STATUS_LOST).sum())
        outcome = (
            f"as of {as_of}: {won:,} converted, {lost:,} lost, {len(frame) - won - lost:,} open"
        )
    console.print(
        f"Wrote {len(frame):,} leads × {frame.shape[1]} columns to [bold]{path}[/] ({outcome})"
    )


@schema_app.command("infer")
@friendly
def schema_infer(
    data: Annotated[str, typer.Option(help=DATA_HELP, metavar="FILE|URL")],
    target: Annotated[str | None, typer.Option(help="Target column.", metavar="COL")] = None,
    positive: Annotated[list[str] | None, typer.Option(help=POSITIVE_HELP, metavar="VALUE")] = None,
    negative: Annotated[list[str] | None, typer.Option(help=NEGATIVE_HELP, metavar="VALUE")] = None,
    open_values: Annotated[
        list[str] | None, typer.Option("--open", help=OPEN_HELP, metavar="VALUE")
    ] = None,
    converted_at: Annotated[str | None, typer.Option(help=CONVERTED_AT_HELP, metavar="COL")] = None,
    out: Annotated[
        Path | None, typer.Option(help="TOML file to write (default: print it).", metavar="FILE")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="The schema's name: the project's registered model.", metavar="NAME"),
    ] = None,
    outcomes: Annotated[str | None, typer.Option(help=OUTCOMES_HELP, metavar="FILE")] = None,
    on: Annotated[
        str | None, typer.Option(help="Key column shared with --outcomes.", metavar="KEY")
    ] = None,
    time_order: Annotated[bool, typer.Option("--time-order", help=TIME_ORDER_HELP)] = False,
) -> None:
    """Infer a schema from a raw export and write it as TOML, to review, edit and train with."""
    from leadml.data.read import describe_source
    from leadml.data.suggest import project_name, suggest_schema
    from leadml.modeling.prepare import preview_leakage

    if target is None and outcomes is None:
        raise LeadMLError("give --target COLUMN (or --outcomes FILE --on KEY)")
    with console.status(f"Reading {describe_source(data)}"):
        frame, target, given = read_with_outcomes(data, outcomes, on, target, positive)
    assert target is not None
    suggestion = suggest_schema(
        frame,
        target,
        given,
        negative=negative,
        open=open_values,
        converted_at=converted_at,
        name=name or project_name(data),
    )
    suggestion.schema = schema_options(suggestion.schema, None, time_order)
    # What the leakage guard will leave out at training, so the user sees it now.
    guard = preview_leakage(frame, suggestion.schema, project_settings())
    text = suggestion.to_toml(describe_source(data), extra=guard)
    for line in [*suggestion.summary(), *guard]:
        console.print(f"[cyan]Schema:[/] {line}", highlight=False, soft_wrap=True)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        from shlex import quote

        then = f"train with --schema {quote(str(out))}"
        console.print(f"Wrote [bold]{out}[/]: review it, then {then}")
