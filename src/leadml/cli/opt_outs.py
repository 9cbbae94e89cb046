"""``leadml opt-outs import``: a CRM's list of leads that objected to profiling into the score
history, so the service never scores them again and forgets what it kept of them (GDPR
Art. 21).

For CRMs that cannot call ``POST /v1/opt-outs``: the list is read as ``train`` reads data (CSV,
Parquet, Excel or SQL) and recorded on the history the service writes (``LEADML_HISTORY_URL``,
else SQLite in the project home) unless ``--history`` names another. Lead ids and times are
read as ``outcomes import`` reads them; the recording and erasing rule is
:mod:`leadml.history.opt_outs`'s. Only counts are printed: the other columns of an export may
be personal data.
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadml.cli.options import HISTORY_HELP, history_url
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings
from leadml.counts import plural

opt_outs_app = typer.Typer(
    help="Opt-outs: leads that objected to profiling, never scored again.", no_args_is_help=True
)


@opt_outs_app.command("import")
@friendly
def import_opt_outs(
    data: Annotated[
        str,
        typer.Option(
            help="CSV/TSV, Parquet or .xlsx file of the leads that objected, or a SQLAlchemy URL "
            "(URL#table or URL#SELECT ...).",
            metavar="FILE|URL",
        ),
    ],
    on: Annotated[
        str,
        typer.Option(help="The lead id column: the id each lead is scored with.", metavar="KEY"),
    ],
    at_column: Annotated[
        str | None,
        typer.Option(help="The column of when each lead objected.", metavar="COL"),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(
            help="Whose leads: the API key name they are scored under (default: the history's "
            "only tenant; 'default' on a server without keys).",
            metavar="NAME",
        ),
    ] = None,
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
) -> None:
    """Record leads that objected to profiling: never scored again, their stored scores
    erased."""
    from leadml.data.read import describe_source, read_table
    from leadml.history.engine import redact
    from leadml.lifecycle.outcome_table import outcome_tenant, record_opt_out_table

    url = history_url(project_settings(), history, "objections are kept beside the scores")
    chosen = outcome_tenant(url, tenant)
    with console.status(f"Reading {describe_source(data)}"):
        frame = read_table(data)
    result = record_opt_out_table(url, chosen, frame, on, at_column)
    console.print(
        f"[dim]Score history: {redact(url)}, tenant {chosen}[/]", highlight=False, soft_wrap=True
    )
    console.print(
        f"Recorded {plural(result.recorded, 'objection')} ({result.already:,} already recorded); "
        f"erased {plural(result.scores_erased, 'stored score')} and "
        f"{plural(result.outcomes_erased, 'outcome')} of those leads",
        highlight=False,
        soft_wrap=True,
    )
