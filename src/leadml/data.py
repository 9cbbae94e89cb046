"""Read a lead table, check it against its schema, and split it the way it will be used.

Validation is where bad data is stopped with a message a user can act on: which column,
which rows, what was expected. Problems that leave the rest of the data honestly usable (an
all-missing column, infinities) become warnings that name what was left out and why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from leadml.errors import DataError
from leadml.features import clean_text, parse_dates, resolve_day_first
from leadml.readers import read_table
from leadml.readers import sniff_delimiter as sniff_delimiter  # still importable from here
from leadml.schema import DATE_KINDS, LeadSchema

TARGET_TRUE = frozenset(
    {"1", "1.0", "true", "yes", "y", "t", "won", "closed won", "converted", "success", "sim", "sí"}
    | {"si", "tak", "ganho", "ganado", "ganada", "convertido", "convertida", "wygrana"}
)
TARGET_FALSE = frozenset(
    {"0", "0.0", "false", "no", "n", "f", "lost", "closed lost", "not converted", "failure"}
    | {"não", "nao", "nie", "perdido", "perdida", "no convertido", "não convertido", "przegrana"}
)


def _rows(mask: np.ndarray | pd.Series, limit: int = 5) -> str:
    """Spreadsheet-style row numbers (header is row 1) of the first offending rows."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i + 2) for i in idx[:limit])
    more = f", … ({len(idx)} in all)" if len(idx) > limit else ""
    return f"rows {shown}{more}"


# -- reading -------------------------------------------------------------------------------------
def read_leads(path: str | Path) -> pd.DataFrame:
    """Read a lead table: CSV/TSV (delimiter and encoding detected), Parquet, .xlsx, or a
    SQLAlchemy URL (``URL#table`` or ``URL#SELECT ...``); see ``leadml.readers``."""
    return read_table(path)


# -- the target ----------------------------------------------------------------------------------
def _canonical(value: object) -> str:
    """One spelling per number ("1", "1.0" and 1 are all "1"); other text unchanged."""
    try:
        return format(float(value), "g")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)


def target_vector(series: pd.Series, positive: str | None) -> np.ndarray:
    """0/1 from whatever the CRM wrote; an ambiguous or many-valued target is an error.

    Values are compared case-insensitively ("Won" and "won" are one value), and numbers by
    value (1 and 1.0 are one value), because exports are rarely consistent about either.
    """
    # once per distinct value, not per row: a target has two values and maybe a million rows
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    spelled = pd.Series([_canonical(str(u).strip().lower()) for u in uniques], dtype="string")
    text = spelled.reindex(codes)
    text.index = series.index
    values = sorted(text.dropna().unique().tolist())
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:6])
        raise DataError(
            f"target column '{series.name}' has {len(values)} distinct values ({shown}); "
            "expected two (converted / not converted)"
        )
    if positive is not None:
        pos = _canonical(str(positive).strip().lower())
        if pos in values:
            return (text == pos).fillna(False).to_numpy(dtype=np.int8)
        if len(values) == 2:
            raise DataError(
                f"target column '{series.name}' has values {values}, none of them '{positive}'; "
                "say which value means converted with --positive"
            )
    truthy = {_canonical(v) for v in TARGET_TRUE}
    falsy = {_canonical(v) for v in TARGET_FALSE}
    if set(values) & truthy and set(values) <= truthy | falsy:
        return text.isin(truthy).fillna(False).to_numpy(dtype=np.int8)
    if len(values) < 2:
        return np.zeros(len(series), dtype=np.int8)
    raise DataError(
        f"target column '{series.name}' has values {values}; say which one means converted "
        "with --positive"
    )


# -- validation ----------------------------------------------------------------------------------
@dataclass
class Validated:
    """A checked table: the target as 0/1, the schema actually used, and what was left out."""

    frame: pd.DataFrame
    y: np.ndarray
    schema: LeadSchema
    warnings: list[str] = field(default_factory=list)


def validate(frame: pd.DataFrame, schema: LeadSchema, min_class_count: int = 40) -> Validated:
    """Check a training table against its schema; raise ``DataError`` naming what is wrong."""
    if len(frame.columns) == 0 or len(frame) == 0:
        raise DataError("the data has no rows" if len(frame.columns) else "the data is empty")
    columns = set(frame.columns)
    if schema.target not in columns:
        raise DataError(
            f"target column '{schema.target}' not found; columns are: "
            + ", ".join(map(str, list(frame.columns)[:30]))
        )
    missing = list(dict.fromkeys(f.column for f in schema.features if f.column not in columns))
    if missing:
        raise DataError(f"columns in the schema but not in the data: {', '.join(missing)}")

    warnings: list[str] = []
    target = frame[schema.target]
    unlabeled = target.isna().to_numpy()
    if unlabeled.all():
        raise DataError(f"target column '{schema.target}' is empty")
    if unlabeled.any():
        warnings.append(
            f"{int(unlabeled.sum())} rows with no value in '{schema.target}' were left out "
            f"({_rows(unlabeled)})"
        )
        frame = frame.loc[~unlabeled].reset_index(drop=True)
    y = target_vector(frame[schema.target], schema.positive)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        raise DataError(
            f"target column '{schema.target}' has only one class "
            f"({positives} converted, {negatives} not); a model needs both"
        )
    if min(positives, negatives) < min_class_count:
        raise DataError(
            f"too few examples to learn from: {positives} converted and {negatives} not "
            f"converted leads; need at least {min_class_count} of each"
        )

    if schema.id and schema.id in columns:
        dupes = frame[schema.id].duplicated(keep=False).to_numpy()
        if dupes.any():
            first = frame[schema.id][dupes].iloc[0]
            raise DataError(
                f"id column '{schema.id}' has {int(dupes.sum())} duplicated values "
                f"(e.g. {first!r} at {_rows(frame[schema.id] == first)})"
            )
    day_first = resolve_day_first(schema, frame)
    if day_first and schema.day_first is None:
        warnings.append(
            "dates such as 05/11/2026 were read day first (5 November), as the data's other "
            "dates show; set day_first = false in the schema if that is wrong"
        )
    if schema.time and schema.time in columns:
        stamps = parse_dates(frame[schema.time], day_first)  # mixed UTC offsets (DST) too
        bad = (stamps.isna() & frame[schema.time].notna()).to_numpy()
        if bad.any():
            example = frame[schema.time][bad].iloc[0]
            raise DataError(
                f"time column '{schema.time}' has {int(bad.sum())} values that are not dates "
                f"(e.g. {example!r}, {_rows(bad)})"
            )

    kept = []
    missing_words = set(schema.missing_values)
    for spec in schema.features:
        if spec.kind in DATE_KINDS:
            if _check_dates(frame, spec.name, str(spec.source), warnings, day_first):
                kept.append(spec)
            continue
        col = frame[spec.name]
        if spec.kind == "numeric" and is_numeric_dtype(col) and not is_bool_dtype(col):
            # already numbers (the usual CSV case): nothing to parse, only gaps and infinities
            numbers = col.to_numpy(dtype=float, na_value=np.nan)
            present = pd.Series(~np.isnan(numbers), index=col.index)
        else:
            text = clean_text(col, missing_words)
            present = text.notna()
            numbers = None
        if not present.any():
            warnings.append(f"column '{spec.name}' has no values at all and was left out")
            continue
        if spec.kind == "numeric":
            if numbers is None:
                parsed = pd.to_numeric(text, errors="coerce")
                bad = (present & parsed.isna()).to_numpy(dtype=bool, na_value=False)
                if bad.any():
                    example = col[bad].iloc[0]
                    raise DataError(
                        f"column '{spec.name}' has {int(bad.sum())} non-numeric values "
                        f"({_rows(bad)}, e.g. {example!r}); expected numbers"
                    )
                numbers = parsed.to_numpy(dtype=float, na_value=np.nan)
            infinite = np.isinf(numbers)
            if infinite.any():
                warnings.append(
                    f"column '{spec.name}' has {int(infinite.sum())} infinite values "
                    f"({_rows(infinite)}); they were treated as missing"
                )
        elif spec.kind == "categorical":
            # A "category" with a distinct value on most rows is an identifier in disguise:
            # it can only memorise leads, never generalise, so it is left out.
            distinct = int(text.nunique())
            if distinct > 1000 and distinct > 0.5 * int(present.sum()):
                warnings.append(
                    f"column '{spec.name}' has {distinct:,} distinct values on "
                    f"{int(present.sum()):,} rows: it looks like an identifier and was left out"
                )
                continue
        elif spec.kind == "ordinal":
            known = set(spec.levels or [])
            unknown = (present & ~text.isin(known)).to_numpy(dtype=bool, na_value=False)
            if unknown.any():
                values = sorted(set(text[unknown].dropna().tolist()))[:5]
                raise DataError(
                    f"column '{spec.name}' has {int(unknown.sum())} answers not in its levels "
                    f"({_rows(unknown)}: {values}); add them to the schema's levels in order"
                )
        kept.append(spec)
    if not kept:
        raise DataError("no usable feature columns: every feature is empty")
    # the day order is settled here, once, so splitting, encoding and scoring all agree
    used = schema.model_copy(update={"features": kept, "day_first": day_first})
    return Validated(frame=frame, y=y, schema=used, warnings=warnings)


def _check_dates(
    frame: pd.DataFrame, name: str, source: str, warnings: list[str], day_first: bool
) -> bool:
    """A date feature is kept when its source column holds dates; stray text becomes missing."""
    stamps = parse_dates(frame[source], day_first)
    given = frame[source].notna().to_numpy() & (
        frame[source].astype("string").str.strip() != ""
    ).to_numpy(dtype=bool, na_value=False)
    if stamps.isna().all():
        warnings.append(f"feature '{name}': column '{source}' holds no dates and was left out")
        return False
    bad = given & stamps.isna().to_numpy()
    if bad.any():
        warnings.append(
            f"column '{source}' has {int(bad.sum())} values that are not dates ({_rows(bad)}); "
            f"'{name}' treats them as missing"
        )
    return True


# -- splitting -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Row positions of the train, validation (early stopping, calibration) and test slices."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    method: str


def split_rows(
    frame: pd.DataFrame,
    y: np.ndarray,
    schema: LeadSchema,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.2,
    seed: int = 42,
) -> Split:
    """Newest leads as test when a time column exists (as Dynamics 365 does), else stratified.

    A time split is the honest one for leads: the model will score next month's leads, not a
    random sample of last year's, and drift only shows when the test is in the future. With no
    time column, the user may say the rows are in time order (oldest first): the last rows are
    then the newest.
    """
    n = len(frame)
    by_time = bool(schema.time and schema.time in frame.columns)
    if by_time or schema.rows_in_time_order:
        if by_time:
            stamps = parse_dates(frame[schema.time], schema.day_first)  # mixed UTC offsets too
            order = np.argsort(stamps.to_numpy(dtype="datetime64[ns]"), kind="stable")
            method = f"time ({schema.time})"
        else:
            order = np.arange(n)
            method = "time (row order: the last rows are the newest)"
        n_test = max(1, round(n * test_fraction))
        n_valid = max(1, round((n - n_test) * valid_fraction))
        test = order[n - n_test :]
        valid = order[n - n_test - n_valid : n - n_test]
        train = order[: n - n_test - n_valid]
    else:
        from sklearn.model_selection import train_test_split

        idx = np.arange(n)
        rest, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=seed)
        train, valid = train_test_split(
            rest, test_size=valid_fraction, stratify=y[rest], random_state=seed
        )
        method = "stratified random"
    for name, part in (("train", train), ("validation", valid), ("test", test)):
        if y[part].min() == y[part].max():
            raise DataError(
                f"the {name} slice has only one class; more data or a different split is needed"
            )
    return Split(np.sort(train), np.sort(valid), np.sort(test), method)


def fingerprint(frame: pd.DataFrame, y: np.ndarray, schema: LeadSchema) -> dict:
    """Rows, content hash (features and target only: no PII), target rate and time window."""
    cols = list(dict.fromkeys([*(f.column for f in schema.features), schema.target]))
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(frame[cols], index=False).to_numpy().tobytes()
    ).hexdigest()
    out = {
        "rows": len(frame),
        "columns": len(cols),
        "sha256": digest,
        "target_rate": float(np.mean(y)),
    }
    if schema.time and schema.time in frame.columns:
        stamps = parse_dates(frame[schema.time], schema.day_first)  # mixed UTC offsets too
        out["time_from"] = str(stamps.min())
        out["time_to"] = str(stamps.max())
    return out
