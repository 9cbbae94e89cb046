"""Split checked leads the way the model will be used: learn from the past, test on the future.

A time split is the honest one for leads: the model will score next month's leads, not a
random sample of last year's, and drift only shows when the test is in the future (as Dynamics
365 does, the newest leads are the test). With no time column, the user may say the rows are in
time order (oldest first): the last rows are then the newest. Otherwise the split is stratified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.errors import DataError
from leadml.schema.spec import LeadSchema


@dataclass(frozen=True)
class Split:
    """Row positions of the train, validation (early stopping, calibration) and test slices."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    method: str

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def slice_sizes(n: int, test_fraction: float, valid_fraction: float) -> tuple[int, int, int]:
    """Rows in the train, validation and test slices of ``n`` leads (one rule, also on Dask):
    the test is the newest ``test_fraction``, validation the newest ``valid_fraction`` of the
    rest, each at least one lead."""
    n_test = max(1, round(n * test_fraction))
    n_valid = max(1, round((n - n_test) * valid_fraction))
    return n - n_test - n_valid, n_valid, n_test


def split_rows(
    frame: pd.DataFrame,
    y: np.ndarray,
    schema: LeadSchema,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.2,
    seed: int = 42,
) -> Split:
    """Newest leads as test when there is a time column (typed: ``datetime64``), else by row
    order when the schema says the rows are in time order, else stratified at random.

    Leads with no date sort last, i.e. count as the newest: they cannot be placed in the past.
    """
    n = len(frame)
    by_time = bool(schema.time and schema.time in frame.columns)
    if by_time or schema.rows_in_time_order:
        if by_time:
            stamps = frame[schema.time].to_numpy(dtype="datetime64[ns]")
            order = np.argsort(stamps, kind="stable")
            method = f"time ({schema.time})"
        else:
            order = np.arange(n)
            method = "time (row order: the last rows are the newest)"
        _, n_valid, n_test = slice_sizes(n, test_fraction, valid_fraction)
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
        check_both_classes(name, len(part), int(y[part].sum()))
    return Split(np.sort(train), np.sort(valid), np.sort(test), method)


def check_both_classes(name: str, rows: int, positives: int) -> None:
    """A slice with one class can neither train, stop early, calibrate nor be scored."""
    if positives in (0, rows):
        raise DataError(
            f"the {name} slice has only one class; more data or a different split is needed"
        )
