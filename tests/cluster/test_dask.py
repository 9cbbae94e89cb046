"""Dask scoring and training on a real LocalCluster (2 worker processes), against the
single-process results on the same leads: scores equal to 1e-9, test ROC AUC within 0.01."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from leadml.cluster.client import dask_client
from leadml.cluster.partitions import partition_files
from leadml.cluster.prepare import fit_encoder
from leadml.cluster.score import score_dask
from leadml.cluster.train import train_dask
from leadml.cluster.worker_steps import check_partition
from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.data.validate import combine_reports, validate
from leadml.errors import DataError
from leadml.explain.attributions import explanation_columns
from leadml.explain.table import score_table
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.finish import TrainResult
from leadml.schema import LeadSchema
from tests.support.cli import leadml_process
from tests.support.paths import SCHEMA

PARTS = 4


def write_parts(
    frame: pd.DataFrame, folder: Path, parts: int = PARTS, kind: str = "parquet"
) -> Path:
    """The table as ``parts`` files in row order, as a CRM export job would write it."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        piece = frame.iloc[chunk]
        if kind == "parquet":
            piece.to_parquet(folder / f"leads-{i}.parquet", index=False)
        else:
            piece.to_csv(folder / f"leads-{i}.csv", index=False)
    return folder


def leadml(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script in its own process, as a user runs it."""
    return leadml_process(*args, cwd=cwd, timeout=600)


def train_on_cluster(parts: Path, address: str, home: Path, *extra: str):
    """``leadml train`` on the running cluster, the bundle written to ``home/bundle``."""
    return leadml(
        "train", "--data", str(parts), "--schema", SCHEMA, *extra,
        "--out", "bundle", "--scheduler", address, cwd=home,
    )  # fmt: skip


def plain(frame: pd.DataFrame) -> list[list]:
    """Cell values with every kind of missing (NaN, NA, None) as None, for comparing."""
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def single_process_scores(model, frame: pd.DataFrame) -> pd.DataFrame:
    """What ``leadml score`` (no --dask) writes for the same rows."""

    return score_table(model, frame)


@pytest.fixture(scope="module")
def client() -> Iterator:
    with dask_client() as dask:
        yield dask


@pytest.fixture(scope="module")
def parquet_parts(leads: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_parts(leads, tmp_path_factory.mktemp("parts") / "leads")


# -- scoring -------------------------------------------------------------------------------------
def test_scores_equal_single_process(
    trained: TrainResult, leads: pd.DataFrame, parquet_parts: Path, client, tmp_path: Path
) -> None:
    fresh = leads.drop(columns=["converted"])
    parts = write_parts(fresh, tmp_path / "in", parts=5)
    seen: list[tuple[int, int]] = []
    summary = score_dask(
        trained.model, parts, tmp_path / "scored", client, on_partition=lambda *p: seen.append(p)
    )
    got = pd.read_parquet(tmp_path / "scored")
    want = single_process_scores(trained.model, fresh)

    assert summary.rows == len(fresh) and summary.partitions == 5
    assert seen[-1] == (5, 5) and len(seen) == 5
    assert list(got.columns) == list(want.columns)
    assert got["lead_id"].tolist() == want["lead_id"].tolist()
    np.testing.assert_allclose(got["probability"], want["probability"], rtol=0, atol=1e-9)
    for column in ("score", "grade", "tier", "stage"):
        assert got[column].astype(str).tolist() == want[column].astype(str).tolist()
    assert summary.grades == want["grade"].value_counts().to_dict()
    # every input column survives, values unchanged (missing is missing, whatever its dtype)
    assert plain(got[fresh.columns]) == plain(want[fresh.columns])


def test_csv_parts_with_explanations_equal_single_process(
    trained: TrainResult, leads: pd.DataFrame, client, tmp_path: Path
) -> None:
    fresh = leads.tail(900).drop(columns=["converted"]).reset_index(drop=True)
    parts = write_parts(fresh, tmp_path / "csv", parts=3, kind="csv")
    score_dask(trained.model, f"{parts}/*.csv", tmp_path / "scored", client, explain=True)
    got = pd.read_parquet(tmp_path / "scored")

    frame = pd.read_csv(parts / "leads-0.csv")
    for i in (1, 2):
        frame = pd.concat([frame, pd.read_csv(parts / f"leads-{i}.csv")], ignore_index=True)
    scores = trained.model.score_frame(frame)
    reasons = explanation_columns(trained.model, frame, "bant")
    np.testing.assert_allclose(got["probability"], scores["probability"], rtol=0, atol=1e-9)
    for column in reasons.columns:
        if pd.api.types.is_float_dtype(reasons[column]):
            np.testing.assert_allclose(got[column], reasons[column], rtol=0, atol=1e-9)
        else:
            assert got[column].astype(str).tolist() == reasons[column].astype(str).tolist()


def test_european_csv_parts_score_as_the_same_leads_written_plainly(
    trained: TrainResult, leads: pd.DataFrame, client, tmp_path: Path
) -> None:
    """;-separated parts with decimal commas (1234,5): the numbers are read in every part as
    single-file reading reads them, so the scores are those of the plain table."""
    fresh = leads.tail(600).drop(columns=["converted"]).reset_index(drop=True)
    folder = tmp_path / "eu"
    folder.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(fresh)), 3)):
        fresh.iloc[chunk].to_csv(folder / f"leads-{i}.csv", sep=";", decimal=",", index=False)
    assert "," in (folder / "leads-2.csv").read_text().splitlines()[1]
    score_dask(trained.model, folder, tmp_path / "scored", client)
    got = pd.read_parquet(tmp_path / "scored")

    want = trained.model.score_frame(fresh)
    np.testing.assert_allclose(got["probability"], want["probability"], rtol=0, atol=1e-9)
    for column in ("time_on_site_min", "annual_revenue", "employees"):
        np.testing.assert_allclose(got[column], fresh[column], rtol=1e-12)

    # text that is no number in one part stops the run, naming the column: never a silent gap
    header, first, *_ = (folder / "leads-2.csv").read_text().splitlines()
    cells = first.split(";")
    cells[header.split(";").index("time_on_site_min")] = "about ten"
    (folder / "leads-2.csv").write_text(f"{header}\n{';'.join(cells)}\n")
    with pytest.raises(DataError, match=r"column 'time_on_site_min' holds numbers written with"):
        score_dask(trained.model, folder, tmp_path / "scored-2", client)


def test_an_earlier_output_is_replaced_but_a_foreign_folder_is_not(
    trained: TrainResult, parquet_parts: Path, client, tmp_path: Path
) -> None:
    out = tmp_path / "scored"
    score_dask(trained.model, parquet_parts, out, client)
    first = sorted(p.name for p in out.iterdir())
    score_dask(trained.model, parquet_parts, out, client)  # a re-run replaces its own output
    assert sorted(p.name for p in out.iterdir()) == first

    precious = tmp_path / "reports"
    precious.mkdir()
    (precious / "q3.xlsx").write_text("keep me")
    with pytest.raises(DataError, match="holds other files"):
        score_dask(trained.model, parquet_parts, precious, client)
    assert (precious / "q3.xlsx").read_text() == "keep me"
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_unreadable_inputs_name_the_problem(
    trained: TrainResult, leads: pd.DataFrame, client, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="no CSV or Parquet files"):
        partition_files(tmp_path)
    with pytest.raises(DataError, match="not found"):
        partition_files(tmp_path / "nowhere")
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.parquet").write_bytes(b"")
    with pytest.raises(DataError, match="mixes CSV and Parquet"):
        partition_files(tmp_path)

    # A column empty in the first file is typed as numbers; text further on cannot be read so.
    fresh = leads.head(3000).drop(columns=["converted"]).copy()
    fresh.loc[:1499, "industry"] = None
    parts = write_parts(fresh, tmp_path / "drift", parts=2, kind="csv")
    with pytest.raises(DataError, match="Parquet"):
        score_dask(trained.model, parts, tmp_path / "scored", client)
    assert not (tmp_path / "scored").exists()


def test_cli_score_dask(trained: TrainResult, leads: pd.DataFrame, tmp_path: Path) -> None:
    bundle = trained.bundle
    assert bundle is not None
    fresh = leads.head(4000).drop(columns=["converted"])
    parts = write_parts(fresh, tmp_path / "in", parts=4)
    done = leadml(
        "score",
        "--model",
        str(bundle),
        "--data",
        str(parts),
        "--out",
        "scored",
        "--dask",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Scored 4,000 leads" in done.stderr and "4 Parquet parts" in done.stderr
    got = pd.read_parquet(tmp_path / "scored")
    want = single_process_scores(trained.model, fresh)
    np.testing.assert_allclose(got["probability"], want["probability"], rtol=0, atol=1e-9)


# -- training ------------------------------------------------------------------------------------
def test_category_levels_as_fitting_on_all_training_rows(
    leads: pd.DataFrame, schema: LeadSchema
) -> None:
    from leadml.data.parse import clean_text
    from leadml.features.encoder import MIN_LEVEL_COUNT

    frame = leads.head(3000).copy()
    frame.loc[:2, "country"] = "Atlantis"  # exactly MIN_LEVEL_COUNT rows: kept
    frame.loc[3:4, "industry"] = "Mining"  # one short: left out
    assert MIN_LEVEL_COUNT == 3
    missing = frozenset(schema.missing_values)
    halves = np.array_split(np.arange(len(frame)), 2)  # counted per partition, then summed
    counts = {
        f.name: pd.concat(
            [clean_text(frame.iloc[h][f.name], missing).value_counts() for h in halves]
        )
        .groupby(level=0)
        .sum()
        for f in schema.features
        if f.kind == "categorical"
    }
    encoder = fit_encoder(schema, counts)
    assert encoder == FeatureEncoder.fit(schema, validate(frame, schema).frame)
    assert "Atlantis" in encoder.levels["country"] and "Mining" not in encoder.levels["industry"]


def test_a_partition_with_one_class_passes_and_bad_rows_name_the_partition(
    leads: pd.DataFrame, schema: LeadSchema
) -> None:
    quiet = leads.head(500).assign(converted=0)
    _, checked = check_partition(quiet, 2, schema, 8)
    report = checked.report
    assert (report.labeled, report.target_values) == (500, ["0"])
    assert {name for name, rows in report.present.items() if rows} == set(schema.feature_names)
    assert not report.errors and not report.identifier_like

    bad = leads.head(500).copy()
    bad["employees"] = bad["employees"].astype(object)
    bad.loc[6, "employees"] = "lots"
    _, checked = check_partition(bad, 2, schema, 8)
    with pytest.raises(DataError) as error:  # the table-wide check raises what a part found
        combine_reports([report, checked.report], schema)
    message = str(error.value)
    assert message.startswith("partition 3 of 8:")
    assert "'employees'" in message and "rows 8" in message


def test_duplicate_ids_across_partitions_are_refused(
    leads: pd.DataFrame, schema: LeadSchema, client, tmp_path: Path
) -> None:
    frame = leads.head(4000).copy()
    frame.loc[3500, "lead_id"] = frame.loc[10, "lead_id"]  # first and last partition
    parts = write_parts(frame, tmp_path / "dupes")
    with pytest.raises(DataError, match=r"id column 'lead_id' has 2 duplicated values"):
        train_dask(parts, schema, client, Settings(home=tmp_path), track=False)


def test_cli_train_dask_agrees_with_single_machine(
    trained: TrainResult, leads: pd.DataFrame, schema: LeadSchema, home: Path, client
) -> None:
    """Same leads, same settings: the same folds and levels, a backtest as good as the
    single-machine one (headline ROC AUC within 0.01), and a shipped model that ranks fresh
    leads alike, logged and registered the same way.
    The CLI joins a running cluster by its scheduler address, as it would a shared one."""
    parts = write_parts(leads, home / "parts")
    address = client.scheduler_info()["address"]
    done = train_on_cluster(parts, address, home)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Headline fold" in done.stdout and "Backtest (" in done.stdout
    assert "registered as" in done.stdout

    from leadml.bundle.model import LeadModel

    model = LeadModel.load(home / "bundle")
    assert model.meta["rows"] == trained.model.meta["rows"]
    assert model.metrics["split"] == trained.metrics["split"]
    assert model.encoder.levels == trained.model.encoder.levels
    assert model.meta["dask"]["workers"] == 2 and model.meta["dask"]["partitions"] == PARTS
    assert model.meta["run_id"] and model.meta["registry_version"]
    assert abs(model.metrics["roc_auc"] - trained.metrics["roc_auc"]) < 0.01

    # Both shipped models learned from every lead; judged on the same fresh leads, they rank
    # them alike.
    checked = validate(generate_leads(5_000, seed=99, start="2026-01-01"), schema)
    test, y = checked.frame, checked.y
    dask_auc = roc_auc_score(y, model.score_frame(test)["probability"])
    single_auc = roc_auc_score(y, trained.model.score_frame(test)["probability"])
    assert abs(dask_auc - single_auc) < 0.01
    assert dask_auc > 0.8  # and both actually learned the synthetic signal


def test_cli_train_dask_with_outcomes_from_a_second_table(
    trained: TrainResult, leads: pd.DataFrame, home: Path, client
) -> None:
    """Leads and closed deals kept apart, as many CRMs do: the workers label the partitions
    from the deal keys, giving the same labelled rows, and so the same model quality, as
    training on the table that already holds the outcome."""
    won = leads.loc[leads["converted"] == 1, ["lead_id"]]
    deals = pd.concat([won, pd.DataFrame({"lead_id": ["L9999998", "L9999999"]})])
    deals.assign(amount=1000).to_csv(home / "deals.csv", index=False)
    parts = write_parts(leads.drop(columns=["converted"]), home / "parts", kind="csv")
    address = client.scheduler_info()["address"]
    done = train_on_cluster(parts, address, home, "--outcomes", "deals.csv", "--on", "lead_id")
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"2 of {len(deals):,} outcome keys in 'lead_id' match no lead" in done.stderr

    from leadml.bundle.model import LeadModel

    model = LeadModel.load(home / "bundle")
    assert model.meta["rows"] == trained.model.meta["rows"]
    assert model.meta["data"]["target_rate"] == pytest.approx(leads["converted"].mean())
    assert abs(model.metrics["roc_auc"] - trained.metrics["roc_auc"]) < 0.01
    assert "amount" not in model.feature_names  # nothing of the deal table is a feature

    missing_key = leadml(
        "train", "--data", str(parts), "--outcomes", "deals.csv", "--on", "mql_id",
        "--target", "converted", "--dask", cwd=home,
    )  # fmt: skip
    assert missing_key.returncode == 2
    assert "--on column 'mql_id' is not in the" in missing_key.stdout + missing_key.stderr


def test_a_live_funnel_on_dask_learns_from_the_same_leads(client, tmp_path: Path) -> None:
    """A CRM export with open leads and young ones: the partitions are labelled as one machine
    labels the table (the same horizon, the same counts of leads learned from, left open and
    too young), and the backtest is as good (headline ROC AUC within 0.01)."""
    from leadml.data.suggest import suggest_schema
    from leadml.modeling.train import train_leads

    export = generate_leads(20_000, seed=7, as_of="2026-11-01")
    schema = suggest_schema(export, "status", name="funnel").schema
    # fewer folds and resamples: the labels and the headline fold are what is compared here
    settings = Settings(home=tmp_path, num_threads=1, backtest_folds=2, bootstrap=10)
    single = train_leads(export, schema, settings, track=False)
    parts = write_parts(export, tmp_path / "funnel")
    spread = train_dask(parts, schema, client, settings, track=False)
    label, spread_label = single.metrics["label"], spread.metrics["label"]
    assert spread_label["horizon_days"] == label["horizon_days"] is not None
    assert spread_label["counts"] == label["counts"]
    assert label["counts"]["open"] > 0 and label["counts"]["young_settled"] > 0
    assert abs(spread.metrics["roc_auc"] - single.metrics["roc_auc"]) < 0.01


def test_a_segment_column_on_dask_gives_figures_per_segment(
    client, schema: LeadSchema, tmp_path: Path
) -> None:
    """Dask trains the global model with the segment as a feature and gives the figures,
    calibration and bands per segment; specialists are one machine's (none tried here)."""
    leads = generate_leads(4_000, seed=31, segments="different")
    segmented = LeadSchema.from_dict({**schema.to_dict(), "segment": "region"})
    settings = Settings(home=tmp_path, num_threads=1, backtest_folds=2, bootstrap=10)
    parts = write_parts(leads, tmp_path / "parts")
    spread = train_dask(parts, segmented, client, settings, track=False)
    record = {s["value"]: s for s in spread.metrics["segments"]["segments"]}
    assert {"APAC", "Americas", "EMEA"} <= set(record)
    assert spread.metrics["segments"]["specialists"] == []
    for value in ("APAC", "Americas", "EMEA"):
        assert record[value]["leads"] == (leads["region"] == value).sum()
        assert record[value]["specialist"] is None and "not tried" in record[value]["note"]
        assert len(record[value]["folds"]) == len(spread.metrics["backtest"]["folds"])
    scored = spread.model.score_frame(leads.head(200))
    assert set(scored["model"]) == {"global"}
