"""Lead tables larger than one process: partitioned scoring and training on a Dask cluster.

Dask, not a home-made pool: it already schedules partitions over processes and machines, keeps
memory bounded by the partition, and reports progress. Nothing here re-implements leadml's
logic; it only decides *where* it runs:

* **Scoring** runs ``LeadModel.score_frame`` (and ``explain.explanation_columns``) on one
  partition at a time, so a lead gets exactly the score single-process ``leadml score`` gives
  it. Every worker writes its own Parquet part; the client only sees row and grade counts.
* **Training** validates each partition with ``data.validate``, splits by time (or at random
  with a seed), freezes the category levels of the training rows, fits with ``lightgbm.dask``
  and then hands the fitted booster to ``train.finish_training``: the calibration, evaluation,
  grade bands, MLflow run and bundle are those of single-machine training. The steps that need
  rows on the client (calibration, evaluation, baselines) get at most ``sample_rows`` rows of
  each slice, drawn at random with the seed; below that they see the whole slice.

Input and output paths must be reachable under the same name by the client and every worker
(one machine, or a shared disk); the workers need leadml installed, at the client's version.
"""

from __future__ import annotations

import glob as globbing
import hashlib
import io
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd

from leadml import __version__
from leadml.config import Settings
from leadml.data import fingerprint, target_vector, validate
from leadml.errors import DataError, LeadMLError
from leadml.features import (
    MAX_LEVELS,
    MIN_LEVEL_COUNT,
    FeatureEncoder,
    clean_text,
    parse_dates,
    resolve_day_first,
)
from leadml.model import LeadModel, swap_in
from leadml.qualify import GRADES
from leadml.readers import (
    Outcomes,
    check_lead_columns,
    label_leads,
    matched_keys,
    outcome_notes,
)
from leadml.schema import LeadSchema

if TYPE_CHECKING:
    import dask.dataframe as dd
    from dask.delayed import Delayed
    from distributed import Client

    from leadml.train import TrainResult

#: A LocalCluster as the 2-core machines run it: one single-threaded process per core.
LOCAL_WORKERS = 2
#: CSV bytes per partition: what one worker holds in memory at a time (a few times this).
CSV_BLOCKSIZE = "32MB"
#: Rows of each slice the client may hold for calibration, evaluation and baselines.
SAMPLE_ROWS = 200_000
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
#: Columns ``score`` adds; an input that already has them gets fresh ones.
SCORE_COLUMNS = ("probability", "score", "grade", "tier", "stage")
#: Written by every score run, so a re-run knows which folder it may replace.
PART_PREFIX = "part-"

Progress = Callable[[str], None]
PartitionsDone = Callable[[int, int], None]


# -- the cluster ---------------------------------------------------------------------------------
@contextmanager
def dask_client(address: str | None = None) -> Iterator[Client]:
    """A client of the scheduler at ``address`` (else ``DASK_SCHEDULER_ADDRESS``), or of a
    LocalCluster of single-threaded worker processes that is closed on exit.

    One thread per worker: LightGBM then uses one core per partition and the workers never
    fight over the cores. Workers must run leadml at the client's version: a model pickled by one
    version and scored by another would give different scores without saying so.
    """
    import dask
    from distributed import Client, LocalCluster

    address = address or dask.config.get("scheduler-address", None)
    with ExitStack() as stack:
        try:
            if address:
                client = stack.enter_context(Client(address, timeout="15s"))
            else:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=LOCAL_WORKERS,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(Client(cluster))
        except (OSError, TimeoutError) as exc:
            where = f"reach the Dask scheduler at {address}" if address else "start local Dask"
            raise LeadMLError(f"cannot {where}: {_first_line(exc)}") from None
        _check_workers(client, address)
        yield client


def _check_workers(client: Client, address: str | None) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        client.wait_for_workers(1, timeout=30)
    except TimeoutError:
        raise LeadMLError(f"no Dask worker joined the scheduler at {address} in 30 s") from None
    try:
        versions = client.run(version, "leadml")
    except PackageNotFoundError:
        raise LeadMLError(
            "the Dask workers do not have leadml installed; install it on every worker"
        ) from None
    wrong = sorted({v for v in versions.values() if v != __version__})
    if wrong:
        raise LeadMLError(
            f"the Dask workers run leadml {', '.join(wrong)}, this client runs {__version__}; "
            "install the same version everywhere"
        )
    if address is None:  # our own LocalCluster: its workers print to the user's terminal
        client.run(_quiet_worker)


def _quiet_worker() -> None:
    """LightGBM's network setup prints to stdout, which a local worker shares with the user's
    terminal; errors still reach the client as exceptions, and stderr stays open."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


# -- reading -------------------------------------------------------------------------------------
def partition_files(source: str | Path) -> tuple[list[str], str]:
    """The files behind a folder, glob or single file, sorted, and their kind (csv / parquet)."""
    text = str(source)
    path = Path(text)
    if any(ch in text for ch in "*?["):
        files = sorted(globbing.glob(text))
    elif path.is_dir():
        files = sorted(
            str(p) for p in path.iterdir() if p.is_file() and not p.name.startswith((".", "_"))
        )
    elif path.is_file():
        files = [text]
    else:
        raise DataError(f"data not found: {text}")
    kinds = {_kind(f) for f in files}
    kinds.discard(None)
    if not kinds:
        raise DataError(f"no CSV or Parquet files in {text}")
    if len(kinds) > 1:
        raise DataError(f"{text} mixes CSV and Parquet files; give one kind")
    kind = kinds.pop()
    return [f for f in files if _kind(f) == kind], kind


def _kind(name: str) -> str | None:
    suffix = Path(name).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return "csv" if suffix in CSV_SUFFIXES else None


def read_partitions(source: str | Path, blocksize: str | int = CSV_BLOCKSIZE) -> dd.DataFrame:
    """A lazy Dask frame over partitioned CSV or Parquet: one partition per Parquet file (or
    row-group run) or per ``blocksize`` of CSV, read only when a task needs it.

    CSV encoding and delimiter are detected on the first file, as ``leadml.readers`` does for
    one file; column types come from a sample of it (Parquet files carry their own types), and
    so do the columns written with decimal commas, parsed the same way in every part.
    """
    import dask.dataframe as dd

    from leadml.readers import (
        decimal_comma_columns,
        detect_encoding,
        parse_decimal_commas,
        sniff_delimiter,
    )

    files, kind = partition_files(source)
    try:
        if kind == "parquet":
            return dd.read_parquet(files, index=False)
        with open(files[0], "rb") as handle:
            raw = handle.read(1 << 16)
        if not raw.strip():
            raise DataError(f"{files[0]} is empty")
        encoding = detect_encoding(raw)
        sep = sniff_delimiter(raw.decode(encoding, errors="replace"))
        commas: list[str] = []
        if sep != ",":  # ;-separated European exports write 1.234,5
            head = pd.read_csv(files[0], sep=sep, encoding=encoding, nrows=50_000, dtype=str)
            commas = decimal_comma_columns(head)
        frame = dd.read_csv(
            files,
            sep=sep,
            encoding=encoding,
            blocksize=blocksize,
            assume_missing=True,  # integers with gaps further down stay readable
            sample=1 << 20,
            dtype=dict.fromkeys(commas, "object"),
        )
        if not commas:
            return frame
        meta = frame._meta.assign(**{c: pd.Series(dtype=float) for c in commas})
        return frame.map_partitions(parse_decimal_commas, commas, meta=meta)
    except DataError:
        raise
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot read {source}: {_first_line(exc)}") from None


def first_rows(source: str | Path, rows: int = 50_000) -> pd.DataFrame:
    """Up to ``rows`` rows of the first partition, e.g. to infer a schema from."""
    return read_partitions(source).get_partition(0).compute().head(rows)


def _type_drift(exc: ValueError, source: str | Path) -> DataError | None:
    """Dask's error for a CSV column whose type changes after the block it sampled (say, empty
    in the first rows and text further on), as one line; None for any other ValueError."""
    text = str(exc)
    if "Mismatched dtypes" not in text:
        return None
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("|")]
    columns = ", ".join(f"'{c}'" for c in rows[1:]) or "?"
    return DataError(
        f"{source}: the type of column {columns} changes between parts of the CSV (e.g. empty "
        "at first, text further on); convert the data to Parquet, which stores its types"
    )


# -- scoring -------------------------------------------------------------------------------------
def score_partition(
    frame: pd.DataFrame, model: LeadModel, explain: bool = False, framework: str = "bant"
) -> pd.DataFrame:
    """One partition scored exactly as ``leadml score`` scores a file: every input column (id
    first), then probability, score, grade, tier, stage, and with ``explain`` the criteria and
    reasons. LightGBM gets one thread: a worker owns one core."""
    frame = frame.drop(columns=[c for c in SCORE_COLUMNS if c in frame.columns])
    frame = frame.reset_index(drop=True)
    parts = [frame, model.score_frame(frame, num_threads=1).reset_index(drop=True)]
    if explain:
        from leadml.explain import explanation_columns

        parts.append(
            explanation_columns(model, frame, framework, num_threads=1).reset_index(drop=True)
        )
    result = pd.concat(parts, axis=1)
    key = model.schema.id
    if key and key in result.columns:
        result = result[[key, *(c for c in result.columns if c != key)]]
    return result


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
    used = [c for c in dict.fromkeys(model.encoder.sources.get(n, n) for n in model.feature_names)]
    absent = [c for c in used if c not in columns]
    if len(absent) == len(used):
        raise DataError(
            f"none of the model's feature columns are in {source} "
            f"(expected e.g. {', '.join(used[:5])}); is this the right data?"
        )
    warnings = []
    if absent:
        warnings.append(f"columns missing from the data, scored as unknown: {', '.join(absent)}")
    replaced = [c for c in SCORE_COLUMNS if c in columns]
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
        shared = client.scatter(model, broadcast=True)
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
        drift = _type_drift(exc, source)
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


# -- training ------------------------------------------------------------------------------------
TRAIN, VALID, TEST = 0, 1, 2
SLICES = ("train", "valid", "test")
#: How validate says a feature had nothing in it (as opposed to being unusable).
_EMPTY_WORDS = ("has no values at all", "holds no dates")
#: Stand-in target column for validate's row checks (see ``_check_partition``).
_STAND_IN = "__leadml_row_check__"
_SLICE = "__leadml_slice__"
_Y = "__leadml_y__"


@dataclass
class _Checked:
    """What validating one partition found; small, it travels back to the client."""

    labeled: int
    positives: int
    unlabeled: int
    values: list[str]
    kept: list[str]  # features with values here (or not seen to be unusable)
    warnings: list[str]
    refused: list[str] = field(default_factory=list)  # left out for a reason other than empty
    dated: int = 0  # labeled rows with a date in the time column
    first: float = np.nan  # their earliest and latest dates (ns)
    last: float = np.nan
    matched: set[str] = field(default_factory=set)  # outcome keys found here (--outcomes)


def _labeled(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Rows with an outcome, as ``validate`` keeps them (unlabeled rows are left out)."""
    return frame.loc[frame[target].notna().to_numpy()].reset_index(drop=True)


def _check_partition(
    frame: pd.DataFrame,
    index: int,
    schema: LeadSchema,
    total: int,
    outcomes: Outcomes | None = None,
) -> _Checked:
    """``data.validate``'s row checks on one partition, with messages naming the partition.

    ``validate`` also judges the whole table (both classes present, enough of each), which one
    partition cannot: a month of leads may hold no conversion at all. So the real target is
    checked here with ``target_vector`` and counted on the client, while ``validate`` sees a
    stand-in target that always has both classes: the partition's rows are 0 and one blank row
    is 1. The blank row (no values, an id of its own) passes every row check, and it comes
    last, so row numbers in messages are the partition's own. With ``outcomes`` the outcome
    keys found in the partition are collected in the same pass.
    """
    where = f"partition {index + 1} of {total}"
    try:
        rows = _labeled(frame, schema.target)
        y = target_vector(rows[schema.target], schema.positive)
        values = rows[schema.target].astype("string").str.strip().dropna().unique()
        if not len(rows):
            return _Checked(0, 0, len(frame), [], [], [])  # no evidence either way
        blank = pd.DataFrame({c: pd.Series([None], dtype=object) for c in rows.columns})
        if schema.id and schema.id in rows.columns:
            blank[schema.id] = _STAND_IN
        probe = pd.concat([rows, blank], ignore_index=True)
        probe[_STAND_IN] = np.r_[np.zeros(len(rows), dtype=int), 1]
        stand_in = schema.model_copy(update={"target": _STAND_IN, "positive": "1"})
        checked = validate(probe, stand_in, min_class_count=1)
    except DataError as exc:
        raise DataError(f"{where}: {exc}") from None
    kept = checked.schema.feature_names
    dropped = [n for n in schema.feature_names if n not in kept]
    # A feature empty in this partition may have values in others: the client judges that.
    # One left out for any other reason (it looks like an identifier) is left out everywhere.
    empty, notes = [], []
    for note in checked.warnings:
        about = [n for n in dropped if f"'{n}'" in note and "left out" in note]
        if about and any(words in note for words in _EMPTY_WORDS):
            empty.extend(about)
        else:
            notes.append(f"{where}: {note}")
    refused = [n for n in dropped if n not in empty]
    checked_rows = _Checked(
        len(rows),
        int(y.sum()),
        len(frame) - len(rows),
        [*values[:10]],
        [n for n in schema.feature_names if n not in refused],
        notes,
        refused,
    )
    if schema.time and schema.time in rows.columns:
        stamps = _stamp_values(rows[schema.time], schema.day_first)
        stamps = stamps[~np.isnan(stamps)]
        if len(stamps):
            checked_rows.dated = len(stamps)
            checked_rows.first, checked_rows.last = float(stamps.min()), float(stamps.max())
    if outcomes is not None:  # counted in this pass: no extra read of the table for it
        checked_rows.matched = matched_keys(rows, outcomes)
    return checked_rows


@dataclass(frozen=True)
class _SplitPlan:
    """How every partition assigns its labeled rows to train / valid / test, the same way on
    every pass, and which of them it lends the client."""

    schema: LeadSchema
    method: str
    cuts: tuple[float, float] | None  # time: newest-first cut-offs (ns) of valid and test
    offsets: tuple[int, ...] | None  # row order: first row's position of each partition
    counts: tuple[int, int] | None  # row order: rows in valid and test
    fractions: tuple[float, float]  # random: test, valid
    seed: int
    rates: tuple[float, float, float]  # share of each slice sent to the client

    def slices(self, rows: pd.DataFrame, index: int) -> np.ndarray:
        n = len(rows)
        out = np.full(n, TRAIN, dtype=np.int8)
        if self.cuts is not None:
            stamps = _stamp_values(rows[str(self.schema.time)], self.schema.day_first)
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


def _stamp_values(series: pd.Series, day_first: bool | None) -> np.ndarray:
    """The time column as float nanoseconds (NaN when not a date), as split_rows parses it."""
    stamps = parse_dates(series, day_first)
    values = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    values[stamps.isna().to_numpy()] = np.nan
    return values


def _slice_partition(
    frame: pd.DataFrame, index: int, plan: _SplitPlan, categorical: list[str]
) -> dict[str, Any]:
    """Per slice: rows and conversions; category counts of the training rows; the lent rows."""
    rows = _labeled(frame, plan.schema.target)
    y = target_vector(rows[plan.schema.target], plan.schema.positive)
    slices = plan.slices(rows, index)
    counts = np.zeros((3, 2), dtype=np.int64)
    for s in (TRAIN, VALID, TEST):
        counts[s] = (int((slices == s).sum()), int(y[slices == s].sum()))
    missing = frozenset(plan.schema.missing_values)
    train = rows.loc[slices == TRAIN]
    levels = {name: clean_text(train[name], missing).value_counts() for name in categorical}
    lent = plan.lent(slices, index)
    sample = rows.loc[lent].assign(**{_SLICE: slices[lent], _Y: y[lent]})
    return {"counts": counts, "levels": levels, "sample": sample}


def _train_partition(
    frame: pd.DataFrame, index: int, plan: _SplitPlan, encoder: FeatureEncoder
) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    """The training rows encoded for LightGBM, and the partition's data fingerprint."""
    rows = _labeled(frame, plan.schema.target)
    y = target_vector(rows[plan.schema.target], plan.schema.positive)
    train = plan.slices(rows, index) == TRAIN
    print_ = fingerprint(rows, y, plan.schema) if len(rows) else None
    return encoder.transform(rows.loc[train]), y[train].astype(np.float64), print_


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
                dtype=object,
            )
            for name, values in kept.items()
        }
    )
    return FeatureEncoder.fit(schema, stand_in)


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
) -> TrainResult:
    """Train on a partitioned table with ``lightgbm.dask``; same bundle and run as
    ``train.train_leads``, whose steps after fitting (``finish_training``) it shares.

    With ``outcomes`` the leads are labelled on the workers from the keys of converted leads
    (``--outcomes FILE --on KEY``), exactly as single-machine training labels them.
    """
    from leadml.leakage import audit_leakage
    from leadml.train import HeldOut, finish_training, lgb_params, open_store

    settings = settings or Settings()
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    experiment_id = open_store(settings, experiment, track, say)

    frame = read_partitions(source, blocksize)
    total = frame.npartitions
    try:
        shared = None
        if outcomes is not None:
            import dask

            shared = dask.delayed(outcomes, pure=True)
            frame = label_partitions(frame, outcomes, shared)
        say(f"Validating {total} partitions against the schema")
        _check_columns(list(frame.columns), schema)
        if schema.day_first is None:  # settled once, so every partition reads dates alike
            first = frame.get_partition(0).compute()
            schema = schema.model_copy(update={"day_first": resolve_day_first(schema, first)})
        checks: list[_Checked] = _run(client, frame, _check_partition, schema, total, shared)
        notes = []
        if outcomes is not None:  # before the table checks: "no key matched" says more
            notes = outcome_notes(outcomes, len(set().union(*(c.matched for c in checks))))
        schema, warnings = _check_table(checks, schema, settings)
        warnings = [*notes, *warnings]
        if schema.id and schema.id in frame.columns:
            _check_ids(frame, schema)

        say("Splitting by time" if schema.time else "Splitting")
        plan = _plan_split(client, frame, checks, schema, settings, sample_rows)
        categorical = [f.name for f in schema.features if f.kind == "categorical"]
        parts = _run(client, frame, _slice_partition, plan, categorical)
        counts = sum(p["counts"] for p in parts)
        for s, name in enumerate(("train", "validation", "test")):
            if counts[s, 1] in (0, counts[s, 0]):
                raise DataError(
                    f"the {name} slice has only one class; more data or a different split is needed"
                )
        sample = pd.concat([p.pop("sample") for p in parts], ignore_index=True)
        lent = {s: sample.loc[sample[_SLICE] == s] for s in (TRAIN, VALID, TEST)}

        rows = sample.drop(columns=[_SLICE, _Y])
        audit = audit_leakage(rows, sample[_Y].to_numpy(), schema)
        schema = audit.kept(schema)
        warnings += audit.warnings
        plan = _replace_schema(plan, schema)

        say(f"Encoding {len(schema.features)} features from {int(counts[TRAIN, 0]):,} leads")
        level_counts = {
            name: pd.concat([p["levels"][name] for p in parts]).groupby(level=0).sum()
            for name in categorical
            if name in schema.feature_names
        }
        encoder = fit_encoder(schema, level_counts)
        held = {
            s: HeldOut(
                part.drop(columns=[_SLICE, _Y]).reset_index(drop=True),
                encoder.transform(part),
                part[_Y].to_numpy(dtype=np.int8),
            )
            for s, part in lent.items()
        }
        params = lgb_params(encoder, settings.seed, settings.num_threads)
        sizes = [int(p["counts"][TRAIN, 0]) for p in parts]
        booster, prints = _fit_on_cluster(
            client, frame, plan, encoder, params, sizes, held[VALID], say
        )
    except ValueError as exc:
        drift = _type_drift(exc, source)
        if drift is None:
            raise
        raise drift from None

    workers = len(client.scheduler_info().get("workers", {}))
    return finish_training(
        booster,
        encoder,
        schema,
        params,
        train=held[TRAIN],
        valid=held[VALID],
        test=held[TEST],
        split_method=plan.method,
        rows={name: int(counts[s, 0]) for s, name in enumerate(SLICES)},
        data_print=_combine_prints(prints),
        warnings=warnings,
        leakage=audit.to_dict(),
        settings=settings,
        experiment_id=experiment_id,
        track=track,
        out=out,
        say=say,
        started=started,
        source=str(source),
        meta_extra={
            "dask": {
                "workers": workers,
                "partitions": total,
                "client_rows": {name: len(held[s].y) for s, name in enumerate(SLICES)},
            }
        },
    )


def label_partitions(frame: dd.DataFrame, outcomes: Outcomes, shared: Delayed) -> dd.DataFrame:
    """The lead table with its outcome column added on the workers. ``shared`` is the outcome
    keys as one graph node, so the key set travels to the cluster once, not once per task."""
    check_lead_columns(list(map(str, frame.columns)), outcomes.on, outcomes.target)
    meta = label_leads(frame._meta, outcomes)
    return frame.map_partitions(label_leads, shared, meta=meta)


def _run(client: Client, frame: dd.DataFrame, func: Callable[..., Any], *args: Any) -> list:
    """``func(partition, index, *args)`` on every partition; results in partition order."""
    import dask

    tasks = [
        dask.delayed(func, pure=True)(part, i, *args) for i, part in enumerate(frame.to_delayed())
    ]
    return client.gather(client.compute(tasks))


def _check_columns(columns: list[str], schema: LeadSchema) -> None:
    """The column checks ``validate`` starts with, on the table's header."""
    if schema.target not in columns:
        raise DataError(
            f"target column '{schema.target}' not found; columns are: "
            + ", ".join(map(str, columns[:30]))
        )
    missing = list(dict.fromkeys(f.column for f in schema.features if f.column not in columns))
    if missing:
        raise DataError(f"columns in the schema but not in the data: {', '.join(missing)}")


def _check_table(
    checks: list[_Checked], schema: LeadSchema, settings: Settings
) -> tuple[LeadSchema, list[str]]:
    """The whole-table half of ``validate``: the target's values and classes, empty features."""
    labeled = sum(c.labeled for c in checks)
    if not labeled:
        raise DataError(f"target column '{schema.target}' is empty")
    values = sorted({v for c in checks for v in c.values})
    target_vector(pd.Series(values, name=schema.target, dtype="string"), schema.positive)
    positives = sum(c.positives for c in checks)
    negatives = labeled - positives
    if positives == 0 or negatives == 0:
        raise DataError(
            f"target column '{schema.target}' has only one class "
            f"({positives} converted, {negatives} not); a model needs both"
        )
    if min(positives, negatives) < settings.min_class_count:
        raise DataError(
            f"too few examples to learn from: {positives} converted and {negatives} not "
            f"converted leads; need at least {settings.min_class_count} of each"
        )
    warnings: list[str] = []
    unlabeled = sum(c.unlabeled for c in checks)
    if unlabeled:
        warnings.append(f"{unlabeled} rows with no value in '{schema.target}' were left out")
    kept = {n for c in checks for n in c.kept}
    refused = {n for c in checks for n in c.refused}
    empty = [f.name for f in schema.features if f.name not in kept and f.name not in refused]
    for name in empty:
        warnings.append(f"feature '{name}' has no values in any partition and was left out")
    used = [f for f in schema.features if f.name in kept and f.name not in refused]
    if not used:
        raise DataError("no usable feature columns: every feature is empty")
    notes = [w for c in checks for w in c.warnings]
    warnings += notes[:20] + ([f"… and {len(notes) - 20} more"] if len(notes) > 20 else [])
    if len(used) < len(schema.features):
        schema = schema.model_copy(update={"features": used})
    return schema, warnings


def _check_ids(frame: dd.DataFrame, schema: LeadSchema) -> None:
    """Duplicated lead ids across partitions, counted by a shuffle rather than on one machine."""
    import dask

    ids = frame[~frame[schema.target].isna()][str(schema.id)]
    counts = ids.value_counts(split_out=True)
    repeated = counts[counts > 1]
    rows, top = dask.compute(repeated.sum(), repeated.nlargest(1))
    if rows:
        raise DataError(
            f"id column '{schema.id}' has {int(rows)} duplicated values "
            f"(e.g. {top.index[0]!r}, {int(top.iloc[0])} times)"
        )


def _plan_split(
    client: Client,
    frame: dd.DataFrame,
    checks: list[_Checked],
    schema: LeadSchema,
    settings: Settings,
    sample_rows: int,
) -> _SplitPlan:
    """``split_rows`` for partitions: the newest leads as test when there is a time column, the
    last rows when the schema says rows are in time order, else a seeded random split.

    The time cut-offs are the exact dates at the slices' ranks, so the slices hold the same
    leads as ``split_rows`` would give them but for ties on the very cut-off date.
    """
    test, valid = settings.test_fraction, settings.valid_fraction
    n = sum(c.labeled for c in checks)
    expected = (n * (1 - test) * (1 - valid), n * (1 - test) * valid, n * test)
    rates = tuple(min(1.0, sample_rows / max(e, 1.0)) for e in expected)
    cuts = offsets = counts = None
    if schema.time and schema.time in frame.columns:
        # As split_rows' stable sort: oldest first, leads with no date last (i.e. newest).
        n_test = max(1, round(n * test))
        n_valid = max(1, round((n - n_test) * valid))
        dated = sum(c.dated for c in checks)
        ranks = [n - n_test - n_valid - 1, n - n_test - 1]  # the last train and valid leads
        inner = [r for r in ranks if 0 <= r < dated]
        stats = _order_statistics(client, frame, schema, inner, checks)
        found = dict(zip(inner, stats, strict=True))
        cuts = tuple(found.get(r, -np.inf if r < 0 else np.inf) for r in ranks)
        method = f"time ({schema.time})"
    elif schema.rows_in_time_order:
        n_test = max(1, round(n * test))
        offsets = tuple(np.cumsum([0, *(c.labeled for c in checks)]).tolist())
        counts = (max(1, round((n - n_test) * valid)), n_test)
        method = "time (row order: the last rows are the newest)"
    else:
        method = "random (seeded, per partition)"
    return _SplitPlan(
        schema,
        method,
        cuts,
        offsets,
        counts,
        (test, valid),
        settings.seed,
        rates,  # type: ignore[arg-type]
    )


#: Bins per pass when narrowing in on an order statistic; a window this small is gathered.
_BINS = 4096
_GATHER = 100_000


def _order_statistics(
    client: Client, frame: dd.DataFrame, schema: LeadSchema, ranks: list[int], checks: list
) -> list[float]:
    """The dates at ``ranks`` (0 = earliest) of the time column, exactly, without sorting it
    or holding it on one machine: count the dates in ever narrower bins around each rank
    (one pass each) until the bin is small enough to gather. Usually one or two passes."""
    dated = sum(c.dated for c in checks)
    lo = min(c.first for c in checks if c.dated)
    hi = max(c.last for c in checks if c.dated)
    windows = {r: (lo, hi, 0, dated) for r in ranks}  # rank → (lo, hi, rows below, rows in)
    found: dict[int, float] = {}
    columns = frame[[schema.target, str(schema.time)]]
    while len(found) < len(ranks):
        open_ = {r: w for r, w in windows.items() if r not in found}
        small = {r: w for r, w in open_.items() if w[3] <= _GATHER or w[0] >= w[1]}
        if small:
            bounds = [(w[0], w[1]) for w in small.values()]
            gathered = _run(client, columns, _window_values, schema, bounds)
            for k, (r, w) in enumerate(small.items()):
                values = np.sort(np.concatenate([g[k] for g in gathered]))
                found[r] = float(values[r - w[2]])
            continue
        bounds = [(w[0], w[1]) for w in open_.values()]
        counts = np.sum(_run(client, columns, _window_counts, schema, bounds), axis=0)
        for k, (r, (lo_, hi_, below, _)) in enumerate(open_.items()):
            edges = np.linspace(lo_, hi_, _BINS + 1)
            cum = np.cumsum(counts[k])
            b = int(np.searchsorted(cum, r - below, side="right"))
            top = edges[b + 1] if b == _BINS - 1 else np.nextafter(edges[b + 1], -np.inf)
            windows[r] = (edges[b], top, below + int(cum[b] - counts[k][b]), int(counts[k][b]))
    return [found[r] for r in ranks]


def _dates(frame: pd.DataFrame, schema: LeadSchema) -> np.ndarray:
    stamps = _stamp_values(_labeled(frame, schema.target)[str(schema.time)], schema.day_first)
    return stamps[~np.isnan(stamps)]


def _window_counts(
    frame: pd.DataFrame, index: int, schema: LeadSchema, bounds: list[tuple[float, float]]
) -> np.ndarray:
    dates = _dates(frame, schema)
    return np.array([np.histogram(dates, np.linspace(lo, hi, _BINS + 1))[0] for lo, hi in bounds])


def _window_values(
    frame: pd.DataFrame, index: int, schema: LeadSchema, bounds: list[tuple[float, float]]
) -> list[np.ndarray]:
    dates = _dates(frame, schema)
    return [dates[(dates >= lo) & (dates <= hi)] for lo, hi in bounds]


def _replace_schema(plan: _SplitPlan, schema: LeadSchema) -> _SplitPlan:
    from dataclasses import replace

    return replace(plan, schema=schema)


def _fit_on_cluster(
    client: Client,
    frame: dd.DataFrame,
    plan: _SplitPlan,
    encoder: FeatureEncoder,
    params: dict[str, Any],
    sizes: list[int],
    valid: Any,
    say: Progress,
) -> tuple[Any, list[dict[str, Any] | None]]:
    """``lightgbm.dask`` in blocks of ``EARLY_STOPPING_ROUNDS``, each continuing the last, until
    the validation log loss has not improved for that many rounds: single-machine training's
    early stopping, which ``lightgbm.dask`` does not support. The best round is kept.

    The training rows stay on the workers (persisted); the loss is computed on the client's
    validation rows (the whole slice unless it is larger than ``sample_rows``).
    """
    import dask
    import dask.array as da
    import lightgbm as lgb

    from leadml.train import EARLY_STOPPING_ROUNDS, MAX_ROUNDS

    width = len(encoder.names)
    pieces = [
        dask.delayed(_train_partition, pure=True, nout=3)(part, i, plan, encoder)
        for i, part in enumerate(frame.to_delayed())
    ]
    x_parts = [
        da.from_delayed(p[0], shape=(n, width), dtype=np.float64)
        for p, n in zip(pieces, sizes, strict=True)
        if n
    ]
    y_parts = [
        da.from_delayed(p[1], shape=(n,), dtype=np.float64)
        for p, n in zip(pieces, sizes, strict=True)
        if n
    ]
    # Submitted together, so each partition is read and encoded once for both.
    pending = client.compute([p[2] for p in pieces])
    x, y = client.persist([da.concatenate(x_parts), da.concatenate(y_parts)])
    prints = client.gather(pending)

    fixed = {k: v for k, v in params.items() if k not in ("num_threads", "seed")}
    booster = None
    losses: list[float] = []
    raw = np.zeros(len(valid.y))
    block = 0
    while True:
        say(
            f"Fitting LightGBM on {sum(sizes):,} leads across the cluster "
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
    return final, prints


def _combine_prints(prints: list[dict[str, Any] | None]) -> dict[str, Any]:
    """``data.fingerprint`` of the whole table from those of its partitions: rows, columns, a
    hash of the partitions' hashes in order, the target rate and the time window."""
    parts = [p for p in prints if p]
    rows = sum(p["rows"] for p in parts)
    digest = hashlib.sha256("".join(p["sha256"] for p in parts).encode()).hexdigest()
    out: dict[str, Any] = {
        "rows": rows,
        "columns": parts[0]["columns"],
        "sha256": digest,
        "sha256_of": "partition fingerprints, in partition order",
        "target_rate": sum(p["target_rate"] * p["rows"] for p in parts) / max(rows, 1),
    }
    starts = [
        pd.Timestamp(p["time_from"]) for p in parts if p.get("time_from") not in (None, "NaT")
    ]
    ends = [pd.Timestamp(p["time_to"]) for p in parts if p.get("time_to") not in (None, "NaT")]
    if starts:
        out["time_from"], out["time_to"] = str(min(starts)), str(max(ends))
    return out
