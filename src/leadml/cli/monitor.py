"""``leadml monitor``: does the served model still fit the leads it scores?

Drift against the training profile, realized performance where outcomes came back, estimated
performance where they have not yet, and the shadow challenger beside the champion, from the
score history (``--since``) or a file of leads (``--data``). ``--by segment`` adds the same per
segment of a model trained with ``--segment``, alarms naming the segment. ``--fail-on`` turns a
finding (in the whole or any segment) into exit code 3, for cron and CI
(``leadml monitor --fail-on drift && ... || leadml retrain ...``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from leadml.cli.options import (
    DATA_HELP,
    HISTORY_HELP,
    MODEL_HELP,
    AllTenantsOption,
    TenantOption,
    TenantsOption,
    history_url,
)
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings

ALARM = 3


class FailOn(StrEnum):
    drift = "drift"
    performance = "performance"


def monitor(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[
        str | None,
        typer.Option(help=f"Recent leads from a file instead of the history. {DATA_HELP}"),
    ] = None,
    since: Annotated[
        str,
        typer.Option(help="History window: 30d, 12h, 2w or a date.", metavar="SPAN|DATE"),
    ] = "30d",
    out: Annotated[
        Path | None, typer.Option(help="Write the monitoring page here.", metavar="FILE.html")
    ] = None,
    fail_on: Annotated[
        list[FailOn] | None,
        typer.Option(help="Exit with code 3 on this finding (repeatable).", metavar="KIND"),
    ] = None,
    tenant: TenantOption = None,
    tenants: TenantsOption = None,
    all_tenants: AllTenantsOption = False,
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    by: Annotated[
        str | None,
        typer.Option(
            help="'segment': drift and performance per segment of the model's segment column.",
            metavar="segment",
        ),
    ] = None,
) -> None:
    """Drift, realized and estimated performance of a model on recent leads.

    Exit code 3 when a --fail-on finding is present; 2 on bad input.
    """
    from leadml.lifecycle.monitoring import monitor_frame, monitor_history
    from leadml.monitor.report import write_monitor_html
    from leadml.tracking.references import load_model

    settings = project_settings()
    with console.status(f"Loading {model}"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    if by is not None:
        from leadml.monitor.segments import segment_name

        segment_name(lead_model, by)  # one line, before reading any lead
    if data is not None:
        from leadml.data.read import describe_source, read_table

        with console.status(f"Reading {describe_source(data)}") as status:
            frame = read_table(data)
            status.update(f"Monitoring {len(frame):,} leads")
            result = monitor_frame(
                lead_model, frame, describe_source(data), framework=settings.framework, by=by
            )
    else:
        url = history_url(settings, history, "give --data FILE")
        with console.status("Reading the score history") as status:
            result = monitor_history(
                lead_model,
                url,
                since,
                tenant=tenant,
                tenants=tenants,
                all_tenants=all_tenants,
                framework=settings.framework,
                say=status.update,
                by=by,
            )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for line in result.summary_lines():
            screen.print(line, highlight=False, soft_wrap=True)
    if out is not None:
        written = write_monitor_html(result, out)
        console.print(f"Wrote the monitoring page to [bold]{written}[/]")
    found = [
        kind.value
        for kind in fail_on or []
        if (kind is FailOn.drift and result.drift_alarm)
        or (kind is FailOn.performance and result.performance_alarm)
    ]
    if found:
        where = _alarmed_segments(result.segments, found)
        console.print(
            f"[bold red]Alarm:[/] {' and '.join(found)} over the threshold{where} (exit 3)"
        )
        raise typer.Exit(ALARM)


def _alarmed_segments(section: dict | None, kinds: list[str]) -> str:
    """ ", in segment EMEA and APAC" when segments raised the alarms in ``kinds``."""
    if not section:
        return ""
    named = [r["segment"] for r in section["segments"] if any(r["alarms"][k] for k in kinds)]
    return f", in segment {' and '.join(map(str, named))}" if named else ""
