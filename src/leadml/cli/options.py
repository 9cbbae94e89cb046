"""Options several verbs share: their help, and how they turn into a table and a schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadml.cli.render import console
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.config import Settings
    from leadml.schema.spec import LeadSchema

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


def outcome_options(outcomes: str | None, on: str | None) -> bool:
    """``--outcomes FILE`` and ``--on KEY`` come together; True when both are given."""
    if outcomes is None and on is not None:
        raise LeadMLError("--on KEY goes with --outcomes FILE")
    if outcomes is not None and on is None:
        raise LeadMLError("--outcomes needs --on KEY: the column both tables share")
    return outcomes is not None


@dataclass(frozen=True)
class OutcomeOptions:
    """How the user said to read the outcome: the values of each class and the conversion
    date (None: the schema's, else the lexicon's and inference's)."""

    positive: list[str] | None = None
    negative: list[str] | None = None
    open: list[str] | None = None
    converted_at: str | None = None

    def apply(self, schema: LeadSchema) -> LeadSchema:
        """The schema with what was given written in, so the bundle records it."""
        update: dict[str, Any] = {}
        if self.positive:
            update["positive"] = self.positive[0] if len(self.positive) == 1 else self.positive
        for key in ("negative", "open"):
            if getattr(self, key):
                update[key] = sorted({*getattr(schema, key), *getattr(self, key)})
        if self.converted_at:
            update["converted_at"] = self.converted_at
        return schema.model_copy(update=update) if update else schema


def read_with_outcomes(
    data: str,
    outcomes: str | None,
    on: str | None,
    target: str | None,
    positive: str | list[str] | None,
) -> tuple[pd.DataFrame, str | None, str | list[str] | None]:
    """The lead table, labelled from a second table of conversions when ``--outcomes`` is given.

    Returns the frame and the target column and positive value to use with it.
    """
    from leadml.data.read import read_table

    frame = read_table(data)
    if not outcome_options(outcomes, on):
        return frame, target, positive
    from leadml.data.outcomes import attach_outcomes

    target = target or "converted"
    frame, notes = attach_outcomes(frame, read_table(str(outcomes)), str(on), target)
    for note in notes:
        console.print(f"[yellow]Warning:[/] {note}", highlight=False, soft_wrap=True)
    return frame, target, "1"


def resolve_schema(
    data: str,
    frame: pd.DataFrame | None,
    schema: Path | None,
    target: str | None,
    outcome: OutcomeOptions,
) -> LeadSchema:
    """A schema file when given; else one suggested from the data around ``--target``, named
    after the data file (so each project gets its own registered model)."""
    from leadml.schema.spec import LeadSchema

    if schema is not None:
        return outcome.apply(LeadSchema.load(schema))
    if target is None:
        raise LeadMLError("give --schema FILE, or --target COLUMN to infer a schema from the data")
    from leadml.data.suggest import project_name, suggest_schema

    suggestion = suggest_schema(
        frame, target=target, positive=outcome.positive, negative=outcome.negative,
        open=outcome.open, converted_at=outcome.converted_at, name=project_name(data),
    )  # fmt: skip
    for line in suggestion.summary():
        console.print(f"[cyan]Schema:[/] {line}", highlight=False, soft_wrap=True)
    return suggestion.schema


def schema_options(lead_schema: LeadSchema, allow: list[str] | None, time_order: bool) -> Any:
    """``--allow`` and ``--time-order`` written into the schema, so the bundle records them.

    ``--allow`` keeps a column the leakage guard flags, and brings back a staff column that
    inference left out (``leadml.data.suggest.allow_staff``)."""
    update: dict[str, Any] = {}
    if allow:
        from leadml.data.suggest import allow_staff

        lead_schema = allow_staff(lead_schema, allow)
        update["leakage_allowed"] = sorted({*lead_schema.leakage_allowed, *allow})
    if time_order:
        update["rows_in_time_order"] = True
    return lead_schema.model_copy(update=update) if update else lead_schema


def warn_all(warnings: list[str]) -> None:
    for warning in warnings:
        console.print(f"[yellow]Warning:[/] {warning}", highlight=False, soft_wrap=True)
