"""Outcomes as the CRM reports them: which value means converted, and an export's rows read as
outcomes (``leadml outcomes import``).

One rule says what converted is, wherever an outcome comes from. Which *value* of a column
means converted is read as training reads a target (:mod:`leadml.data.target`: the lexicon in
several languages, or ``--positive``); the outcome code it gives is then the one thing that
decides: ``CONVERTED`` is a converted lead, ``NOT_CONVERTED`` a lost one, ``OPEN`` no outcome
yet (nothing is recorded). ``POST /v1/outcomes`` sends JSON true/false, read as those codes;
stored outcomes label leads for ``leadml retrain`` with the same codes, its positive value
spelled as ``CONVERTED``. A value that says neither (blank, "maybe", an open deal) stops an
import before anything is stored, naming the rows. Only lead ids are ever shown: the other
columns of an export may be personal data. An export of leads that objected to profiling
(``leadml opt-outs import``) is read by the same id and time rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from leadml.data.target import CONVERTED, NOT_CONVERTED, OPEN
from leadml.errors import DataError
from leadml.history.outcomes import Outcome, OutcomeResult

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from leadml.history.opt_outs import OptOutResult
    from leadml.schema.spec import LeadSchema

#: Lead ids are stored in a column of this many characters (``history.tables.lead_scores``);
#: not imported from there, which would load Alembic with every command.
LEAD_ID_LENGTH = 500
#: The schema's positive value for leads labelled from stored outcomes: their target holds
#: outcome codes (``history.labels``: 1 converted, 0 not).
HISTORY_POSITIVE = str(CONVERTED)


# -- the rule ------------------------------------------------------------------------------------
def outcome_of(lead_id: str, code: int, at: datetime | None = None) -> Outcome | None:
    """The outcome an outcome code says: converted, lost, or none yet (``OPEN``: None)."""
    if code == OPEN:
        return None
    if code not in (CONVERTED, NOT_CONVERTED):
        raise ValueError(f"{code!r} is no outcome code")
    return Outcome(lead_id, code == CONVERTED, at)


def posted_outcome(lead_id: str, converted: bool, at: datetime | None = None) -> Outcome:
    """A ``POST /v1/outcomes`` item: JSON true is a converted lead, false a lost one."""
    found = outcome_of(lead_id, CONVERTED if converted else NOT_CONVERTED, at)
    assert found is not None  # a posted outcome is never open
    return found


def history_labelled(schema: LeadSchema) -> LeadSchema:
    """``schema`` reading a target labelled from stored outcomes (``history.labels``)."""
    return schema.model_copy(update={"positive": HISTORY_POSITIVE})


# -- an export's columns -------------------------------------------------------------------------
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
    """Per row, an outcome code (``CONVERTED``, ``NOT_CONVERTED`` or ``OPEN``), read as
    training reads a target (:mod:`leadml.data.target`): the lexicon's words in several
    languages, values compared case-insensitively and numbers by value; ``positive`` names the
    converted value, and then the one other value is the rest. A blank names its rows; a value
    nothing places names itself."""
    from leadml.data.target import classify_target, spell
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
    return classes.codes(text)


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
    """One outcome per row of an export (a lead still open has none yet, and is left out);
    every problem is found before anything is stored."""
    _check_columns(frame, {"--on": on, "--target": target, "--at": at})
    ids = lead_ids(frame[on])
    codes = converted_flags(frame[target], positive)
    times = outcome_times(frame[at]) if at is not None else [None] * len(ids)
    found = (outcome_of(i, c, t) for i, c, t in zip(ids, codes.tolist(), times, strict=True))
    return [o for o in found if o is not None]


# -- the import ----------------------------------------------------------------------------------
#: A tenant is a key's name, stored in a column of this many characters.
TENANT_LENGTH = 100


def outcome_tenant(url: str, tenant: str | None) -> str:
    """Whose leads an import's outcomes are: ``tenant``, else the history's only tenant."""
    from leadml.errors import LeadMLError
    from leadml.history.tenants import tenants_at

    if tenant is not None and (not tenant.strip() or len(tenant) > TENANT_LENGTH):
        raise LeadMLError(f"--tenant must be a name of 1 to {TENANT_LENGTH} characters")
    why = "an outcome is one CRM's word about its own lead"
    return tenants_at(url, tenant, why=why, write=True).names[0]


def record_table(
    url: str,
    tenant: str,
    frame: pd.DataFrame,
    on: str,
    target: str | None = None,
    positive: str | None = None,
    at: str | None = None,
) -> OutcomeResult:
    """Record the outcomes of an export's rows for ``tenant`` in the history at ``url``, in
    one go: nothing is stored when a row is wrong."""
    from leadml.history.outcomes import record_outcomes_at

    column = target_column(list(map(str, frame.columns)), on, at, target)
    return record_outcomes_at(url, tenant, table_outcomes(frame, on, column, positive, at))


def record_opt_out_table(
    url: str, tenant: str, frame: pd.DataFrame, on: str, at: str | None = None
) -> OptOutResult:
    """Record an export's leads as having objected to profiling (``leadml opt-outs import``),
    ids and times read as outcome imports read them; their stored scores are erased."""
    from leadml.history.opt_outs import OptOut, record_opt_outs_at

    _check_columns(frame, {"--on": on, "--at-column": at})
    ids = lead_ids(frame[on])
    times = outcome_times(frame[at]) if at is not None else [None] * len(ids)
    opt_outs = [OptOut(i, t) for i, t in zip(ids, times, strict=True)]
    return record_opt_outs_at(url, tenant, opt_outs)
