"""``leadml outcomes import``: a CRM export of closed leads into the score history, beside the
scores they judge.

For CRMs that cannot call ``POST /v1/outcomes``: the export is read as ``train`` reads data
(CSV, Parquet, Excel or SQL), each row is one lead's outcome, and all of them are recorded in
one transaction on the history the service writes (``LEADML_HISTORY_URL``, else SQLite in the
project home) unless ``--history`` names another. Outcome values are read as training reads a
target (1/true/yes/won, in several languages, or ``--positive``); a value that says neither
(blank, "maybe", an open deal) stops the import before anything is stored, naming the rows.
Only lead ids are ever printed: the other columns of an export may be personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from leadml.cli.options import HISTORY_HELP, history_url
from leadml.cli.render import console
from leadml.cli.shell import friendly, project_settings
from leadml.counts import plural
from leadml.errors import DataError, LeadMLError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from leadml.history.outcomes import Outcome, OutcomeResult

#: Lead ids are stored in a column of this many characters (``history.tables.lead_scores``);
#: these two are not imported from there, which would load Alembic with every command.
LEAD_ID_LENGTH = 500
TENANT_LENGTH = 100
#: Unknown lead ids printed at most.
SHOWN_IDS = 10

outcomes_app = typer.Typer(
    help="Outcomes: which scored leads converted, into the score history.", no_args_is_help=True
)


def target_column(columns: list[str], on: str, at: str | None, target: str | None) -> str:
    """``--target``, else the column named as the bundled schema's target ("converted"), else
    the only column besides the lead id and the time; otherwise the user must say."""
    if target is not None:
        return target
    from leadml.schema import bundled_schema

    usual = bundled_schema().target.lower()
    named = [c for c in columns if c.strip().lower() == usual]
    if len(named) == 1:
        return named[0]
    rest = [c for c in columns if c not in (on, at)]
    if len(rest) == 1:
        return rest[0]
    shown = ", ".join(columns[:30])
    raise DataError(
        f"give --target COLUMN: the column that says whether each lead converted "
        f"(no column '{usual}'; columns are: {shown})"
    )


def _check_columns(frame: pd.DataFrame, wanted: dict[str, str | None]) -> None:
    columns = list(map(str, frame.columns))
    for option, column in wanted.items():
        if column is not None and column not in columns:
            raise DataError(
                f"{option} column '{column}' is not in the table; its columns are: "
                + ", ".join(columns[:30])
            )


def _lead_id(value: Any) -> str | None:
    """A lead id as the API stores it: text as written, a whole number without ".0" (a column
    with gaps reads 42 as 42.0), nothing for a blank cell (missing values are checked first)."""
    if hasattr(value, "item") and not isinstance(value, str):  # a NumPy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text if text.strip() else None


def lead_ids(series: pd.Series) -> list[str]:
    """The ``--on`` column as lead ids; a blank or too long id names its rows."""
    import pandas as pd

    from leadml.data.validate import rows_text

    ids = [None if pd.isna(v) else _lead_id(v) for v in series.tolist()]
    blank = [i is None for i in ids]
    if any(blank):
        raise DataError(
            f"--on column '{series.name}' has {sum(blank):,} rows without a lead id "
            f"({rows_text(blank)}): every outcome needs the id its lead was scored with"
        )
    long = [len(i) > LEAD_ID_LENGTH for i in ids]  # type: ignore[arg-type]
    if any(long):
        raise DataError(
            f"--on column '{series.name}' has lead ids longer than {LEAD_ID_LENGTH} characters "
            f"({rows_text(long)}): no score is kept under such an id"
        )
    return ids  # type: ignore[return-value]


def converted_flags(series: pd.Series, positive: str | None) -> np.ndarray:
    """Per row: 1 converted, 0 not, -1 still open (no outcome yet), read as training reads a
    target (:mod:`leadml.data.target`, one rule): the lexicon's words in several languages,
    values compared case-insensitively and numbers by value; ``positive`` names the converted
    value, and then the one other value is the rest. A blank names its rows; a value nothing
    places names itself."""
    from leadml.data.target import NO_OUTCOME, classify_target, spell
    from leadml.data.validate import rows_text

    text = spell(series)
    blank = text.isna().to_numpy()
    if blank.any():
        raise DataError(
            f"column '{series.name}' has {int(blank.sum()):,} values that say neither "
            f"converted nor not converted ({rows_text(blank)}): every row needs an outcome. "
            "Nothing was stored"
        )
    classes = classify_target(text.unique().tolist(), str(series.name), positive=positive)
    codes = classes.codes(text)
    return codes[codes != NO_OUTCOME]


def outcome_times(series: pd.Series) -> list[Any]:
    """The ``--at`` column as UTC times (None for a blank cell), read as training reads dates;
    a value that is no time names its rows."""
    import pandas as pd

    from leadml.data.parse import parse_dates
    from leadml.data.validate import rows_text
    from leadml.schema import DEFAULT_MISSING

    stamps = parse_dates(series)
    text = series.astype("string").str.strip()
    given = ~(text.isna() | text.isin(DEFAULT_MISSING)).to_numpy(dtype=bool, na_value=False)
    bad = given & stamps.isna().to_numpy()
    if bad.any():
        raise DataError(
            f"--at column '{series.name}' has {int(bad.sum()):,} values that are not times "
            f"({rows_text(bad)}): write them as ISO 8601 (2026-11-30T10:00:00Z). Nothing was "
            "stored"
        )
    utc = stamps.dt.floor("us").dt.tz_localize("UTC")
    return [None if pd.isna(t) else t.to_pydatetime() for t in utc]


def table_outcomes(
    frame: pd.DataFrame, on: str, target: str, positive: str | None, at: str | None
) -> list[Outcome]:
    """One outcome per row of an export; every problem is found before anything is stored."""
    from leadml.history.outcomes import Outcome

    _check_columns(frame, {"--on": on, "--target": target, "--at": at})
    ids = lead_ids(frame[on])
    codes = converted_flags(frame[target], positive)
    times = outcome_times(frame[at]) if at is not None else [None] * len(ids)
    # A lead still open has no outcome yet: nothing is recorded for it.
    return [
        Outcome(i, c == 1, t) for i, c, t in zip(ids, codes.tolist(), times, strict=True) if c != -1
    ]


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
    from leadml.history.outcomes import record_outcomes_at
    from leadml.history.tenants import tenants_at

    if tenant is not None and (not tenant.strip() or len(tenant) > TENANT_LENGTH):
        raise LeadMLError(f"--tenant must be a name of 1 to {TENANT_LENGTH} characters")
    url = history_url(project_settings(), history, "outcomes are kept beside it")
    why = "an outcome is one CRM's word about its own lead"
    chosen = tenants_at(url, tenant, why=why, write=True).names[0]
    with console.status(f"Reading {describe_source(data)}"):
        frame = read_table(data)
    column = target_column(list(map(str, frame.columns)), on, at, target)
    found = table_outcomes(frame, on, column, positive, at)
    result = record_outcomes_at(url, chosen, found)
    console.print(
        f"[dim]Score history: {redact(url)}, tenant {chosen}[/]", highlight=False, soft_wrap=True
    )
    console.print(summary(result), highlight=False, soft_wrap=True)
