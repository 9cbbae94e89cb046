"""What Dask training runs on one partition, on a worker: check its rows, slice it, encode it.

Each function takes one partition's typed rows and the plan the client made, and returns what
is small enough to travel back (a report, counts, a sample) or what stays on the worker (typed
rows, the encoded matrix). The rules are single-machine training's own
(:mod:`leadml.data.validate`, :mod:`leadml.modeling.recency`); only where they run differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.cluster.split import TEST, TRAIN, VALID, Y_COLUMN, SplitPlan
from leadml.data.fingerprint import fingerprint
from leadml.data.outcomes import Outcomes, matched_keys
from leadml.data.timeline import stamp_values
from leadml.data.validate import RowReport, check_rows
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.recency import DAY_NS, decay
from leadml.schema.spec import LeadSchema

#: Columns a lent sample row carries to the client: its slice, and its position in the table.
SLICE_COLUMN = "__leadml_slice__"
POSITION_COLUMN = "__leadml_position__"


@dataclass
class PartitionCheck:
    """What checking one partition found; small, it travels back to the client."""

    report: RowReport
    matched: set[str] = field(default_factory=set)  # outcome keys found here (--outcomes)


def check_partition(
    frame: pd.DataFrame,
    index: int,
    schema: LeadSchema,
    total: int,
    outcomes: Outcomes | None = None,
) -> tuple[pd.DataFrame, PartitionCheck]:
    """``check_rows`` on one partition, its messages naming the partition: the typed rows
    with an outcome stay on the worker, the report goes to the client. With ``outcomes`` the
    outcome keys found in the partition are collected in the same pass."""
    checked = check_rows(frame, schema, where=f"partition {index + 1} of {total}")
    found = PartitionCheck(checked.report)
    if outcomes is not None:  # counted in this pass: no extra read of the table for it
        found.matched = matched_keys(checked.frame, outcomes)
    return checked.frame, found


def slice_partition(
    typed: pd.DataFrame, index: int, plan: SplitPlan, categorical: list[str]
) -> dict[str, Any]:
    """Per slice: rows and conversions; category counts of the older leads (all but the newest
    slice: the headline fold's training leads); the lent rows with their position."""
    y = typed[Y_COLUMN].to_numpy()
    slices = plan.slices(typed, index)
    counts = np.zeros((3, 2), dtype=np.int64)
    for s in (TRAIN, VALID, TEST):
        counts[s] = (int((slices == s).sum()), int(y[slices == s].sum()))
    older = typed.loc[slices != TEST]
    levels = {name: older[name].value_counts() for name in categorical}
    lent = plan.lent(slices, index)
    first = plan.offsets[index] if plan.offsets is not None else 0
    sample = typed.loc[lent].assign(
        **{SLICE_COLUMN: slices[lent], POSITION_COLUMN: first + np.flatnonzero(lent)}
    )
    return {"counts": counts, "levels": levels, "sample": sample}


@dataclass(frozen=True)
class Recency:
    """What a partition needs to weigh its leads as the backtest chose (None: equally)."""

    half_life: float | None
    newest: float  # time: the newest date (ns); row order: the number of rows
    scale: float  # the weights' mean on the client's sample, so they average about 1


def partition_weights(
    typed: pd.DataFrame, index: int, plan: SplitPlan, recency: Recency
) -> np.ndarray:
    """``modeling.recency.recency_weights`` for one partition's leads, ages counted from the
    table's newest lead (leads with no date count as the newest, as on one machine)."""
    if recency.half_life is None:
        return np.ones(len(typed))
    if plan.schema.time and plan.schema.time in typed.columns:
        stamps = stamp_values(typed[plan.schema.time])
        ages = np.nan_to_num((recency.newest - stamps) / DAY_NS, nan=0.0)
    else:
        first = plan.offsets[index] if plan.offsets is not None else 0
        ages = recency.newest - 1 - (first + np.arange(len(typed)))
    return decay(ages, recency.half_life) / recency.scale


def train_partition(
    typed: pd.DataFrame, index: int, plan: SplitPlan, encoder: FeatureEncoder, recency: Recency
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any] | None]:
    """Every lead encoded for LightGBM, its 0/1 outcome and recency weight, and the
    partition's data fingerprint."""
    y = typed[Y_COLUMN].to_numpy(dtype=np.int8)
    print_ = fingerprint(typed, y, plan.schema) if len(typed) else None
    weights = partition_weights(typed, index, plan, recency)
    return encoder.transform(typed), y.astype(np.float64), weights, print_
