"""``leadml history purge``: the score history's housekeeping, by hand or from cron.

The service already deletes scores older than ``history_days`` (at start and daily); this verb
is for an earlier date (a customer leaves, a retention policy changes), on the same history
the service writes (``LEADML_HISTORY_URL``, else SQLite in the project home) unless
``--history`` names another.
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadml.cli.options import HISTORY_HELP, history_url
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings

history_app = typer.Typer(help="The score history: delete old scores.", no_args_is_help=True)


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
