"""``leadml promote``: the challenger becomes champion only on evidence."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings
from leadml.errors import LeadMLError

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

    from leadml.modeling.promotion import default_challenger, held_out_leads, promotion_gate
    from leadml.tracking.references import load_model
    from leadml.tracking.registry import CHAMPION, alias_version, record_promotion
    from leadml.tracking.store import connect

    settings = project_settings()
    connect(settings)
    ref = model or default_challenger(settings)
    challenger = load_model(ref, settings.tracking_uri, settings.bundle_key)
    name = challenger.meta.get("registered_model")
    new = str(challenger.meta.get("registry_version") or "")
    if not name or not new:
        raise LeadMLError(f"{ref} is not a registered model version; give models:/...")
    client = MlflowClient()
    old = alias_version(client, name, CHAMPION)
    if old == new:
        screen.print(f"{name} version {new} is already the champion.")
        return
    champion = (
        load_model(f"models:/{name}/{old}", settings.tracking_uri, settings.bundle_key)
        if old
        else None
    )
    with console.status("Scoring the held-out leads with both models"):
        result = promotion_gate(challenger, champion, held_out_leads(data))
    table = Table(title=f"Promotion gate on {result.rows:,} held-out leads")
    for column in ("model", *METRICS):
        table.add_column(column, justify="right")
    table.add_row(f"challenger v{new}", *(f"{result.challenger_metrics[c]:.4f}" for c in METRICS))
    if result.champion_metrics is not None:
        table.add_row(f"champion v{old}", *(f"{result.champion_metrics[c]:.4f}" for c in METRICS))
    screen.print(table)
    if not result.passed:
        raise LeadMLError(result.refusal())
    record_promotion(client, name, old, new, getpass.getuser(), result.evidence)
    screen.print(f"[green]✓[/] {name} v{new} is now champion (was v{old or '-'}).")
