"""Train on a lead table larger than one machine: the single-machine steps, run per partition.

Nothing here re-implements leadml's rules; it decides *where* they run:

1. every partition is read once and checked by ``data.validate.check_rows`` (the function
   ``validate`` calls): its rows are typed once and kept on the workers, its report comes back;
2. ``data.validate.combine_reports`` judges the table from those reports, as for one file;
3. the split (:mod:`leadml.cluster.split`), the category levels of the training rows, and a
   seeded sample of each slice for the client, from the typed partitions;
4. the leakage audit on the sample of training rows, with the training encoder;
5. ``lightgbm.dask`` on the encoded training rows, stopping early on the validation sample;
6. ``modeling.finish.finish_training``: calibration, evaluation, bands, the MLflow run and the
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

from leadml.cluster.partitions import (
    CSV_BLOCKSIZE,
    read_partitions,
    run_on_partitions,
    type_drift,
)
from leadml.cluster.split import (
    SLICES,
    TEST,
    TRAIN,
    VALID,
    Y_COLUMN,
    PartStats,
    SplitPlan,
    part_stats,
    plan_split,
)
from leadml.config import Settings
from leadml.data.fingerprint import combine_fingerprints, fingerprint
from leadml.data.leakage import audit_leakage
from leadml.data.outcomes import (
    Outcomes,
    check_lead_columns,
    label_leads,
    matched_keys,
    outcome_notes,
)
from leadml.data.split import check_both_classes
from leadml.data.validate import (
    RowReport,
    check_columns,
    check_rows,
    combine_reports,
    duplicate_ids_error,
    settle_day_first,
)
from leadml.features.encoder import MAX_LEVELS, MIN_LEVEL_COUNT, FeatureEncoder
from leadml.modeling.booster import EARLY_STOPPING_ROUNDS, MAX_ROUNDS, Fitted, lgb_params
from leadml.modeling.finish import Progress, TrainResult, finish_training
from leadml.modeling.prepare import Prepared, Rows
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    import dask.dataframe as dd
    from dask.delayed import Delayed
    from distributed import Client, Future

#: Rows of each slice the client may hold for calibration, evaluation and baselines.
SAMPLE_ROWS = 200_000
_SLICE = "__leadml_slice__"


# -- one partition, on a worker ------------------------------------------------------------------
@dataclass
class PartitionCheck:
    """What checking one partition found; small, it travels back to the client."""

    report: RowReport
    stats: PartStats
    matched: set[str] = field(default_factory=set)  # outcome keys found here (--outcomes)


def check_partition(
    frame: pd.DataFrame,
    index: int,
    schema: LeadSchema,
    total: int,
    outcomes: Outcomes | None = None,
) -> tuple[pd.DataFrame, PartitionCheck]:
    """``check_rows`` on one partition, its messages naming the partition: the typed labeled
    rows (with their 0/1 outcome) stay on the worker, the report goes to the client. With
    ``outcomes`` the outcome keys found in the partition are collected in the same pass."""
    checked = check_rows(frame, schema, where=f"partition {index + 1} of {total}")
    typed = checked.frame.assign(**{Y_COLUMN: checked.y})
    found = PartitionCheck(checked.report, part_stats(typed, schema))
    if outcomes is not None:  # counted in this pass: no extra read of the table for it
        found.matched = matched_keys(typed, outcomes)
    return typed, found


def slice_partition(
    typed: pd.DataFrame, index: int, plan: SplitPlan, categorical: list[str]
) -> dict[str, Any]:
    """Per slice: rows and conversions; category counts of the training rows; the lent rows."""
    y = typed[Y_COLUMN].to_numpy()
    slices = plan.slices(typed, index)
    counts = np.zeros((3, 2), dtype=np.int64)
    for s in (TRAIN, VALID, TEST):
        counts[s] = (int((slices == s).sum()), int(y[slices == s].sum()))
    train = typed.loc[slices == TRAIN]
    levels = {name: train[name].value_counts() for name in categorical}
    lent = plan.lent(slices, index)
    sample = typed.loc[lent].assign(**{_SLICE: slices[lent]})
    return {"counts": counts, "levels": levels, "sample": sample}


def train_partition(
    typed: pd.DataFrame, index: int, plan: SplitPlan, encoder: FeatureEncoder
) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    """The training rows encoded for LightGBM, and the partition's data fingerprint."""
    y = typed[Y_COLUMN].to_numpy(dtype=np.int8)
    train = plan.slices(typed, index) == TRAIN
    print_ = fingerprint(typed, y, plan.schema) if len(typed) else None
    return encoder.transform(typed.loc[train]), y[train].astype(np.float64), print_


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
) -> TrainResult:
    """Train on a partitioned table with ``lightgbm.dask``; same bundle and run as
    ``modeling.train.train_leads``, whose steps after fitting it shares.

    With ``outcomes`` the leads are labelled on the workers from the keys of converted leads
    (``--outcomes FILE --on KEY``), exactly as single-machine training labels them.
    """
    from leadml.modeling.train import open_run

    settings = settings or Settings()
    run = open_run(
        settings, schema, name=name, experiment=experiment, track=track, out=out,
        progress=progress, source=str(source),
    )  # fmt: skip
    say = run.say
    frame = read_partitions(source, blocksize)
    try:
        data = _prepare_on_cluster(client, frame, schema, settings, say, sample_rows, outcomes)
        fitted = _fit_on_cluster(client, data, settings, say)
    except ValueError as exc:
        drift = type_drift(exc, source)
        if drift is None:
            raise
        raise drift from None
    return finish_training(fitted, data.prepared, run)


@dataclass
class _OnCluster:
    """Prepared training data whose training rows stay on the workers."""

    prepared: Prepared
    typed: list[Any]  # futures of the typed partitions
    plan: SplitPlan
    sizes: list[int]  # training rows per partition


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
    typed, checks = _typed_partitions(client, frame, schema, outcomes, shared)
    if outcomes is not None:  # before the table checks: "no key matched" says more
        notes = outcome_notes(outcomes, len(set().union(*(c.matched for c in checks)))) + notes
    schema, warnings = combine_reports([c.report for c in checks], schema, settings.min_class_count)
    warnings = [*notes, *warnings]
    if schema.id and schema.id in frame.columns:
        _check_ids(client, typed, schema)

    say("Splitting by time" if schema.time else "Splitting")
    has_time = bool(schema.time and schema.time in frame.columns)
    stats = [c.stats for c in checks]
    plan = plan_split(client, typed, stats, schema, settings, sample_rows, has_time)
    categorical = [f.name for f in schema.features if f.kind == "categorical"]
    parts = run_on_partitions(client, typed, slice_partition, plan, categorical)
    counts = sum(p["counts"] for p in parts)
    for s, label in enumerate(("train", "validation", "test")):
        check_both_classes(label, int(counts[s, 0]), int(counts[s, 1]))
    sample = pd.concat([p.pop("sample") for p in parts], ignore_index=True)

    say(f"Encoding {len(schema.features)} features from {int(counts[TRAIN, 0]):,} leads")
    level_counts = {
        n: pd.concat([p["levels"][n] for p in parts]).groupby(level=0).sum() for n in categorical
    }
    encoder = fit_encoder(schema, level_counts)
    lent = {
        s: sample.loc[sample[_SLICE] == s].drop(columns=[_SLICE]).reset_index(drop=True)
        for s in (TRAIN, VALID, TEST)
    }
    rows = {
        s: Rows(f, encoder.transform(f), f[Y_COLUMN].to_numpy(dtype=np.int8))
        for s, f in lent.items()
    }

    say("Checking the training leads for columns that leak the outcome")
    train = rows[TRAIN]
    audit = audit_leakage(train.frame, train.x, train.y, schema, seed=settings.seed)
    if audit.dropped:
        schema = audit.kept(schema)
        keep = [encoder.names.index(n) for n in schema.feature_names]
        encoder = encoder.select(schema.feature_names)
        rows = {s: Rows(r.frame, r.x[:, keep], r.y) for s, r in rows.items()}
        plan = replace(plan, schema=schema)
    prepared = Prepared(
        schema=schema,
        encoder=encoder,
        train=rows[TRAIN],
        valid=rows[VALID],
        test=rows[TEST],
        split_method=plan.method,
        rows={label: int(counts[s, 0]) for s, label in enumerate(SLICES)},
        data_print={},
        warnings=[*warnings, *audit.warnings],
        leakage=audit.to_dict(),
        meta={
            "dask": {
                "workers": len(client.scheduler_info().get("workers", {})),
                "partitions": frame.npartitions,
                "client_rows": {label: len(rows[s].y) for s, label in enumerate(SLICES)},
            }
        },
    )
    sizes = [int(p["counts"][TRAIN, 0]) for p in parts]
    return _OnCluster(prepared, typed, plan, sizes)


def _fit_on_cluster(client: Client, data: _OnCluster, settings: Settings, say: Progress) -> Fitted:
    """``lightgbm.dask`` in blocks of ``EARLY_STOPPING_ROUNDS``, each continuing the last, until
    the validation log loss has not improved for that many rounds: single-machine training's
    early stopping, which ``lightgbm.dask`` does not support. The best round is kept.

    The training rows stay on the workers (persisted); the loss is computed on the client's
    validation rows (the whole slice unless it is larger than ``sample_rows``).
    """
    import dask
    import dask.array as da
    import lightgbm as lgb
    from distributed import wait

    encoder, valid = data.prepared.encoder, data.prepared.valid
    params = lgb_params(encoder, settings.seed, settings.num_threads)
    width = len(encoder.names)
    pieces = [
        dask.delayed(train_partition, pure=True, nout=3)(part, i, data.plan, encoder)
        for i, part in enumerate(data.typed)
    ]
    x_parts = [
        da.from_delayed(p[0], shape=(n, width), dtype=np.float64)
        for p, n in zip(pieces, data.sizes, strict=True)
        if n
    ]
    y_parts = [
        da.from_delayed(p[1], shape=(n,), dtype=np.float64)
        for p, n in zip(pieces, data.sizes, strict=True)
        if n
    ]
    # Submitted together, so each partition is encoded once for both.
    pending = client.compute([p[2] for p in pieces])
    x, y = client.persist([da.concatenate(x_parts), da.concatenate(y_parts)])
    data.prepared.data_print = combine_fingerprints(client.gather(pending))
    wait([x, y])
    # The typed rows are encoded now: dropping the last reference frees the workers' memory
    # (cancelling them would cancel the encoded rows that depend on them too).
    data.typed.clear()
    del pieces

    fixed = {k: v for k, v in params.items() if k not in ("num_threads", "seed")}
    booster = None
    losses: list[float] = []
    raw = np.zeros(len(valid.y))
    block = 0
    total = sum(data.sizes)
    while True:
        say(
            f"Fitting LightGBM on {total:,} leads across the cluster "
            f"(rounds {len(losses) + 1}–{len(losses) + EARLY_STOPPING_ROUNDS})"
        )
        model = lgb.DaskLGBMClassifier(
            client=client,
            n_estimators=EARLY_STOPPING_ROUNDS,
            seed=params["seed"] + block,
            **fixed,
        )
        # lightgbm.dask warns that n_jobs is ignored (the workers own their cores) and prints
        # "Finding random open ports for workers" on every block: neither is for the user.
        with catch_warnings(), redirect_stdout(io.StringIO()):
            simplefilter("ignore", UserWarning)
            model.fit(
                x,
                y,
                feature_name=encoder.names,
                categorical_feature=encoder.categorical_indices,
                init_model=booster,
            )
        booster = model.booster_
        for k in range(len(losses), booster.current_iteration()):
            raw += booster.predict(valid.x, raw_score=True, start_iteration=k, num_iteration=1)
            losses.append(float(np.mean(np.logaddexp(0.0, raw) - valid.y * raw)))
        best = int(np.argmin(losses)) + 1
        if len(losses) - best >= EARLY_STOPPING_ROUNDS or len(losses) >= MAX_ROUNDS:
            break
        block += 1
    client.cancel([x, y])
    final = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    final.best_iteration = best
    return Fitted(final, params)
