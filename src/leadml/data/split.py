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

from leadml.config import setting_default
from leadml.data.newest_level import Maturity
from leadml.data.timeline import outcome_dates
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
    test_fraction: float = setting_default("test_fraction"),
    valid_fraction: float = setting_default("valid_fraction"),
    seed: int = setting_default("seed"),
) -> Split:
    """Newest leads as test when there is a time column (typed: ``datetime64``), else by row
    order when the schema says the rows are in time order, else stratified at random.

    Leads with no date sort last, i.e. count as the newest: they cannot be placed in the past.
    """
    n = len(frame)
    order = time_order(frame, schema)
    if order is not None:
        method = time_method(frame, schema)
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


# -- the backtest's folds ------------------------------------------------------------------------
@dataclass(frozen=True)
class Fold:
    """One backtest fold: the leads a model learns from and the leads it is judged on.

    With dates, ``cutoff`` is the moment the fold's first judged lead came in (float
    nanoseconds), and ``not_yet_known`` counts the older leads left out of ``train`` because
    their outcome was not known yet then (open, or too young for the horizon)."""

    train: np.ndarray
    test: np.ndarray
    cutoff: float = float("nan")
    not_yet_known: int = 0


def known_by(known_at: np.ndarray | None, positions: np.ndarray, cutoff: float) -> np.ndarray:
    """The leads among ``positions`` whose outcome was known at ``cutoff`` (all of them
    without dates: nothing says otherwise)."""
    if known_at is None or not np.isfinite(cutoff):
        return positions
    return positions[~(known_at[positions] > cutoff)]


@dataclass(frozen=True)
class Folds:
    """The backtest's folds, oldest first; the last is the headline fold (the newest leads
    with a time order). ``by_time`` says whether a fold may only learn from the past;
    ``known_at`` (float nanoseconds per lead, or None) when each label became known."""

    folds: tuple[Fold, ...]
    method: str
    by_time: bool
    dropped: int = 0
    known_at: np.ndarray | None = None
    #: With a horizon: when labels settled, for the newest conversion level.
    maturity: Maturity | None = None

    def known_by(self, positions: np.ndarray, fold: Fold) -> np.ndarray:
        """The leads among ``positions`` whose outcome was known at ``fold``'s cutoff."""
        return known_by(self.known_at, positions, fold.cutoff)

    @property
    def headline(self) -> Fold:
        return self.folds[-1]

    def __len__(self) -> int:
        return len(self.folds)


def time_order(frame: pd.DataFrame, schema: LeadSchema) -> np.ndarray | None:
    """Row positions oldest first (leads with no date last, i.e. newest), or None when the
    leads have no time order."""
    if schema.time and schema.time in frame.columns:
        stamps = frame[schema.time].to_numpy(dtype="datetime64[ns]")
        return np.argsort(stamps, kind="stable")
    if schema.rows_in_time_order:
        return np.arange(len(frame))
    return None


def time_method(frame: pd.DataFrame, schema: LeadSchema) -> str:
    """How the leads were put in time order, as reports say it."""
    if schema.time and schema.time in frame.columns:
        return f"time ({schema.time})"
    return "time (row order: the last rows are the newest)"


def backtest_folds(
    frame: pd.DataFrame,
    y: np.ndarray,
    schema: LeadSchema,
    n_folds: int = setting_default("backtest_folds"),
    test_fraction: float = setting_default("test_fraction"),
    seed: int = setting_default("seed"),
    known_at: np.ndarray | None = None,
    maturity: Maturity | None = None,
) -> Folds:
    """Folds for an honest backtest of a lead model.

    With a time order: a rolling origin over an expanding window. The newest ``test_fraction``
    of the leads is the headline fold (what Dynamics 365 reports); each earlier fold is the
    same number of leads just before it, and every fold learns from the leads older than its
    own, never from newer ones. With dates and ``known_at`` (when each label became known,
    :mod:`leadml.data.maturity`), a fold learns only from the labels known at its cutoff, as
    the team then knew them: a lead still open or too young then is left out. Without a time
    order: stratified K folds, K = 1 / ``test_fraction``.

    A fold whose leads hold one class only can neither learn nor be judged: it is left out
    (oldest first) and counted in ``dropped``; the headline fold must hold both classes.
    """
    n = len(frame)
    order = time_order(frame, schema)
    if order is not None:
        window = max(1, round(n * test_fraction))
        n_folds = max(1, min(n_folds, (n - 1) // window))
        folds = []
        created = outcome_dates(frame, schema)["created"]
        for k in range(n_folds, 0, -1):
            end = n - (k - 1) * window
            start = end - window
            test, older = np.sort(order[start:end]), np.sort(order[:start])
            cutoff = float(np.nanmin(created[test])) if np.isfinite(created[test]).any() else np.nan
            train = known_by(known_at, older, cutoff)
            folds.append(Fold(train, test, cutoff, len(older) - len(train)))
        method = time_method(frame, schema)
        by_time = True
    else:
        from sklearn.model_selection import StratifiedKFold

        k = max(2, round(1 / test_fraction))
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        folds = [Fold(np.sort(a), np.sort(b)) for a, b in splitter.split(np.zeros(n), y)]
        method = "stratified folds"
        by_time = False
    kept = [f for f in folds if _both_classes(y[f.train]) and _both_classes(y[f.test])]
    if not kept or kept[-1] is not folds[-1]:
        head = folds[-1]
        for name, part in (("headline training", head.train), ("headline test", head.test)):
            check_both_classes(name, len(part), int(y[part].sum()))
    return Folds(tuple(kept), method, by_time, len(folds) - len(kept), known_at, maturity)


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < len(y)


# -- a hint ----------------------------------------------------------------------------------------
#: Consecutive blocks of rows compared, and how far beyond chance their conversion must differ.
ORDER_BLOCKS = 10
ORDER_P_VALUE = 1e-6


def row_order_hint(y: np.ndarray, schema: LeadSchema) -> str | None:
    """Without a time column or ``--time-order``: does conversion change with the row's
    position in the file far beyond chance (chi-squared over ten consecutive blocks of rows)?
    Exports are often written oldest first, and then a random split judges the model on leads
    like the ones it learned from, not on the newest: bank marketing's ROC AUC reads 0.82 on
    stratified folds and 0.70 on its newest rows."""
    from scipy.stats import chi2_contingency

    if schema.time or schema.rows_in_time_order or len(y) < 50 * ORDER_BLOCKS:
        return None
    blocks = np.array_split(np.asarray(y, dtype=np.int64), ORDER_BLOCKS)
    table = np.array([[b.sum(), len(b) - b.sum()] for b in blocks])
    if (table.sum(axis=0) == 0).any():
        return None
    p_value = float(chi2_contingency(table)[1])
    if p_value >= ORDER_P_VALUE:
        return None
    first, last = blocks[0].mean(), blocks[-1].mean()
    return (
        f"conversion changes with the rows' order far beyond chance ({first:.1%} in the first "
        f"tenth of the rows, {last:.1%} in the last; chi-squared p = {p_value:.0e}): if the rows "
        "are oldest first, train with --time-order, so that the backtest judges the newest "
        "leads, as the model will be used"
    )
