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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from warnings import catch_warnings, simplefilter

import numpy as np

from leadml.cluster.partitions import CSV_BLOCKSIZE, read_partitions, type_drift
from leadml.cluster.prepare import OnCluster, prepare_on_cluster
from leadml.cluster.worker_steps import Recency, train_partition
from leadml.config import Settings
from leadml.data.fingerprint import combine_fingerprints
from leadml.data.outcomes import Outcomes
from leadml.modeling.backtest import shipped_rounds
from leadml.modeling.booster import Fitted
from leadml.modeling.finish import Progress, TrainResult, finish_training
from leadml.modeling.recency import decay, parse_recency
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    from distributed import Client

#: Rows of each slice the client may hold, on average, for the backtest.
SAMPLE_ROWS = 200_000


def train_dask(
    source: str | Path,
    schema: LeadSchema,
    client: Client,
    settings: Settings | None = None,
    *,
    out: str | Path | None = None,
    experiment: str | None = None,
    track: bool = True,
    progress: Progress | None = None,
    sample_rows: int = SAMPLE_ROWS,
    blocksize: str | int = CSV_BLOCKSIZE,
    outcomes: Outcomes | None = None,
    name: str | None = None,
    force: bool = False,
    experiment_id: str | None = None,
) -> TrainResult:
    """Train on a partitioned table with ``lightgbm.dask``; same bundle and run as
    ``modeling.train.train_leads``, whose steps after fitting it shares (``experiment_id``:
    the caller connected to the store already, as there).

    With ``outcomes`` the leads are labelled on the workers from the keys of converted leads
    (``--outcomes FILE --on KEY``), exactly as single-machine training labels them.
    """
    from leadml.modeling.train import open_run, run_backtest

    settings = settings or Settings()
    recency = parse_recency(settings.recency)
    run = open_run(
        settings,
        schema,
        name=name,
        experiment=experiment,
        track=track,
        out=out,
        progress=progress,
        source=str(source),
        force=force,
        experiment_id=experiment_id,
    )
    run.specialists = False  # per-segment figures, calibration and bands of the global model
    say = run.say
    frame = read_partitions(source, blocksize)
    try:
        data = prepare_on_cluster(client, frame, schema, settings, say, sample_rows, outcomes)
        prepared = data.prepared
        backtest = run_backtest(prepared, settings, recency, say)
        rounds = shipped_rounds(backtest.chosen.rounds, prepared.folds, len(prepared.rows.y))
        scale = 1.0
        half_life = backtest.chosen.half_life
        if half_life is not None and prepared.ages is not None:  # the sample's unnormalised mean
            scale = float(decay(prepared.ages.values, half_life).mean())
        weighing = Recency(backtest.chosen.half_life, data.newest, scale)
        fitted, data_print = _fit_on_cluster(client, data, backtest.params, say, rounds, weighing)
        prepared = replace(prepared, data_print=data_print)
    except ValueError as exc:
        drift = type_drift(exc, source)
        if drift is None:
            raise
        raise drift from None
    return finish_training(fitted, prepared, backtest, run)


def _fit_on_cluster(
    client: Client,
    data: OnCluster,
    params: dict[str, Any],
    say: Progress,
    rounds: int,
    recency: Recency,
) -> tuple[Fitted, dict[str, Any]]:
    """``lightgbm.dask`` on every lead of every partition (they stay on the workers, persisted),
    for the backtest's rounds and with its recency weights: the shipped model, and the data
    fingerprint of every lead (gathered from the partitions as they are encoded)."""
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
    data_print = combine_fingerprints(client.gather(pending))
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
    return Fitted(final, params), data_print
