"""``leadml accounts``: leads rolled up to the company behind them, best accounts first.

A rep works accounts, not leads: this verb scores and explains every lead as ``leadml score
--explain`` does, then hands the explained table to :func:`leadml.explain.accounts.account_table`
(the arithmetic and its assumptions live there). The account column is checked before any
scoring, so a misspelt or personal column costs one red line, not a minute of TreeSHAP.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadml.cli.options import ALLOW_SPARSE_HELP, MODEL_HELP, warn_all
from leadml.cli.render import console, screen
from leadml.cli.score import FRAMEWORK_HELP
from leadml.cli.shell import project_settings
from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.explain.accounts import Accounts

ACCOUNT_HELP = (
    "The column naming each lead's company: a company name, web domain or account id "
    "(not a personal column such as e-mail)."
)


def accounts_view(result: Accounts, top: int, title: str) -> Table:
    """The first ``top`` accounts: chance of a deal, best lead, and the criteria nobody in the
    buying group meets yet (the per-criterion detail is in the file)."""
    table = Table(
        title=title,
        caption="open: criteria no lead of the account meets yet (?: no lead has answered)",
    )
    table.add_column("account", no_wrap=True, overflow="ellipsis", max_width=28)
    for column in ("leads", "P(any converts)", "expected"):
        table.add_column(column, justify="right")
    table.add_column("best lead", no_wrap=True)
    table.add_column("open")
    for _, row in result.table.head(top).iterrows():
        table.add_row(
            str(row["account"]),
            f"{row['leads']:,}",
            _percent(row["p_any"]),
            f"{row['expected_conversions']:.2f}",
            f"{row['best_lead']} ({row['best_score']}, {row['best_grade']})",
            _open(row, result.criteria),
        )
    return table


def _percent(p: float) -> str:
    """A chance as a rep reads it, never rounded up to a certain 100.0% nor down to 0.0%."""
    if p >= 0.9995:
        return ">99.9%"
    return "<0.1%" if 0 < p < 0.0005 else f"{p:.1%}"


def _open(row: pd.Series, criteria: tuple[str, ...]) -> str:
    """The criteria nobody covers, those nobody has answered marked with a '?'."""
    import pandas as pd

    marks = []
    for c in criteria:
        covered = row[f"{c}_covered"]
        if pd.isna(covered):
            marks.append(f"[dim]{c}?[/]")
        elif not covered:
            marks.append(c)
    return ", ".join(marks) or "[green]none[/]"


def _lead_ids(frame: pd.DataFrame, id_column: str | None) -> tuple[pd.Series, str | None]:
    """The leads' ids, else their row numbers (and a warning saying so)."""
    import pandas as pd

    if id_column and id_column in frame.columns:
        return frame[id_column], None
    named = f"no id column '{id_column}'" if id_column else "the model's schema names no id column"
    ids = pd.Series([f"Row {i}" for i in range(len(frame))], index=frame.index)
    return ids, f"{named}: leads are named by their row (Row 0 is the first)"


def accounts(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet of leads.", metavar="FILE")],
    account: Annotated[str, typer.Option(help=ACCOUNT_HELP, metavar="COL")],
    out: Annotated[
        Path,
        typer.Option(help="CSV or .parquet file to write, one row per account.", metavar="FILE"),
    ],
    framework: Annotated[str | None, typer.Option(help=FRAMEWORK_HELP, metavar="NAME")] = None,
    top: Annotated[int, typer.Option(help="Accounts to show on screen.", min=0, metavar="N")] = 10,
    allow_sparse: Annotated[bool, typer.Option("--allow-sparse", help=ALLOW_SPARSE_HELP)] = False,
) -> None:
    """Rank accounts by the chance one of their leads converts; best lead; criteria covered."""
    from leadml.data.read import read_table
    from leadml.data.write import write_table
    from leadml.explain.accounts import account_keys, account_table, check_account_column
    from leadml.explain.table import score_table
    from leadml.features.inputs import check_table_fields
    from leadml.schema.frameworks import framework_criteria
    from leadml.tracking.references import load_model

    settings = project_settings()
    chosen = (framework or settings.framework).strip().lower()
    criteria = framework_criteria(chosen)  # an unknown framework stops here, in one line
    with console.status("Loading the model"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    with console.status(f"Reading {data}"):
        frame = read_table(data)
    schema = lead_model.schema
    check_account_column(account, frame, schema, str(data))
    if account_keys(frame[account], schema.missing_values).isna().all():
        raise LeadMLError(f"no lead in {data} has a '{account}': no account to rank")
    share = None if allow_sparse or settings.allow_sparse else settings.min_field_share
    given = [c for c in frame.columns if frame[c].notna().any()]
    left_out = check_table_fields(lead_model, given, share)
    ids, no_ids = _lead_ids(frame, schema.id)
    notes = [f"not in the table, scored as unknown: {', '.join(left_out)}"] if left_out else []
    warn_all([*notes, *([no_ids] if no_ids else [])])
    started = time.perf_counter()
    with console.status("Scoring and explaining the leads"):
        scored = score_table(lead_model, frame, True, chosen)
    result = account_table(
        scored,
        frame[account].reset_index(drop=True),
        ids.reset_index(drop=True),
        criteria,
        missing=schema.missing_values,
    )
    write_table(result.table, out)
    elapsed = time.perf_counter() - started
    shown = min(top, len(result.table))
    if shown:
        title = f"Top {shown} of {len(result.table):,} accounts ({chosen.upper()})"
        screen.print(accounts_view(result, top, title))
    blank = (
        f"; {result.no_account:,} leads without '{account}' left out" if result.no_account else ""
    )
    console.print(
        f"Ranked {len(result.table):,} accounts from {result.leads:,} leads with "
        f"{lead_model.version} in {elapsed:.2f} s → [bold]{out}[/]  ({result.covering_all():,} "
        f"cover every {chosen.upper()} criterion{blank})",
        highlight=False,
        soft_wrap=True,
    )
