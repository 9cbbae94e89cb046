"""Options several verbs share: their help, and how they turn into a table and a schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadml.cli.render import console
from leadml.data import resolve

# Re-exported: the verbs that take outcome options or --allow name them from here.
from leadml.data.resolve import OutcomeOptions as OutcomeOptions
from leadml.data.resolve import schema_options as schema_options
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.config import Settings

DATA_HELP = (
    "CSV/TSV, Parquet or .xlsx file of historical leads, or a SQLAlchemy URL "
    "(URL#table or URL#SELECT ...)."
)
OUTCOMES_HELP = (
    "A second table of conversions (e.g. closed deals): a lead converted when its --on key "
    "appears there. Only the key is used."
)
TIME_ORDER_HELP = (
    "The rows are oldest first: test on the newest (last) 20% when there is no date column."
)
ALLOW_SPARSE_HELP = (
    "Score a table that gives fewer than half of the model's fields "
    "(LEADML_MIN_FIELD_SHARE) instead of stopping."
)
DASK_HELP = (
    "Run on Dask: --data is then a folder or glob of CSV or Parquet parts. Uses the cluster at "
    "--scheduler, else at DASK_SCHEDULER_ADDRESS, else a local cluster of 2 worker processes."
)
SCHEDULER_HELP = "Dask scheduler address, e.g. tcp://10.0.0.5:8786 (implies --dask)."
MODEL_HELP = "Bundle folder, models:/<name>@champion, models:/<name>/<N> or runs:/<id>/model."
HISTORY_HELP = (
    "Score history: SQLAlchemy URL (default: LEADML_HISTORY_URL, else SQLite in the project home)."
)
POSITIVE_HELP = (
    "Target value meaning converted; repeat for several (--positive Won --positive 'Closed Won')."
)
NEGATIVE_HELP = (
    "Target value meaning closed without converting (repeatable); the lexicon already knows "
    "lost, closed lost, disqualified, rejected, ..."
)
OPEN_HELP = (
    "Target value meaning still open (repeatable): never learned from, scored like any lead; "
    "the lexicon already knows open, new, working, contacted, nurturing, ..."
)
CONVERTED_AT_HELP = (
    "Column holding when each lead converted (default: inferred, a date filled only for "
    "converted leads): it measures time to convert and sets the label's horizon."
)
HORIZON_HELP = (
    "The label is 'converted within DAYS of coming in'; leads younger than that at the export "
    "date are left out. auto: chosen from the time leads take to convert; none: every closed "
    "outcome taken as final."
)
AS_OF_HELP = (
    "The export date (default: the newest date in the data): leads created later are left "
    "out, and conversions or closes after it are not known yet."
)
NAME_HELP = (
    "Registered model (and MLflow experiment) for this project; default: the schema's name, "
    "else the data file's."
)
# Whose leads a verb reads from the history (one rule: leadml.history.tenants).
TENANT_HELP = (
    "One tenant's leads: the API key name they were scored under (default: the history's only "
    "tenant)."
)
TENANTS_HELP = "Several tenants' leads, pooled: names separated by commas."
ALL_TENANTS_HELP = "Every tenant's leads, pooled."
#: The tenant choice of every verb that reads the history (``leadml.history.tenants``).
TenantOption = Annotated[str | None, typer.Option(help=TENANT_HELP, metavar="NAME")]
TenantsOption = Annotated[str | None, typer.Option(help=TENANTS_HELP, metavar="A,B")]
AllTenantsOption = Annotated[bool, typer.Option("--all-tenants", help=ALL_TENANTS_HELP)]


def history_url(settings: Settings, given: str | None, when_off: str) -> str:
    """The score history a verb works on: ``--history``, else the settings' (the one the
    service writes); one line saying ``when_off`` when it is turned off."""
    if given is not None:
        settings = settings.model_copy(update={"history_url": given})
    url = settings.history_database
    if url is None:
        raise LeadMLError(f"the score history is turned off ('none'): {when_off}")
    return url


def read_with_outcomes(
    data: str,
    outcomes: str | None,
    on: str | None,
    target: str | None,
    positive: str | list[str] | None,
) -> tuple[pd.DataFrame, str | None, str | list[str] | None]:
    """The lead table, labelled from a second table of conversions when ``--outcomes`` is given
    (the rule: :func:`leadml.data.resolve.read_with_outcomes`), its notes printed as warnings.

    Returns the frame and the target column and positive value to use with it.
    """
    labelled = resolve.read_with_outcomes(data, outcomes, on, target, positive)
    warn_all(labelled.notes)
    return labelled.frame, labelled.target, labelled.positive


def warn_all(warnings: list[str]) -> None:
    """Each warning on a line of its own, marked so a log search finds it."""
    for warning in warnings:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False, soft_wrap=True)
