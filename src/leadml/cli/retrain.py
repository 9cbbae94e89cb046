"""``leadml retrain``: a challenger from the newest history, the gate, and (with ``--promote``)
the promotion, in one command a timer can run.

Exit codes, for cron and systemd: 0 promoted (without ``--promote``: it passed the gate and
would be), 3 kept (the champion stays: the challenger is worse on the newest leads), anything
else failed and changed nothing (2: bad input, as for every verb; 1: an unexpected error).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from leadml.cli.options import (
    DATA_HELP,
    OUTCOMES_HELP,
    AllTenantsOption,
    TenantOption,
    TenantsOption,
    read_with_outcomes,
)
from leadml.cli.progress import progress
from leadml.cli.registry import NAME_OPTION, registered_project, say_promoted
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.schema.spec import LeadSchema

PROMOTED, KEPT = 0, 3
FIGURES = ("roc_auc", "ece", "log_loss", "brier")


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
    from leadml.modeling.promotion import gate_comparison
    from leadml.modeling.retrain import retrain_leads, since_filter
    from leadml.schema.spec import LeadSchema
    from leadml.tracking.champions import BundleFolder
    from leadml.tracking.references import load_model
    from leadml.tracking.registry import CHAMPION, alias_version, record_promotion
    from leadml.tracking.store import connect

    settings = project_settings()
    with console.status("Checking the MLflow store"):
        connect(settings)
    project = registered_project(name)
    client = MlflowClient()
    old = alias_version(client, project, CHAMPION)
    champion = (
        load_model(f"models:/{project}@{CHAMPION}", settings.tracking_uri, settings.bundle_key)
        if old
        else None
    )
    if champion is not None and champion.horizon_days:
        # the challenger's probabilities must mean what the champion's do to be compared
        settings = settings.model_copy(update={"horizon": str(champion.horizon_days)})
    if schema is not None:
        lead_schema = LeadSchema.load(schema)
    elif champion is not None:
        lead_schema = champion.schema
    else:
        raise LeadMLError(f"{project} has no champion to take the schema from: give --schema")
    with console.status(f"Reading {describe_source(data)}"):
        frame, target, positive = read_with_outcomes(
            data, outcomes, on, lead_schema.target, lead_schema.positive
        )
    if target != lead_schema.target:
        lead_schema = lead_schema.model_copy(update={"target": target, "positive": positive})
    if outcomes is None and lead_schema.target not in frame.columns:
        frame = _label_from_history(
            frame, lead_schema, settings.history_database, tenant, tenants, all_tenants
        )
        lead_schema = lead_schema.model_copy(update={"positive": "1"})
    frame = since_filter(frame, lead_schema, since)
    with progress("Training the challenger") as status:
        result, gate = retrain_leads(
            frame,
            lead_schema,
            settings,
            champion,
            name=project,
            out=settings.models_dir / f"{project}-challenger",
            progress=status.update,
            source=describe_source(data),
        )
    new = str(result.version)
    _log_evidence(client, project, new, result.run_id, gate.evidence())
    screen.print(_gate_table(gate, new, old))
    if gate.champion_saw:
        screen.print(
            f"[yellow]Note:[/] the champion learned from {gate.champion_saw:,} of these leads; "
            "the comparison favours it."
        )
    if old is None and not gate.passed:
        screen.print(f"[red]Not made champion[/]: {'; '.join(gate.reasons)}.", highlight=False)
        raise typer.Exit(KEPT)
    folder = BundleFolder.of(settings, project)
    if old is None or old == new:
        from leadml.tracking.champions import write_champion_folder

        with console.status(f"Writing {folder.path}"):
            write_champion_folder(client, project, new, folder)
        screen.print(
            f"[green]✓[/] {project} v{new} is the champion (there was none before); its bundle "
            f"is in {folder.path}."
        )
        raise typer.Exit(PROMOTED)
    if not gate.passed:
        screen.print(f"[red]Kept[/] champion v{old}: {'; '.join(gate.reasons)}.", highlight=False)
        raise typer.Exit(KEPT)
    if not promote:
        assert gate.champion is not None
        screen.print(
            f"Challenger v{new} passed the gate: {gate_comparison(gate.challenger, gate.champion)}"
            f". Champion stays v{old} (add --promote, or run `leadml promote --model "
            f"models:/{project}/{new} --data NEWER.csv`).",
            highlight=False,
        )
        raise typer.Exit(PROMOTED)
    with console.status(f"Making v{new} champion and writing {folder.path}"):
        record_promotion(client, project, old, new, getpass.getuser(), gate.evidence(), folder)
    say_promoted(project, new, old, gate.challenger, gate.champion, folder)
    raise typer.Exit(PROMOTED)


def _label_from_history(
    frame: pd.DataFrame,
    lead_schema: LeadSchema,
    url: str | None,
    tenant: str | None,
    tenants: str | None,
    all_tenants: bool,
) -> pd.DataFrame:
    """The leads of ``frame`` labelled by the chosen tenants' posted outcomes (one tenant
    unless pooled on purpose: the gate then judges on labels of the leads' own CRM), and a
    line saying whose labelled them."""
    from leadml.history.labels import label_from_store, stored_outcomes
    from leadml.history.tenants import tenants_at

    if url is None or not lead_schema.id:
        raise LeadMLError(
            f"the data has no target column '{lead_schema.target}': give --outcomes FILE "
            "--on KEY, or post outcomes to the score history"
        )
    chosen = tenants_at(
        url, tenant, tenants, all_tenants, why="one CRM's outcomes label its own leads"
    )
    labelled, note = label_from_store(
        frame, lead_schema.id, lead_schema.target, stored_outcomes(url, chosen), chosen.describe()
    )
    console.print(f"[cyan]Outcomes:[/] {note}", highlight=False, soft_wrap=True)
    return labelled


def _gate_table(gate: Any, new: str, old: str | None) -> Table:
    table = Table(title=f"Gate on {gate.evidence()['judged_on']}")
    for column in ("model", *FIGURES):
        table.add_column(column, justify="right")
    table.add_row(f"challenger v{new}", *(f"{gate.challenger[c]:.4f}" for c in FIGURES))
    if gate.champion is not None:
        table.add_row(f"champion v{old}", *(f"{gate.champion[c]:.4f}" for c in FIGURES))
    return table


def _log_evidence(
    client: Any, name: str, version: str, run_id: str | None, evidence: dict[str, Any]
) -> None:
    """The gate's figures on the challenger's run (``gate_*`` metrics) and version (a tag), so
    the MLflow UI shows why it was or was not promoted."""
    if run_id:
        for who in ("challenger", "champion"):
            for key, value in (evidence.get(who) or {}).items():
                if isinstance(value, float):
                    client.log_metric(run_id, f"gate_{who}_{key}", value)
    client.set_model_version_tag(name, version, "leadml.retrain_gate", str(evidence))
