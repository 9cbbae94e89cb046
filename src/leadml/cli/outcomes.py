"""``leadml outcomes import``: a CRM export of closed leads into the score history, beside the
scores they judge.

For CRMs that cannot call ``POST /v1/outcomes``: the export is read as ``train`` reads data
(CSV, Parquet, Excel or SQL) and recorded in one transaction on the history the service writes
(``LEADML_HISTORY_URL``, else SQLite in the project home) unless ``--history`` names another.
How its rows become outcomes, and which value means converted, is
:mod:`leadml.lifecycle.outcome_table`'s; this module reads options and prints. Only lead ids
are ever printed: the other columns of an export may be personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadml.cli.options import HISTORY_HELP, history_url
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings
from leadml.counts import plural

if TYPE_CHECKING:
    from leadml.history.outcomes import OutcomeResult

#: Unknown lead ids printed at most.
SHOWN_IDS = 10

outcomes_app = typer.Typer(
    help="Outcomes: which scored leads converted, into the score history.", no_args_is_help=True
)


def summary(result: OutcomeResult) -> str:
    """What the import changed, in one line; unknown lead ids shown (a few), nothing else."""
    line = f"Recorded {plural(result.recorded, 'outcome')} ({result.unchanged:,} unchanged)"
    unknown = result.unknown_leads
    if unknown:
        shown = ", ".join(unknown[:SHOWN_IDS]) + (", …" if len(unknown) > SHOWN_IDS else "")
        have = "has" if len(unknown) == 1 else "have"
        line += f"; {plural(len(unknown), 'lead id')} {have} no score in the history: {shown}"
        line += " (not stored)"
    return line


@outcomes_app.command("import")
@friendly
def import_outcomes(
    data: Annotated[
        str,
        typer.Option(
            help="CSV/TSV, Parquet or .xlsx file of leads and their outcomes, or a SQLAlchemy URL "
            "(URL#table or URL#SELECT ...).",
            metavar="FILE|URL",
        ),
    ],
    on: Annotated[
        str,
        typer.Option(help="The lead id column: the id each lead was scored with.", metavar="KEY"),
    ],
    target: Annotated[
        str | None,
        typer.Option(
            help="The column that says whether a lead converted (default: 'converted', or the "
            "only other column).",
            metavar="COL",
        ),
    ] = None,
    positive: Annotated[
        str | None,
        typer.Option(
            help="The value meaning converted (default: 1/true/yes/won and their kin).",
            metavar="VALUE",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(help="The column of when each lead converted or was lost.", metavar="COL"),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="Whose leads: the API key name they were scored under (default: the history's "
            "only tenant; 'default' on a server without keys).",
            metavar="NAME",
        ),
    ] = None,
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
) -> None:
    """Record which scored leads converted, from an export of leads and their outcomes."""
    from leadml.data.read import describe_source, read_table
    from leadml.history.engine import redact
    from leadml.lifecycle.outcome_table import outcome_tenant, record_table

    url = history_url(project_settings(), history, "outcomes are kept beside it")
    chosen = outcome_tenant(url, tenant)
    with console.status(f"Reading {describe_source(data)}"):
        frame = read_table(data)
    result = record_table(url, chosen, frame, on, target, positive, at)
    console.print(
        f"[dim]Score history: {redact(url)}, tenant {chosen}[/]", highlight=False, soft_wrap=True
    )
    console.print(summary(result), highlight=False, soft_wrap=True)
