"""The labels of a partitioned table: settled once for the whole table, applied per partition.

The export date and the horizon need the whole table (its newest date, the time leads take to
convert), so each partition first sends its timeline (:mod:`leadml.data.timeline`, a few numbers
a lead); the client settles the labels with single-machine training's own function
(``maturity.settle_labels``); each partition then keeps its leads to learn from, labelled by
``maturity.apply_horizon``, as one machine labels the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.cluster.partitions import run_on_partitions
from leadml.cluster.split import Y_COLUMN, PartStats, part_stats
from leadml.config import Settings
from leadml.data.maturity import LabelRule, LabelSummary, apply_horizon, settle_labels
from leadml.data.newest_level import Maturity, maturity_of
from leadml.data.target import TargetClasses
from leadml.data.timeline import Timeline, outcome_dates
from leadml.data.validate import RowReport, outcome_timeline
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    from distributed import Client

#: When each lead's label became known (float ns), kept beside its label for the backtest.
KNOWN_COLUMN = "__leadml_known_at__"
#: Whether it converted at all (within the horizon or later): the leakage guard's evidence.
EVER_COLUMN = "__leadml_converted__"
#: The days its label took to settle (the newest conversion level's; :mod:`leadml.data.maturity`).
SETTLED_COLUMN = "__leadml_settled_days__"
LABEL_COLUMNS = (Y_COLUMN, KNOWN_COLUMN, EVER_COLUMN, SETTLED_COLUMN)


# -- one partition, on a worker ------------------------------------------------------------------
def partition_timeline(
    typed: pd.DataFrame, index: int, classes: TargetClasses, schema: LeadSchema, as_of: float
) -> Timeline:
    """One partition's outcomes as the export showed them (``validate``'s own function)."""
    return outcome_timeline(typed, classes, schema, as_of)


def label_partition(
    typed: pd.DataFrame,
    classes: TargetClasses,
    schema: LeadSchema,
    as_of: float,
    days: int | None,
) -> pd.DataFrame:
    """The partition's leads to learn from, with their 0/1 label and when it became known
    (``maturity.apply_horizon``, as on one machine)."""
    labels = apply_horizon(outcome_timeline(typed, classes, schema, as_of), days)
    learn = labels.learn
    kept = typed.loc[learn].reset_index(drop=True)
    return kept.assign(
        **{
            Y_COLUMN: labels.y[learn],
            KNOWN_COLUMN: labels.known_at[learn],
            EVER_COLUMN: labels.converted[learn],
            SETTLED_COLUMN: np.nan if labels.settled_days is None else labels.settled_days[learn],
        }
    )


def labelled_stats(typed: pd.DataFrame, index: int, schema: LeadSchema) -> PartStats:
    return part_stats(typed, schema)


# -- the table, from the client ------------------------------------------------------------------
@dataclass
class Labelled:
    """The labelled partitions (futures), what the labels are, and their warnings."""

    typed: list[Any]
    summary: LabelSummary
    notes: list[str]
    #: The whole table's creation dates and young settled leads (None without a horizon).
    maturity: Maturity | None

    def of_sample(self, sample: pd.DataFrame, schema: LeadSchema) -> SampleLabels:
        """The client's sample of labelled rows, its label columns taken off: the labels, when
        each became known, converted at all, and the table's maturity with the sample as
        the leads learned from."""
        maturity = None
        if self.maturity is not None:
            created = outcome_dates(sample, schema)["created"]
            settled = sample[SETTLED_COLUMN].to_numpy(dtype=np.float64)
            maturity = replace(self.maturity, created=created, settled_days=settled)
        return SampleLabels(
            frame=sample.drop(columns=list(LABEL_COLUMNS)),
            y=sample[Y_COLUMN].to_numpy(dtype=np.int8),
            known_at=sample[KNOWN_COLUMN].to_numpy(dtype=np.float64),
            converted=sample[EVER_COLUMN].to_numpy(dtype=bool),
            maturity=maturity,
        )


@dataclass
class SampleLabels:
    """The client's sample: typed rows and, aligned with them, what the labels say."""

    frame: pd.DataFrame
    y: np.ndarray
    known_at: np.ndarray
    converted: np.ndarray
    maturity: Maturity | None


def label_on_cluster(
    client: Client,
    checked: list[Any],
    reports: list[RowReport],
    classes: TargetClasses,
    schema: LeadSchema,
    settings: Settings,
) -> Labelled:
    """Settle the table's labels from every partition's timeline, then label each partition
    on its worker (the typed rows of ``checked`` stay there)."""
    rule = LabelRule.parse(settings.horizon, settings.as_of)
    newest = max((r.newest for r in reports if np.isfinite(r.newest)), default=np.nan)
    as_of = rule.export_date(newest)
    parts = run_on_partitions(client, checked, partition_timeline, classes, schema, as_of)
    timeline = Timeline.concat(parts)
    labels, summary, notes = settle_labels(
        timeline, classes.to_dict(), schema, rule, settings.min_class_count
    )
    days = summary.horizon_days
    typed = [client.submit(label_partition, part, classes, schema, as_of, days) for part in checked]
    return Labelled(typed, summary, notes, maturity_of(timeline, labels, days))
