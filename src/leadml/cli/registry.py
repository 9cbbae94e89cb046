"""``leadml promote``: the challenger becomes champion only on evidence."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadml.cli.progress import progress
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    from leadml.modeling.promotion import GateResult
    from leadml.tracking.champions import BundleFolder

METRICS = ("roc_auc", "ece", "log_loss", "brier")


def promote(
    model: Annotated[
        str | None,
        typer.Option(
            help="Challenger to promote, models:/<name>@challenger (default: the challenger of "
            "the store's only registered model).",
            metavar="REF",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Labelled leads neither model learned from (newer ones); required.",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Make the challenger champion, only if it is not worse on the same held-out data."""
    from mlflow.tracking import MlflowClient

    from leadml.lifecycle.promotion import judge_pair, promotion_pair
    from leadml.tracking.champions import BundleFolder, record_promotion
    from leadml.tracking.store import connect

    settings = project_settings()
    connect(settings)
    client = MlflowClient()
    pair = promotion_pair(client, settings, model)
    name, new, old = pair.name, pair.new, pair.old
    if pair.already_champion:
        screen.print(f"{name} version {new} is already the champion.")
        return
    with progress("Scoring the held-out leads with both models"):
        gate = judge_pair(pair, data)
    screen.print(gate_table(gate, new, old, title=f"Promotion gate on {gate.judged_on}"))
    if not gate.passed:
        raise LeadMLError(gate.refusal(old))
    folder = BundleFolder.of(settings, name)
    with console.status(f"Making v{new} champion and writing {folder.path}"):
        record_promotion(client, name, old, new, getpass.getuser(), gate.evidence(), folder)
    say_promoted(name, new, old, gate.challenger, gate.champion, folder)


def gate_table(gate: GateResult, new: str, old: str | None, title: str | None = None) -> Table:
    """Both models' figures on the leads that judged them, one row each."""
    table = Table(title=title or f"Gate on {gate.judged_on}")
    for column in ("model", *METRICS):
        table.add_column(column, justify="right")
    table.add_row(f"challenger v{new}", *(f"{gate.challenger[c]:.4f}" for c in METRICS))
    if gate.champion is not None:
        table.add_row(f"champion v{old}", *(f"{gate.champion[c]:.4f}" for c in METRICS))
    return table


def say_promoted(
    name: str,
    new: str,
    old: str | None,
    challenger: Mapping[str, float],
    champion: Mapping[str, float] | None,
    folder: BundleFolder,
) -> None:
    """What a promotion compared, with the tolerances that let it pass, and where it is now."""
    from leadml.modeling.promotion import promotion_summary

    screen.print(
        f"[green]✓[/] {promotion_summary(new, challenger, champion)}.",
        highlight=False,
        soft_wrap=True,
    )
    screen.print(
        f"{name} v{new} is now champion (was v{old or '-'}); its bundle is in {folder.path}. "
        f"Servers of models:/{name}@champion or of that folder pick it up on reload.",
        highlight=False,
        soft_wrap=True,
    )


def registered_project(name: str | None) -> str:
    """The registered model meant: ``--name``, else the store's only one."""
    from mlflow.tracking import MlflowClient

    from leadml.lifecycle.champion import registered_project as meant

    return meant(MlflowClient(), name)


NAME_OPTION = typer.Option(help="Registered model (default: the store's only one).", metavar="NAME")


def rollback(
    to: Annotated[
        str | None,
        typer.Option(help="Version to go back to (default: the previous champion).", metavar="N"),
    ] = None,
    name: Annotated[str | None, NAME_OPTION] = None,
    why: Annotated[str, typer.Option(help="Why, kept with the move.", metavar="TEXT")] = (
        "rollback"
    ),
) -> None:
    """Move champion back to the champion before it (or to --to N), recorded like a promotion.

    A server started with models:/<name>@champion serves it after a reload
    (POST /v1/admin/reload or SIGHUP).
    """
    from mlflow.tracking import MlflowClient

    from leadml.tracking.champions import BundleFolder, move_champion, rollback_target
    from leadml.tracking.store import connect

    settings = project_settings()
    connect(settings)
    project = registered_project(name)
    client = MlflowClient()
    current, target = rollback_target(client, project, to)
    folder = BundleFolder.of(settings, project)
    with console.status(f"Making v{target} champion and writing {folder.path}"):
        move_champion(
            client, project, target, who=getpass.getuser(), why=why, kind="rollback", folder=folder
        )
    screen.print(
        f"[green]✓[/] {project} champion is v{target} again (was v{current}); its bundle is in "
        f"{folder.path}. Servers of models:/{project}@champion or of that folder pick it up on "
        "reload (POST /v1/admin/reload or SIGHUP).",
        soft_wrap=True,
    )


def versions(name: Annotated[str | None, NAME_OPTION] = None) -> None:
    """List the registered versions: alias, trained at, data window and headline figures."""
    from mlflow.tracking import MlflowClient

    from leadml.tracking.champions import champion_log
    from leadml.tracking.registry import version_rows
    from leadml.tracking.store import connect

    connect(project_settings())
    project = registered_project(name)
    client = MlflowClient()
    table = Table(title=f"{project}: registered versions")
    for column in ("version", "alias", "trained at", "data window", "leads", "ROC AUC", "ECE"):
        table.add_column(
            column, justify="right" if column in ("leads", "ROC AUC", "ECE") else "left"
        )

    def figure(value: float | None) -> str:
        return "—" if value is None else f"{value:.4f}"

    for row in version_rows(client, project):
        window = (
            f"{row['data_from'][:10]} → {row['data_to'][:10]}"
            if row["data_from"] and row["data_to"]
            else "—"
        )
        table.add_row(
            f"v{row['version']}",
            ", ".join(row["aliases"]) or "",
            (row["trained_at"] or "—")[:16].replace("T", " "),
            window,
            str(row["rows"] or "—"),
            figure(row["test_roc_auc"]),
            figure(row["test_ece"]),
        )
    screen.print(table)
    moves = champion_log(client, project)
    for move in moves[-5:]:
        screen.print(
            f"  {move.at} {move.by}: {move.kind} v{move.from_version or '-'} → "
            f"v{move.to_version} ({move.why})",
            highlight=False,
        )
