"""A lead table in parts: a folder or glob of CSV or Parquet files, read lazily by Dask.

One partition per Parquet file (or row-group run) or per ``blocksize`` of CSV, read only when a
task needs it. CSV encoding, delimiter and decimal commas are detected on the first file with
the single-file readers (:mod:`leadml.data.read`), so a part is read as that file would be.
"""

from __future__ import annotations

import glob as globbing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from leadml.cluster.client import first_line
from leadml.errors import DataError

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

#: CSV bytes per partition: what one worker holds in memory at a time (a few times this).
CSV_BLOCKSIZE = "32MB"
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def partition_files(source: str | Path) -> tuple[list[str], str]:
    """The files behind a folder, glob or single file, sorted, and their kind (csv / parquet)."""
    text = str(source)
    path = Path(text)
    if any(ch in text for ch in "*?["):
        files = sorted(globbing.glob(text))
    elif path.is_dir():
        files = sorted(
            str(p) for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
        )
    elif path.is_file():
        files = [text]
    else:
        raise DataError(f"data not found: {text}")
    kinds = {_kind(f) for f in files}
    kinds.discard(None)
    if not kinds:
        raise DataError(f"no CSV or Parquet files in {text}")
    if len(kinds) > 1:
        raise DataError(f"{text} mixes CSV and Parquet files; give one kind")
    kind = kinds.pop()
    return [f for f in files if _kind(f) == kind], kind


def _kind(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "csv" if suffix in CSV_SUFFIXES else None


def read_partitions(source: str | Path, blocksize: str | int = CSV_BLOCKSIZE) -> dd.DataFrame:
    """A lazy Dask frame over partitioned CSV or Parquet: one partition per Parquet file (or
    row-group run) or per ``blocksize`` of CSV, read only when a task needs it.

    CSV encoding and delimiter are detected on the first file, as ``leadml.readers`` does for
    one file; column types come from a sample of it (Parquet files carry their own types), and
    so do the columns written with decimal commas, parsed the same way in every part.
    """
    import dask.dataframe as dd

    from leadml.data.read import (
        decimal_comma_columns,
        detect_encoding,
        parse_decimal_commas,
        sniff_delimiter,
    )

    files, kind = partition_files(source)
    try:
        if kind == "parquet":
            return dd.read_parquet(files, index=False)
        with open(files[0], "rb") as handle:
            raw = handle.read(1 << 16)
        if not raw.strip():
            raise DataError(f"{files[0]} is empty")
        encoding = detect_encoding(raw)
        sep = sniff_delimiter(raw.decode(encoding, errors="replace"))
        commas: list[str] = []
        if sep != ",":  # ;-separated European exports write 1.234,5
            head = pd.read_csv(files[0], sep=sep, encoding=encoding, nrows=50_000, dtype=str)
            commas = decimal_comma_columns(head)
        frame = dd.read_csv(
            files,
            sep=sep,
            encoding=encoding,
            blocksize=blocksize,
            assume_missing=True,  # integers with gaps further down stay readable
            sample=1 << 20,
            dtype=dict.fromkeys(commas, "object"),
        )
        if not commas:
            return frame
        meta = frame._meta.assign(**{c: pd.Series(dtype=float) for c in commas})
        return frame.map_partitions(parse_decimal_commas, commas, meta=meta)
    except DataError:
        raise
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {source}: {first_line(exc)}") from None


def first_rows(source: str | Path, rows: int = 50_000) -> pd.DataFrame:
    """Up to ``rows`` rows of the first partition, e.g. to infer a schema from."""
    return read_partitions(source).get_partition(0).compute().head(rows)


def type_drift(exc: ValueError, source: str | Path) -> DataError | None:
    """Dask's error for a CSV column whose type changes after the block it sampled (say, empty
    in the first rows and text further on), as one line; None for any other ValueError."""
    text = str(exc)
    if "Mismatched dtypes" not in text:
        return None
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("|")]
    columns = ", ".join(f"'{c}'" for c in rows[1:]) or "?"
    return DataError(
        f"{source}: the type of column {columns} changes between parts of the CSV (e.g. empty "
        "at first, text further on); convert the data to Parquet, which stores its types"
    )


def run_on_partitions(
    client: Client, parts: list[Any], func: Callable[..., Any], *args: Any
) -> list[Any]:
    """``func(part, index, *args)`` on every part (delayed objects or futures), on the
    cluster; results in part order."""
    import dask

    tasks = [dask.delayed(func, pure=True)(part, i, *args) for i, part in enumerate(parts)]
    return client.gather(client.compute(tasks))
