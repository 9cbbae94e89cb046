"""Train on a lead table larger than one machine: the single-machine steps, run per partition.

Nothing here re-implements leadml's rules; it decides *where* they run:

1. every partition is read once and checked by ``data.validate.check_rows`` (the function
   ``validate`` calls): its rows are typed once and kept on the workers, its report comes back;
2. ``data.validate.combine_reports`` judges the table from those reports, as for one file,
   and :mod:`leadml.cluster.labels` settles its labels (open, young leads) the same way;
3. the split (:mod:`leadml.cluster.split`): the newest leads apart, the category levels of the
   older ones (the headline fold's training leads), and a seeded uniform sample of the table
   for the client, from the typed partitions;
4. on the client's sample, single-machine training's own steps: the backtest's folds, the
   encoder, the leakage audit on the headline fold's training rows, and the backtest itself
   (recency and rounds chosen, baselines beside it, held-out scores for calibration);
5. ``lightgbm.dask`` on every lead of every partition, for the backtest's rounds (grown with
   the rows) and with its recency weights: the shipped model learns from all of the history;
6. ``modeling.finish.finish_training``: calibration, figures, bands, the MLflow run and the
   bundle are those of single-machine training.

Input and output paths must be reachable under the same name by the client and every worker
(one machine, or a shared disk); the workers need leadml installed, at the client's version.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from leadml.cluster.labels import label_on_cluster, labelled_stats
from leadml.cluster.partitions import (
    CSV_BLOCKSIZE,
    read_partitions,
    run_on_partitions,
    type_drift,
)
from leadml.cluster.split import (
    TEST,
    TRAIN,
    VALID,
    Y_COLUMN,
    SplitPlan,
    plan_split,
)
from leadml.config import Settings
from leadml.data.fingerprint import combine_fingerprints, fingerprint
from leadml.data.outcomes import (
    Outcomes,
    check_lead_columns,
    label_leads,
    matched_keys,
    outcome_notes,
)
from leadml.data.split import backtest_folds, check_both_classes
from leadml.data.timeline import stamp_values
from leadml.data.validate import (
    RowReport,
    check_columns,
    check_rows,
    combine_reports,
    duplicate_ids_error,
    settle_day_first,
    target_classes,
)
from leadml.features.encoder import MAX_LEVELS, MIN_LEVEL_COUNT, FeatureEncoder
from leadml.modeling.backtest import shipped_rounds
from leadml.modeling.booster import Fitted
from leadml.modeling.finish import Progress, TrainResult, finish_training
from leadml.modeling.prepare import Prepared, Rows, encode_and_audit
from leadml.modeling.recency import DAY_NS, Ages, decay, lead_ages, parse_recency
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    import dask.dataframe as dd
    from dask.delayed import Delayed
    from distributed import Client, Future

#: Rows of each slice the client may hold, on average, for the backtest.
SAMPLE_ROWS = 200_000
#: The backtest's folds on the client's sample (fewer than on one machine: it is a sample).
DASK_FOLDS = 3
_SLICE = "__leadml_slice__"
_POSITION = "__leadml_position__"


# -- one partition, on a worker ------------------------------------------------------------------
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
        **{_SLICE: slices[lent], _POSITION: first + np.flatnonzero(lent)}
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


# -- the table, from the client ------------------------------------------------------------------
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


def train_dask(
    source: str | Path,
    schema: LeadSchema,
    client: Client,
    settings: Settings | None = None,
    out: str | Path | None = None,
    experiment: str | None = None,
    track: bool = True,
    progress: Progress | None = None,
    sample_rows: int = SAMPLE_ROWS,
    blocksize: str | int = CSV_BLOCKSIZE,
    outcomes: Outcomes | None = None,
    name: str | None = None,
    force: bool = False,
) -> TrainResult:
    """Train on a partitioned table with ``lightgbm.dask``; same bundle and run as
    ``modeling.train.train_leads``, whose steps after fitting it shares.

    With ``outcomes`` the leads are labelled on the workers from the keys of converted leads
    (``--outcomes FILE --on KEY``), exactly as single-machine training labels them.
    """
    from leadml.modeling.train import open_run, run_backtest

    settings = settings or Settings()
    recency = parse_recency(settings.recency)
    run = open_run(
        settings, schema, name=name, experiment=experiment, track=track, out=out,
        progress=progress, source=str(source), force=force,
    )  # fmt: skip
    say = run.say
    frame = read_partitions(source, blocksize)
    try:
        data = _prepare_on_cluster(client, frame, schema, settings, say, sample_rows, outcomes)
        prepared = data.prepared
        backtest = run_backtest(prepared, settings, recency, say)
        rounds = shipped_rounds(backtest.chosen.rounds, prepared.folds, len(prepared.rows.y))
        scale = 1.0
        half_life = backtest.chosen.half_life
        if half_life is not None and prepared.ages is not None:  # the sample's unnormalised mean
            scale = float(decay(prepared.ages.values, half_life).mean())
        weighing = Recency(backtest.chosen.half_life, data.newest, scale)
        fitted = _fit_on_cluster(client, data, backtest.params, say, rounds, weighing)
    except ValueError as exc:
        drift = type_drift(exc, source)
        if drift is None:
            raise
        raise drift from None
    return finish_training(fitted, prepared, backtest, run)


@dataclass
class _OnCluster:
    """Prepared training data whose training rows stay on the workers."""

    prepared: Prepared
    typed: list[Any]  # futures of the typed partitions
    plan: SplitPlan
    sizes: list[int]  # rows per partition
    newest: float  # time: the newest date (ns); row order: the number of rows


def _prepare_on_cluster(
    client: Client,
    frame: dd.DataFrame,
    schema: LeadSchema,
    settings: Settings,
    say: Progress,
    sample_rows: int,
    outcomes: Outcomes | None,
) -> _OnCluster:
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
    positions = sample[_POSITION].to_numpy(dtype=np.float64)
    sampled = labelled.of_sample(sample, schema)
    y = sampled.y
    typed_sample = sampled.frame.drop(columns=[_SLICE, _POSITION])
    folds = backtest_folds(
        typed_sample, y, schema, min(DASK_FOLDS, settings.backtest_folds),
        settings.test_fraction, settings.seed, known_at=sampled.known_at, maturity=sampled.maturity,
    )  # fmt: skip
    ages: Ages | None = lead_ages(typed_sample, schema)
    if ages is not None and ages.unit == "leads":  # positions in the table, not the sample
        ages = Ages(total - 1 - positions, "leads")
    newest = float(total)
    if has_time:
        newest = max((s.last for s in stats if s.dated), default=np.nan)
    prepared = encode_and_audit(
        Rows(typed_sample, np.empty((len(y), 0)), y), schema, folds, ages, settings, say,
        warnings=warnings, data_print={}, encoder=encoder, total_rows=total,
        converted=sampled.converted,
    )  # fmt: skip
    prepared.label = summary
    prepared.meta = {
        "dask": {
            "workers": len(client.scheduler_info().get("workers", {})),
            "partitions": frame.npartitions,
            "client_rows": len(y),
        }
    }
    plan = replace(plan, schema=prepared.schema)
    sizes = [int(p["counts"][:, 0].sum()) for p in parts]
    return _OnCluster(prepared, typed, plan, sizes, newest)


def _fit_on_cluster(
    client: Client,
    data: _OnCluster,
    params: dict[str, Any],
    say: Progress,
    rounds: int,
    recency: Recency,
) -> Fitted:
    """``lightgbm.dask`` on every lead of every partition (they stay on the workers, persisted),
    for the backtest's rounds and with its recency weights: the shipped model."""
    import dask
    import dask.array as da
    import lightgbm as lgb
    from distributed import wait

    encoder = data.prepared.encoder
    width = len(encoder.names)
    pieces = [
        dask.delayed(train_partition, pure=True, nout=4)(part, i, data.plan, encoder, recency)
        for i, part in enumerate(data.typed)
    ]
    sized = [(p, n) for p, n in zip(pieces, data.sizes, strict=True) if n]
    x_parts = [da.from_delayed(p[0], shape=(n, width), dtype=np.float64) for p, n in sized]
    y_parts = [da.from_delayed(p[1], shape=(n,), dtype=np.float64) for p, n in sized]
    w_parts = [da.from_delayed(p[2], shape=(n,), dtype=np.float64) for p, n in sized]
    # Submitted together, so each partition is encoded once for all of them.
    pending = client.compute([p[3] for p in pieces])
    x, y, w = client.persist(
        [da.concatenate(x_parts), da.concatenate(y_parts), da.concatenate(w_parts)]
    )
    data.prepared.data_print = combine_fingerprints(client.gather(pending))
    wait([x, y, w])
    # The typed rows are encoded now: dropping the last reference frees the workers' memory
    # (cancelling them would cancel the encoded rows that depend on them too).
    data.typed.clear()
    del pieces, sized

    fixed = {k: v for k, v in params.items() if k not in ("num_threads",)}
    say(f"Fitting the shipped model on all {sum(data.sizes):,} leads across the cluster")
    model = lgb.DaskLGBMClassifier(client=client, n_estimators=rounds, **fixed)
    # lightgbm.dask warns that n_jobs is ignored (the workers own their cores) and prints
    # "Finding random open ports for workers": neither is for the user.
    with catch_warnings(), redirect_stdout(io.StringIO()):
        simplefilter("ignore", UserWarning)
        model.fit(
            x,
            y,
            sample_weight=None if recency.half_life is None else w,
            feature_name=encoder.names,
            categorical_feature=encoder.categorical_indices,
        )
    client.cancel([x, y, w])
    final = lgb.Booster(model_str=model.booster_.model_to_string())
    final.best_iteration = rounds
    return Fitted(final, params)
