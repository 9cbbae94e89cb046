"""Dask training's data stage, from the client: ``modeling.prepare.prepare_training`` for a
table in partitions.

Every partition is checked once on its worker (:mod:`leadml.cluster.worker_steps`) and its
typed rows stay there; the reports are combined into the table's verdict as for one file, the
labels are settled (:mod:`leadml.cluster.labels`), the table is split by time
(:mod:`leadml.cluster.split`), the encoder is fitted from the older leads' category counts,
and a seeded sample comes to the client for the backtest's folds and the leakage audit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.cluster.labels import label_on_cluster, labelled_stats
from leadml.cluster.partitions import run_on_partitions
from leadml.cluster.split import SplitPlan, plan_split
from leadml.cluster.worker_steps import (
    POSITION_COLUMN,
    SLICE_COLUMN,
    PartitionCheck,
    check_partition,
    slice_partition,
)
from leadml.config import Settings
from leadml.data.outcomes import Outcomes, check_lead_columns, label_leads, outcome_notes
from leadml.data.split import backtest_folds, check_both_classes
from leadml.data.validate import (
    check_columns,
    combine_reports,
    duplicate_ids_error,
    settle_day_first,
    target_classes,
)
from leadml.features.encoder import MAX_LEVELS, MIN_LEVEL_COUNT, FeatureEncoder
from leadml.modeling.finish import Progress
from leadml.modeling.prepare import Prepared, Rows, encode_and_audit
from leadml.modeling.recency import Ages, lead_ages
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    import dask.dataframe as dd
    from dask.delayed import Delayed
    from distributed import Client, Future

#: The backtest's folds on the client's sample (fewer than on one machine: it is a sample).
DASK_FOLDS = 3


def fit_encoder(schema: LeadSchema, counts: dict[str, pd.Series]) -> FeatureEncoder:
    """``FeatureEncoder.fit`` from category counts summed over the training partitions.

    The encoder is fitted on a stand-in frame holding each level that the training rows hold
    at least ``MIN_LEVEL_COUNT`` times (the ``MAX_LEVELS`` most frequent), each exactly that
    often: the same levels as fitting on all training rows, without them on the client.
    """
    kept: dict[str, list[str]] = {}
    for name, count in counts.items():
        count = count.sort_values(ascending=False, kind="stable")
        kept[name] = [str(v) for v in count[count >= MIN_LEVEL_COUNT].index[:MAX_LEVELS]]
    length = MIN_LEVEL_COUNT * max([len(v) for v in kept.values()] + [1])
    stand_in = pd.DataFrame(
        {
            name: pd.Series(
                [v for v in values for _ in range(MIN_LEVEL_COUNT)]
                + [None] * (length - MIN_LEVEL_COUNT * len(values)),
                dtype="string",
            )
            for name, values in kept.items()
        }
    )
    return FeatureEncoder.fit(schema, stand_in)


def label_partitions(frame: dd.DataFrame, outcomes: Outcomes, shared: Delayed) -> dd.DataFrame:
    """The lead table with its outcome column added on the workers. ``shared`` is the outcome
    keys as one graph node, so the key set travels to the cluster once, not once per task."""
    check_lead_columns(list(map(str, frame.columns)), outcomes.on, outcomes.target)
    meta = label_leads(frame._meta, outcomes)
    return frame.map_partitions(label_leads, shared, meta=meta)


def _check_ids(client: Client, typed: list[Future], schema: LeadSchema) -> None:
    """Duplicated lead ids across partitions, counted by a shuffle rather than on one machine."""
    import dask
    import dask.dataframe as dd

    meta = client.submit(lambda part: part.head(0), typed[0]).result()
    ids = dd.from_delayed(typed, meta=meta)[str(schema.id)]
    counts = ids.value_counts(split_out=True)
    repeated = counts[counts > 1]
    rows, top = dask.compute(repeated.sum(), repeated.nlargest(1))
    if rows:
        where = f", {int(top.iloc[0])} times"
        raise duplicate_ids_error(str(schema.id), int(rows), top.index[0], where)


def _typed_partitions(
    client: Client,
    frame: dd.DataFrame,
    schema: LeadSchema,
    outcomes: Outcomes | None,
    shared: Delayed | None,
) -> tuple[list[Future], list[PartitionCheck]]:
    """Check every partition once; the typed rows stay on the cluster (futures)."""
    import dask

    total = frame.npartitions
    pieces = [
        dask.delayed(check_partition, nout=2, pure=True)(part, i, schema, total, shared)
        for i, part in enumerate(frame.to_delayed())
    ]
    # One compute for both halves, so each partition is read and typed once.
    futures = client.compute([p[0] for p in pieces] + [p[1] for p in pieces])
    return futures[:total], client.gather(futures[total:])


@dataclass
class OnCluster:
    """Prepared training data whose training rows stay on the workers."""

    prepared: Prepared
    typed: list[Any]  # futures of the typed partitions
    plan: SplitPlan
    sizes: list[int]  # rows per partition
    newest: float  # time: the newest date (ns); row order: the number of rows


def prepare_on_cluster(
    client: Client,
    frame: dd.DataFrame,
    schema: LeadSchema,
    settings: Settings,
    say: Progress,
    sample_rows: int,
    outcomes: Outcomes | None,
) -> OnCluster:
    """``modeling.prepare.prepare_training`` for partitions; see the module's docstring."""
    import dask

    shared = None
    if outcomes is not None:
        shared = dask.delayed(outcomes, pure=True)
        frame = label_partitions(frame, outcomes, shared)
    say(f"Validating {frame.npartitions} partitions against the schema")
    check_columns(list(frame.columns), schema)
    schema, notes = settle_day_first(schema, frame.get_partition(0).compute())
    checked, checks = _typed_partitions(client, frame, schema, outcomes, shared)
    if outcomes is not None:  # before the table checks: "no key matched" says more
        notes = outcome_notes(outcomes, len(set().union(*(c.matched for c in checks)))) + notes
    reports = [c.report for c in checks]
    classes = target_classes(reports, schema)
    schema, warnings = combine_reports(reports, schema)
    if schema.id and schema.id in frame.columns:
        _check_ids(client, checked, schema)

    say("Settling the labels: open and young leads")
    labelled = label_on_cluster(client, checked, reports, classes, schema, settings)
    checked.clear()  # the labelled rows replace them on the workers
    typed, summary = labelled.typed, labelled.summary
    warnings = [*notes, *warnings, *labelled.notes]

    say("Splitting by time" if schema.time else "Splitting")
    has_time = bool(schema.time and schema.time in frame.columns)
    stats = run_on_partitions(client, typed, labelled_stats, schema)
    plan = plan_split(client, typed, stats, schema, settings, sample_rows, has_time)
    categorical = [f.name for f in schema.features if f.kind == "categorical"]
    parts = run_on_partitions(client, typed, slice_partition, plan, categorical)
    counts = sum(p["counts"] for p in parts)
    for s, label in enumerate(("train", "validation", "test")):
        check_both_classes(label, int(counts[s, 0]), int(counts[s, 1]))
    sample = pd.concat([p.pop("sample") for p in parts], ignore_index=True)

    level_counts = {
        n: pd.concat([p["levels"][n] for p in parts]).groupby(level=0).sum() for n in categorical
    }
    encoder = fit_encoder(schema, level_counts)
    total = int(counts[:, 0].sum())
    if has_time:  # the sample in time order, leads with no date last (as on one machine)
        sample = sample.sort_values(str(schema.time), kind="stable", na_position="last")
        sample = sample.reset_index(drop=True)
    positions = sample[POSITION_COLUMN].to_numpy(dtype=np.float64)
    sampled = labelled.of_sample(sample, schema)
    y = sampled.y
    typed_sample = sampled.frame.drop(columns=[SLICE_COLUMN, POSITION_COLUMN])
    folds = backtest_folds(
        typed_sample,
        y,
        schema,
        n_folds=min(DASK_FOLDS, settings.backtest_folds),
        test_fraction=settings.test_fraction,
        seed=settings.seed,
        known_at=sampled.known_at,
        maturity=sampled.maturity,
    )
    ages: Ages | None = lead_ages(typed_sample, schema)
    if ages is not None and ages.unit == "leads":  # positions in the table, not the sample
        ages = Ages(total - 1 - positions, "leads")
    newest = float(total)
    if has_time:
        newest = max((s.last for s in stats if s.dated), default=np.nan)
    prepared = encode_and_audit(
        Rows(typed_sample, np.empty((len(y), 0)), y),
        schema,
        folds,
        ages,
        settings,
        say,
        warnings=warnings,
        data_print={},
        encoder=encoder,
        total_rows=total,
        converted=sampled.converted,
    )
    cluster = {
        "workers": len(client.scheduler_info().get("workers", {})),
        "partitions": frame.npartitions,
        "client_rows": len(y),
    }
    prepared = replace(prepared, label=summary, meta={"dask": cluster})
    plan = replace(plan, schema=prepared.schema)
    sizes = [int(p["counts"][:, 0].sum()) for p in parts]
    return OnCluster(prepared, typed, plan, sizes, newest)
