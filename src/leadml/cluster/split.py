"""``leadml.data.split`` for a table in parts: the same slices, decided without gathering it.

With a time column the newest leads are the test, as on one machine: the cut-off dates are the
exact dates at the slices' ranks, found by counting dates in ever narrower bins (no sort, no
table on one machine). With rows in time order, the last rows are the newest. Otherwise each
partition draws its slices at random with a seed of its own.

Every partition then assigns its rows the same way on every pass (``SplitPlan.slices``), and
lends the client a seeded sample of each slice (``SplitPlan.lent``) for the steps that need
rows in one place: the leakage audit, calibration, evaluation and the baselines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.config import Settings
from leadml.data.split import slice_sizes
from leadml.data.timeline import stamp_values
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    from distributed import Client

TRAIN, VALID, TEST = 0, 1, 2
#: The 0/1 outcome, kept beside the typed rows of every partition.
Y_COLUMN = "__leadml_y__"
#: Bins per pass when narrowing in on an order statistic; a window this small is gathered.
BINS = 4096
GATHER = 100_000


@dataclass(frozen=True)
class PartStats:
    """What the split needs to know of one partition: its rows and the span of its dates."""

    rows: int
    dated: int = 0
    first: float = np.nan
    last: float = np.nan


def part_stats(typed: pd.DataFrame, schema: LeadSchema) -> PartStats:
    if not (schema.time and schema.time in typed.columns):
        return PartStats(len(typed))
    stamps = stamp_values(typed[schema.time])
    stamps = stamps[~np.isnan(stamps)]
    if not len(stamps):
        return PartStats(len(typed))
    return PartStats(len(typed), len(stamps), float(stamps.min()), float(stamps.max()))


@dataclass(frozen=True)
class SplitPlan:
    """How every partition assigns its rows to train / valid / test, the same way on every
    pass, and which of them it lends the client."""

    schema: LeadSchema
    method: str
    cuts: tuple[float, float] | None  # time: newest-first cut-offs (ns) of valid and test
    offsets: tuple[int, ...] | None  # row order: first row's position of each partition
    counts: tuple[int, int] | None  # row order: rows in valid and test
    fractions: tuple[float, float]  # random: test, valid
    seed: int
    rates: tuple[float, float, float]  # share of each slice sent to the client (uniform)

    def slices(self, rows: pd.DataFrame, index: int) -> np.ndarray:
        n = len(rows)
        out = np.full(n, TRAIN, dtype=np.int8)
        if self.cuts is not None:
            stamps = stamp_values(rows[str(self.schema.time)])
            # As split_rows' stable sort, leads with no date count as the newest.
            out[stamps > self.cuts[0]] = VALID
            out[(stamps > self.cuts[1]) | np.isnan(stamps)] = TEST
        elif self.offsets is not None and self.counts is not None:
            position = self.offsets[index] + np.arange(n)
            total = self.offsets[-1]
            out[position >= total - self.counts[1] - self.counts[0]] = VALID
            out[position >= total - self.counts[1]] = TEST
        else:
            test, valid = self.fractions
            draw = np.random.default_rng([self.seed, index]).random(n)
            out[draw < test + (1 - test) * valid] = VALID
            out[draw < test] = TEST
        return out

    def lent(self, slices: np.ndarray, index: int) -> np.ndarray:
        draw = np.random.default_rng([self.seed, index, 1]).random(len(slices))
        return draw < np.asarray(self.rates)[slices]


def plan_split(
    client: Client,
    parts: list[Any],
    stats: list[PartStats],
    schema: LeadSchema,
    settings: Settings,
    sample_rows: int,
    has_time: bool,
) -> SplitPlan:
    """The plan for typed partitions ``parts`` (futures) whose ``stats`` are known;
    ``has_time``: the table has the schema's time column."""
    test, valid = settings.test_fraction, settings.valid_fraction
    n = sum(s.rows for s in stats)
    # One uniform sample of the table (``sample_rows`` per slice on average), so that the
    # client's backtest folds span the same periods as the table's.
    rates = (min(1.0, 3 * sample_rows / max(n, 1)),) * 3
    cuts = offsets = counts = None
    n_train, n_valid, n_test = slice_sizes(n, test, valid)
    if has_time:
        # As split_rows' stable sort: oldest first, leads with no date last (i.e. newest).
        dated = sum(s.dated for s in stats)
        ranks = [n_train - 1, n - n_test - 1]  # the last train and valid leads
        inner = [r for r in ranks if 0 <= r < dated]
        found = dict(zip(inner, order_statistics(client, parts, schema, inner, stats), strict=True))
        cuts = tuple(found.get(r, -np.inf if r < 0 else np.inf) for r in ranks)
        method = f"time ({schema.time})"
    elif schema.rows_in_time_order:
        offsets = tuple(np.cumsum([0, *(s.rows for s in stats)]).tolist())
        counts = (n_valid, n_test)
        method = "time (row order: the last rows are the newest)"
    else:
        method = "random (seeded, per partition)"
    return SplitPlan(
        schema,
        method,
        cuts,  # type: ignore[arg-type]
        offsets,
        counts,
        (test, valid),
        settings.seed,
        rates,  # type: ignore[arg-type]
    )


def order_statistics(
    client: Client, parts: list[Any], schema: LeadSchema, ranks: list[int], stats: list[PartStats]
) -> list[float]:
    """The dates at ``ranks`` (0 = earliest) of the time column, exactly, without sorting it
    or holding it on one machine: count the dates in ever narrower bins around each rank
    (one pass each) until the bin is small enough to gather. Usually one or two passes."""
    from leadml.cluster.partitions import run_on_partitions

    if not ranks:
        return []
    dated = sum(s.dated for s in stats)
    lo = min(s.first for s in stats if s.dated)
    hi = max(s.last for s in stats if s.dated)
    windows = {r: (lo, hi, 0, dated) for r in ranks}  # rank → (lo, hi, rows below, rows in)
    found: dict[int, float] = {}
    time = str(schema.time)
    while len(found) < len(ranks):
        open_ = {r: w for r, w in windows.items() if r not in found}
        small = {r: w for r, w in open_.items() if w[3] <= GATHER or w[0] >= w[1]}
        if small:
            bounds = [(w[0], w[1]) for w in small.values()]
            gathered = run_on_partitions(client, parts, _window_values, time, bounds)
            for k, (r, w) in enumerate(small.items()):
                values = np.sort(np.concatenate([g[k] for g in gathered]))
                found[r] = float(values[r - w[2]])
            continue
        bounds = [(w[0], w[1]) for w in open_.values()]
        counts = np.sum(run_on_partitions(client, parts, _window_counts, time, bounds), axis=0)
        for k, (r, (lo_, hi_, below, _)) in enumerate(open_.items()):
            edges = np.linspace(lo_, hi_, BINS + 1)
            cum = np.cumsum(counts[k])
            b = int(np.searchsorted(cum, r - below, side="right"))
            top = edges[b + 1] if b == BINS - 1 else np.nextafter(edges[b + 1], -np.inf)
            windows[r] = (edges[b], top, below + int(cum[b] - counts[k][b]), int(counts[k][b]))
    return [found[r] for r in ranks]


def _dates(typed: pd.DataFrame, time: str) -> np.ndarray:
    stamps = stamp_values(typed[time])
    return stamps[~np.isnan(stamps)]


def _window_counts(
    typed: pd.DataFrame, index: int, time: str, bounds: list[tuple[float, float]]
) -> np.ndarray:
    dates = _dates(typed, time)
    return np.array([np.histogram(dates, np.linspace(lo, hi, BINS + 1))[0] for lo, hi in bounds])


def _window_values(
    typed: pd.DataFrame, index: int, time: str, bounds: list[tuple[float, float]]
) -> list[np.ndarray]:
    dates = _dates(typed, time)
    return [dates[(dates >= lo) & (dates <= hi)] for lo, hi in bounds]
