"""``leadml history purge`` and ``erase``: the score history's housekeeping, by hand or cron.

The service already deletes scores older than ``history_days`` (at start and daily); ``purge``
is for an earlier date (a retention policy changes), ``erase`` for one tenant (a customer
leaves) or one lead (a person asks to be forgotten), on the same history the service writes
(``LEADML_HISTORY_URL``, else SQLite in the project home) unless ``--history`` names another.
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadml.cli.options import HISTORY_HELP, history_url
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings

history_app = typer.Typer(
    help="The score history: delete old scores, erase a tenant or a lead.", no_args_is_help=True
)


@history_app.command("purge")
@friendly
def purge(
    before: Annotated[
        str,
        typer.Option(
            help="Delete the scores made before this date (YYYY-MM-DD, midnight UTC) or "
            "ISO 8601 time.",
            metavar="DATE",
        ),
    ],
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
) -> None:
    """Delete every score made before DATE from the score history; print how many."""
    from leadml.history.engine import redact
    from leadml.history.retention import parse_before, purge_history

    cutoff = parse_before(before)  # a date that does not parse touches nothing
    url = history_url(project_settings(), history, "there is nothing to purge")
    deleted = purge_history(url, cutoff)
    console.print(
        f"Deleted {deleted:,} scores made before {cutoff.isoformat()} from {redact(url)}",
        highlight=False,
        soft_wrap=True,
    )


@history_app.command("erase")
@friendly
def erase(
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant (its API key's name) whose data goes.", metavar="NAME"),
    ] = None,
    lead: Annotated[
        str | None,
        typer.Option(
            help="Only this lead's (of --tenant; without it, of the one tenant holding it).",
            metavar="ID",
        ),
    ] = None,
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
) -> None:
    """Erase a tenant's, or one lead's, scores and outcomes; print how many."""
    from leadml.history.engine import redact
    from leadml.history.erase import erase_history

    url = history_url(project_settings(), history, "there is nothing to erase")
    done = erase_history(url, tenant, lead)
    what = f"tenant {done.tenant!r}"
    if done.lead_id is not None:
        what = f"lead {done.lead_id!r} of {what}"
    console.print(
        f"Erased {done.scores:,} scores and {done.outcomes:,} outcomes of {what} from "
        f"{redact(url)}",
        highlight=False,
        soft_wrap=True,
    )
