"""Score a partitioned lead table on Dask: each partition exactly as ``leadml score`` scores a
file, written by its worker as one Parquet part; the client only sees counts.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from leadml.bundle.files import swap_in
from leadml.bundle.model import LeadModel
from leadml.cluster.partitions import CSV_BLOCKSIZE, read_partitions, type_drift
from leadml.errors import DataError, LeadMLError
from leadml.explain.table import replaced_columns, score_table
from leadml.features.inputs import MIN_FIELD_SHARE, check_table_fields
from leadml.qualify.grades import GRADES

if TYPE_CHECKING:
    from distributed import Client

#: Written by every score run, so a re-run knows which folder it may replace.
PART_PREFIX = "part-"

PartitionsDone = Callable[[int, int], None]


def score_partition(
    frame: pd.DataFrame, model: LeadModel, explain: bool = False, framework: str = "bant"
) -> pd.DataFrame:
    """One partition scored exactly as ``leadml score`` scores a file (``score_table``);
    LightGBM gets one thread: a worker owns one core."""
    return score_table(model, frame, explain, framework, num_threads=1)


def _score_to_file(
    frame: pd.DataFrame, model: LeadModel, path: str, schema: Any, explain: bool, framework: str
) -> dict[str, Any]:
    """Score one partition and write it as one Parquet file with the run's common schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    scored = score_partition(frame, model, explain, framework)
    pq.write_table(pa.Table.from_pandas(scored, schema=schema, preserve_index=False), path)
    return {"rows": len(scored), "grades": scored["grade"].value_counts().to_dict()}


@dataclass
class ScoreSummary:
    """What a Dask scoring run did: rows, partitions, grade counts, time, warnings."""

    rows: int
    partitions: int
    grades: dict[str, int]
    seconds: float
    out: Path
    warnings: list[str] = field(default_factory=list)


def score_dask(
    model: LeadModel,
    source: str | Path,
    out: str | Path,
    client: Client,
    explain: bool = False,
    framework: str = "bant",
    on_partition: PartitionsDone | None = None,
    blocksize: str | int = CSV_BLOCKSIZE,
    min_share: float | None = MIN_FIELD_SHARE,
) -> ScoreSummary:
    """Score a partitioned table into a folder of Parquet parts, one per input partition.

    The folder appears whole or not at all: parts go to a hidden staging folder next to
    ``out`` that replaces it only once every partition is written. An existing ``out`` is
    replaced only when it holds nothing but an earlier run's parts.
    """
    import dask
    import pyarrow as pa
    from dask.dataframe.utils import meta_nonempty
    from distributed import as_completed

    started = time.perf_counter()
    target = Path(out).resolve()
    _check_output_folder(target)
    frame = read_partitions(source, blocksize)
    columns = list(frame.columns)
    absent = check_table_fields(model, columns, min_share)
    warnings = []
    if absent:
        warnings.append(f"columns missing from the data, scored as unknown: {', '.join(absent)}")
    replaced = replaced_columns(columns)
    if replaced:
        warnings.append(f"input columns {', '.join(replaced)} were replaced by fresh scores")
    # One Arrow schema for every part, taken from a scored stand-in of the input's types, so
    # the parts read back as one table even when a partition has a column that is all empty.
    example = score_partition(meta_nonempty(frame._meta), model, explain, framework)
    schema = pa.Schema.from_pandas(example, preserve_index=False)

    staging = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    staging.mkdir(parents=True)
    futures = []
    try:
        # A key of its own (not the model's hash): a run right after another with the same
        # model must not share the scattered copy the first one is releasing.
        shared = client.scatter(model, broadcast=True, hash=False)
        parts = frame.to_delayed()
        tasks = [
            dask.delayed(_score_to_file, pure=False)(
                part,
                shared,
                str(staging / f"{PART_PREFIX}{i:05d}.parquet"),
                schema,
                explain,
                framework,
            )
            for i, part in enumerate(parts)
        ]
        futures = client.compute(tasks)
        rows, grades = 0, Counter()
        for done, finished in enumerate(as_completed(futures), start=1):
            result = finished.result()
            rows += result["rows"]
            grades.update(result["grades"])
            finished.release()
            if on_partition:
                on_partition(done, len(tasks))
        swap_in(staging, target)
    except LeadMLError:
        raise
    except ValueError as exc:
        drift = type_drift(exc, source)
        if drift is None:
            raise
        raise drift from None
    finally:
        for future in futures:
            future.cancel()
        shutil.rmtree(staging, ignore_errors=True)
    return ScoreSummary(
        rows=rows,
        partitions=len(tasks),
        grades={g: int(grades.get(g, 0)) for g in GRADES},
        seconds=time.perf_counter() - started,
        out=target,
        warnings=warnings,
    )


def _check_output_folder(target: Path) -> None:
    if target.is_file():
        raise DataError(f"--out {target} is a file; Dask scoring writes a folder of Parquet parts")
    if target.is_dir():
        foreign = [p.name for p in target.iterdir() if not p.name.startswith(PART_PREFIX)]
        if foreign:
            raise DataError(
                f"--out {target} holds other files ({', '.join(sorted(foreign)[:3])}); "
                "give a new folder or an earlier run's output"
            )
