"""``leadml thresholds`` end to end: the plan from a file or the score history, ``--apply`` on
a bundle folder (the stage changes, nothing else) and on the registry (a new version beside
the old, the champion moved only when it was named), and one line for bad input."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.bundle.model import LeadModel
from leadml.cli import app
from leadml.config import Settings
from leadml.data.read import read_table
from leadml.data.synthetic import generate_leads
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory
from leadml.modeling.finish import TrainResult
from leadml.tracking.champions import champion_log
from leadml.tracking.references import load_model
from leadml.tracking.registry import alias_version
from leadml.tracking.runs import log_run
from leadml.tracking.store import connect
from tests.support.paths import folder_digest

NAME = "synthetic-crm"


def thresholds(*args: str, home: Path) -> Result:
    env = {"LEADML_HOME": str(home), "COLUMNS": "200", "MLFLOW_TRACKING_URI": None}
    return CliRunner().invoke(app, ["thresholds", *args], env=env)


@pytest.fixture(scope="module")
def recent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A month of new leads after the training window, ~920 a week."""
    path = tmp_path_factory.mktemp("recent") / "recent.csv"
    generate_leads(4_000, seed=31, start="2026-11-01", months=1).to_csv(path, index=False)
    return path


@pytest.fixture()
def folder(trained: TrainResult, tmp_path: Path) -> Path:
    assert trained.bundle is not None
    return Path(shutil.copytree(trained.bundle, tmp_path / "bundle"))


def test_apply_to_a_folder_changes_the_stage_and_nothing_else(
    folder: Path, recent: Path, tmp_path: Path
) -> None:
    before = LeadModel.load(folder)
    frame = read_table(recent)
    done = thresholds(
        "--model",
        str(folder),
        "--capacity",
        "300",
        "--data",
        str(recent),
        "--apply",
        "--json",
        home=tmp_path,
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    plan = result["plan"]
    assert abs(plan["leads_per_period"] / 300 - 1) < 0.02 and not plan["all_sent"]
    after = LeadModel.load(folder)
    assert after.bands.sql_cutoff == plan["cutoff"]
    assert after.bands.capacity is not None and after.bands.capacity["capacity"] == 300
    old, new = before.bands.to_dict(), after.bands.to_dict()
    assert {k: new[k] for k in old} == old  # grade cut-offs, tiers and stages as they were
    scored, was = after.score_frame(frame), before.score_frame(frame)
    for column in ("probability", "score", "grade", "tier"):
        assert scored[column].tolist() == was[column].tolist()
    sql = (scored["stage"] == "SQL").to_numpy()
    assert np.array_equal(sql, scored["probability"].to_numpy() >= plan["cutoff"])
    assert sql.sum() == plan["sent"]  # the leads the plan counted are the SQLs
    changed = scored["stage"] != was["stage"]
    assert changed.any() and set(scored.loc[~sql, "stage"]) <= {"MQL", "nurture"}
    assert (folder / "report.html").is_file() and any((folder / "plots").glob("*.png"))
    assert after.version == result["applied"]["version"] != before.version
    assert after.meta["derived_from"]["label"] == before.version
    assert "registry_version" not in after.meta  # it is that registered version no more

    again = thresholds(
        "--model", str(folder), "--capacity", "300", "--data", str(recent), home=tmp_path
    )
    assert again.exit_code == 0, again.output
    assert f"SQL band now: p ≥ {plan['cutoff']:.4f}" in again.stdout
    assert "expected conversions a week (95%)" in again.stdout


def test_weeks_stand_in_for_a_missing_time_column(
    folder: Path, recent: Path, tmp_path: Path
) -> None:
    frame = pd.read_csv(recent).drop(columns=["created_at"])
    timeless = tmp_path / "timeless.csv"
    frame.to_csv(timeless, index=False)
    done = thresholds(
        "--model",
        str(folder),
        "--capacity",
        "5",
        "--per",
        "day",
        "--data",
        str(timeless),
        "--weeks",
        "4",
        "--json",
        home=tmp_path,
    )
    assert done.exit_code == 0, done.output
    plan = json.loads(done.stdout)["plan"]
    assert plan["inflow_per_period"] == pytest.approx(len(frame) / 28)
    assert plan["sent"] == pytest.approx(5 * 28, abs=1)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--capacity", "0"], "--capacity 0: give the leads sales can work"),
        (["--capacity", "200", "--per", "fortnight"], "--per 'fortnight': give day, week or month"),
        (["--capacity", "200", "--weeks", "4"], "--weeks goes with --data FILE"),
        (["--capacity", "200", "--data", "TIMELESS"], "has no time column 'created_at'"),
        (
            ["--capacity", "200", "--history", "EMPTY"],
            "the score history holds no scored lead since",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    folder: Path, recent: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    timeless = tmp_path / "timeless.csv"
    pd.read_csv(recent, nrows=50).drop(columns=["created_at"]).to_csv(timeless, index=False)
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    args = [{"TIMELESS": str(timeless), "EMPTY": empty}.get(a, a) for a in args]
    untouched = folder_digest(folder)
    done = thresholds("--model", str(folder), *args, "--apply", home=tmp_path)
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if not line.startswith("Project home")]
    assert len(lines) == 1 and lines[0].startswith("Error:") and says in lines[0], done.output
    assert folder_digest(folder) == untouched


def test_the_history_gives_the_inflow_with_the_scores_it_stored(
    trained: TrainResult, folder: Path, tmp_path: Path
) -> None:
    """Leads this model scored keep their stored probability (these are not what the model
    would say now, so a rescoring would show); another version's leads are rescored."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    now = datetime.now(UTC)
    stored = np.random.default_rng(5).uniform(0.5, 1.0, 600)
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(
        ScoreRecord(
            "crm",
            f"L{i}",
            trained.model.version,
            float(p),
            round(p * 100),
            "A",
            now - timedelta(days=28 * (1 - i / 599), minutes=5),
        )
        for i, p in enumerate(stored)
    )
    keeper.record(
        ScoreRecord("crm", f"O{i}", "other-v9", 0.99, 99, "A", now - timedelta(days=i + 1))
        for i in range(20)
    )
    assert keeper.flush()
    keeper.close()
    done = thresholds(
        "--model",
        str(folder),
        "--capacity",
        "50",
        "--history",
        url,
        "--since",
        "6w",
        "--json",
        home=tmp_path,
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    plan, window = result["plan"], result["window"]
    assert plan["leads"] == 620 and window["days"] == pytest.approx(28, abs=0.01)
    top = np.sort(stored)[::-1]
    k = round(50 * window["periods"])
    assert plan["cutoff"] == top[k - 1] and plan["sent"] == k
    assert plan["expected_per_period"] == pytest.approx(top[:k].sum() / window["periods"])
    assert any("20 leads were scored by other versions" in n for n in result["notes"])


@pytest.fixture()
def store(trained: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of its own with the shared model registered as v1 (champion and challenger)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home = tmp_path / "project"
    assert trained.bundle is not None
    # log_run logs the folder under its own name, and a logged bundle is always "bundle"
    bundle = Path(shutil.copytree(trained.bundle, home / "bundle"))
    settings = Settings(home=home)
    experiment = connect(settings, NAME)
    assert experiment is not None
    log_run(experiment, NAME, LeadModel.load(bundle), {}, bundle)
    return home


def test_apply_to_the_registry_adds_a_version_and_keeps_the_old(store: Path, recent: Path) -> None:
    uri = f"sqlite:///{store / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    ref = f"models:/{NAME}@champion"
    done = thresholds(
        "--model",
        ref,
        "--capacity",
        "300",
        "--data",
        str(recent),
        "--apply",
        "--json",
        home=store,
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["applied"] == {
        "registered_model": NAME,
        "from_version": "1",
        "version": "2",
        "moved": True,
    }
    assert alias_version(client, NAME, "champion") == "2"
    assert alias_version(client, NAME, "challenger") == "1"  # a waiting challenger stays
    v1, v2 = (load_model(f"models:/{NAME}/{v}", uri) for v in ("1", "2"))
    assert v1.bands.sql_cutoff is None and v2.bands.sql_cutoff == result["plan"]["cutoff"]
    assert v2.bands.cutoffs == v1.bands.cutoffs and v2.bands.stages == v1.bands.stages
    frame = read_table(recent).head(500)
    assert np.array_equal(v1.predict_proba(v1.matrix(frame)), v2.predict_proba(v2.matrix(frame)))
    move = champion_log(client, NAME)[-1]
    assert (move.kind, move.from_version, move.to_version) == ("promotion", "1", "2")
    assert move.why.startswith("capacity 300 a week: SQL from p ≥")
    assert client.get_model_version(NAME, "2").tags["leadml.derived_from"] == "1"
    assert v2.meta["derived_from"]["registry_version"] == "1"
    served = LeadModel.load(store / "models" / NAME)  # the folder follows the champion
    assert served.meta["registry_version"] == "2" and served.bands.sql_cutoff == v2.bands.sql_cutoff

    # a version by number: a new version beside it, the champion stays where it is
    done = thresholds(
        "--model",
        f"models:/{NAME}/1",
        "--capacity",
        "100",
        "--data",
        str(recent),
        "--apply",
        home=store,
    )
    assert done.exit_code == 0, done.output
    assert f"leadml promote --model models:/{NAME}/3" in done.output
    assert alias_version(client, NAME, "champion") == "2"
    versions = sorted(int(v.version) for v in client.search_model_versions(f"name='{NAME}'"))
    assert versions == [1, 2, 3]
    assert load_model(f"models:/{NAME}/1", uri).bands.sql_cutoff is None


def test_the_history_counts_one_tenants_leads(
    trained: TrainResult, folder: Path, tmp_path: Path
) -> None:
    """Two CRMs number their leads alike: added up, 2 × 400 leads scored within seconds read as
    one burst of 800; the plan is one tenant's, and without a choice the command asks which
    (pooling is the operator's explicit choice: --tenants A,B or --all-tenants)."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    now = datetime.now(UTC)
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    for tenant, p in (("crm-a", 0.8), ("crm-b", 0.2)):
        keeper.record(
            ScoreRecord(tenant, f"L{i}", trained.model.version, p, round(p * 100), "A",
                        now - timedelta(days=21 * i / 399, minutes=5))
            for i in range(400)
        )  # fmt: skip
    assert keeper.flush()
    keeper.close()
    common = ("--model", str(folder), "--capacity", "50", "--history", url, "--since", "6w")
    mixed = thresholds(*common, home=tmp_path)
    assert mixed.exit_code == 2, mixed.output
    lines = [line for line in mixed.output.splitlines() if not line.startswith("Project home")]
    assert len(lines) == 1 and "leads of 2 tenants (crm-a, crm-b)" in lines[0], lines
    assert "--tenant NAME (one), --tenants A,B (pooled) or --all-tenants (pooled)" in lines[0]
    pooled = thresholds(*common, "--all-tenants", "--json", home=tmp_path)
    assert pooled.exit_code == 0, pooled.output
    result = json.loads(pooled.stdout)
    assert result["plan"]["leads"] == 800
    assert "(every tenant (crm-a, crm-b; pooled))" in result["source"]
    done = thresholds(*common, "--tenant", "crm-b", "--json", home=tmp_path)
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["plan"]["leads"] == 400 and "(tenant crm-b)" in result["source"]
    assert result["window"]["days"] == pytest.approx(21, abs=0.01)
    assert result["plan"]["cutoff"] == pytest.approx(0.2)  # crm-a's 0.8 leads are not there
