"""``leadml retrain``: a challenger from the newest history, the gate, and (with ``--promote``)
the promotion, in one command a timer can run.

Exit codes, for cron and systemd: 0 promoted (without ``--promote``: it passed the gate and
would be), 3 kept (the champion stays: the challenger is worse on the newest leads), anything
else failed and changed nothing (2: bad input, as for every verb; 1: an unexpected error).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from leadml.cli.options import (
    DATA_HELP,
    OUTCOMES_HELP,
    AllTenantsOption,
    TenantOption,
    TenantsOption,
    read_with_outcomes,
)
from leadml.cli.progress import progress
from leadml.cli.registry import NAME_OPTION, gate_table, say_promoted
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings
from leadml.lifecycle.retrain import Decision

if TYPE_CHECKING:
    from leadml.lifecycle.retrain import Challenger
    from leadml.tracking.champions import BundleFolder

PROMOTED, KEPT = 0, 3
#: For cron and systemd: passing the gate is success, keeping the champion is code 3.
EXIT_CODES = {
    Decision.PROMOTED: PROMOTED,
    Decision.PASSED: PROMOTED,
    Decision.FIRST: PROMOTED,
    Decision.KEPT: KEPT,
    Decision.REFUSED: KEPT,
}


def retrain(
    data: Annotated[str, typer.Option(help=DATA_HELP, metavar="FILE|URL")],
    outcomes: Annotated[str | None, typer.Option(help=OUTCOMES_HELP, metavar="FILE")] = None,
    on: Annotated[
        str | None, typer.Option(help="Key column shared with --outcomes.", metavar="KEY")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Learn only from leads created on or after DATE.", metavar="DATE"),
    ] = None,
    promote: Annotated[
        bool, typer.Option("--promote", help="Make it champion if it passes the gate.")
    ] = False,
    name: Annotated[str | None, NAME_OPTION] = None,
    schema: Annotated[
        Path | None,
        typer.Option(help="LeadSchema TOML (default: the champion's own).", metavar="FILE"),
    ] = None,
    tenant: TenantOption = None,
    tenants: TenantsOption = None,
    all_tenants: AllTenantsOption = False,
) -> None:
    """Train a challenger on the newest history; promote it only if it is not worse.

    The challenger and the champion are judged on the same newest leads; --promote moves the
    champion alias only when the gate passes.

    Outcomes come from --data's target column, from --outcomes FILE --on KEY, or (when --data
    has no target column) from the outcomes posted to the score history, by lead id, of one
    tenant (--tenant; needed when the history holds several) or of tenants pooled on purpose
    (--tenants A,B or --all-tenants).

    Exit code 0: promoted (or would be, without --promote); 3: kept the champion; 2: failed.
    """
    from mlflow.tracking import MlflowClient

    from leadml.data.read import describe_source
    from leadml.lifecycle.champion import registered_project
    from leadml.lifecycle.retrain import (
        carry_out,
        decide,
        label_leads,
        retrain_basis,
        train_challenger,
    )
    from leadml.tracking.champions import BundleFolder
    from leadml.tracking.store import connect

    settings = project_settings()
    with console.status("Checking the MLflow store"):
        connect(settings)
    client = MlflowClient()
    project = registered_project(client, name)
    basis = retrain_basis(client, settings, project, schema)
    with console.status(f"Reading {describe_source(data)}"):
        frame, target, positive = read_with_outcomes(
            data, outcomes, on, basis.schema.target, basis.schema.positive
        )
    frame, lead_schema, note = label_leads(
        frame,
        basis,
        target,
        positive,
        outcomes_given=outcomes is not None,
        tenant=tenant,
        tenants=tenants,
        all_tenants=all_tenants,
    )
    if note is not None:
        console.print(f"[cyan]Outcomes:[/] {note}", highlight=False, soft_wrap=True)
    with progress("Training the challenger") as status:
        challenger = train_challenger(
            client,
            frame,
            lead_schema,
            basis,
            since=since,
            source=describe_source(data),
            progress=status.update,
        )
    gate, new, old = challenger.gate, challenger.version, basis.champion.version
    screen.print(gate_table(gate, new, old))
    if gate.champion_saw:
        screen.print(
            f"[yellow]Note:[/] the champion learned from {gate.champion_saw:,} of these leads; "
            "the comparison favours it."
        )
    decision = decide(challenger, old, promote)
    folder = BundleFolder.of(basis.settings, project)
    doing = {
        Decision.FIRST: f"Writing {folder.path}",
        Decision.PROMOTED: f"Making v{new} champion and writing {folder.path}",
    }
    if decision in doing:
        with console.status(doing[decision]):
            carry_out(client, decision, basis, challenger, folder, getpass.getuser())
    say_decision(decision, project, challenger, old, folder)
    raise typer.Exit(EXIT_CODES[decision])


def say_decision(
    decision: Decision, project: str, challenger: Challenger, old: str | None, folder: BundleFolder
) -> None:
    """One line (or two) on what became of the challenger, and what to do next."""
    from leadml.modeling.promotion import gate_comparison

    gate, new = challenger.gate, challenger.version
    if decision is Decision.REFUSED:
        screen.print(f"[red]Not made champion[/]: {'; '.join(gate.reasons)}.", highlight=False)
    elif decision is Decision.FIRST:
        screen.print(
            f"[green]✓[/] {project} v{new} is the champion (there was none before); its bundle "
            f"is in {folder.path}."
        )
    elif decision is Decision.KEPT:
        screen.print(f"[red]Kept[/] champion v{old}: {'; '.join(gate.reasons)}.", highlight=False)
    elif decision is Decision.PASSED:
        assert gate.champion is not None
        screen.print(
            f"Challenger v{new} passed the gate: {gate_comparison(gate.challenger, gate.champion)}"
            f". Champion stays v{old} (add --promote, or run `leadml promote --model "
            f"models:/{project}/{new} --data NEWER.csv`).",
            highlight=False,
        )
    else:
        say_promoted(project, new, old, gate.challenger, gate.champion, folder)
