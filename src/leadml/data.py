"""Read a lead table, check it against its schema, and split it the way it will be used.

Validation is where bad data is stopped with a message a user can act on: which column,
which rows, what was expected. Problems that leave the rest of the data honestly usable (an
all-missing column, infinities) become warnings that name what was left out and why.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadml.errors import DataError
from leadml.schema import LeadSchema

TARGET_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "won", "converted", "sim", "sí", "si"})
TARGET_FALSE = frozenset({"0", "0.0", "false", "no", "n", "lost", "not converted", "não", "nao"})


def _rows(mask: np.ndarray | pd.Series, limit: int = 5) -> str:
    """Spreadsheet-style row numbers (header is row 1) of the first offending rows."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i + 2) for i in idx[:limit])
    more = f", … ({len(idx)} in all)" if len(idx) > limit else ""
    return f"rows {shown}{more}"


# -- reading -------------------------------------------------------------------------------------
def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample among , ; tab and |, defaulting to a comma."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sample.splitlines()[0].count(d) for d in ",;\t|"} if sample else {}
        return max(counts, key=counts.__getitem__) if counts and max(counts.values()) else ","


def read_leads(path: str | Path) -> pd.DataFrame:
    """Read CSV or Parquet into a DataFrame, with errors that name the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a CSV or Parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        raw = path.read_bytes()[:65536]
        if not raw.strip():
            raise DataError(f"{path} is empty")
        if b"\x00" in raw:
            raise DataError(f"{path} is not a text CSV file (it contains binary data)")
        for encoding in ("utf-8", "latin-1"):
            try:
                sample = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        sep = sniff_delimiter(sample)
        return pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
    except DataError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise DataError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


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
    text = series.astype("string").str.strip().str.lower()
    numbers = pd.to_numeric(text, errors="coerce")
    text = text.where(numbers.isna(), numbers.map(_canonical, na_action="ignore").astype("string"))
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
    missing = [f for f in schema.feature_names if f not in columns]
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
    if schema.time and schema.time in columns:
        stamps = pd.to_datetime(frame[schema.time], errors="coerce", format="mixed")
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
        col = frame[spec.name]
        text = col.astype("string").str.strip()
        present = text.notna() & ~text.isin(missing_words)
        if not present.any():
            warnings.append(f"column '{spec.name}' has no values at all and was left out")
            continue
        if spec.kind == "numeric":
            numbers = pd.to_numeric(text.where(present), errors="coerce")
            bad = (present & numbers.isna()).to_numpy(dtype=bool, na_value=False)
            if bad.any():
                example = col[bad].iloc[0]
                raise DataError(
                    f"column '{spec.name}' has {int(bad.sum())} non-numeric values "
                    f"({_rows(bad)}, e.g. {example!r}); expected numbers"
                )
            infinite = np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                warnings.append(
                    f"column '{spec.name}' has {int(infinite.sum())} infinite values "
                    f"({_rows(infinite)}); they were treated as missing"
                )
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
    used = (
        schema
        if len(kept) == len(schema.features)
        else schema.model_copy(update={"features": kept})
    )
    return Validated(frame=frame, y=y, schema=used, warnings=warnings)


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
    random sample of last year's, and drift only shows when the test is in the future.
    """
    n = len(frame)
    if schema.time and schema.time in frame.columns:
        stamps = pd.to_datetime(frame[schema.time], errors="coerce", format="mixed")
        order = np.argsort(stamps.to_numpy(dtype="datetime64[ns]"), kind="stable")
        n_test = max(1, round(n * test_fraction))
        n_valid = max(1, round((n - n_test) * valid_fraction))
        test = order[n - n_test :]
        valid = order[n - n_test - n_valid : n - n_test]
        train = order[: n - n_test - n_valid]
        method = f"time ({schema.time})"
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
    cols = [*schema.feature_names, schema.target]
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
        stamps = pd.to_datetime(frame[schema.time], errors="coerce", format="mixed")
        out["time_from"] = str(stamps.min())
        out["time_to"] = str(stamps.max())
    return out
