"""Segments: the per-segment fold table, specialists shipped where (and only where) a segment
follows its own rule, routing recorded per lead (in memory, in the bundle, over HTTP), and a
tampered specialist refused.

Two trainings of 10,000 synthetic leads with a ``region`` column (``leadml generate
--segments``): ``different``, where APAC converts by a rule of its own, and ``same``, where
every region follows the main rule. Cheap but real: two backtest folds, no recency search,
100 bootstrap resamples (the shipping decision reads the interval, so it keeps its
resamples).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from leadml.data.synthetic import generate_leads
from leadml.errors import ModelLoadError
from leadml.modeling.finish import TrainResult
from leadml.modeling.train import train_leads
from leadml.schema.spec import LeadSchema, bundled_schema
from tests.support.servers import LiveServer, lead_payloads, serve_settings
from tests.support.training import cheap_settings

ROWS = 10_000
REGIONS = ["APAC", "Americas", "EMEA"]
MISSING = "(missing)"


def segmented_schema() -> LeadSchema:
    return LeadSchema.from_dict({**bundled_schema().to_dict(), "segment": "region"})


def _train(kind: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, pd.DataFrame]:
    leads = generate_leads(ROWS, seed=7, segments=kind)
    home = tmp_path_factory.mktemp(f"segments-{kind}")
    settings = cheap_settings(home, backtest_folds=2, bootstrap=100, recency="none")
    result = train_leads(leads, segmented_schema(), settings, out=home / "bundle", track=False)
    return result, leads


@pytest.fixture(scope="module")
def different(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, pd.DataFrame]:
    return _train("different", tmp_path_factory)


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainResult, pd.DataFrame]:
    return _train("same", tmp_path_factory)


def by_value(result: TrainResult) -> dict[str, dict]:
    """The segments' records, the leads without a region (no country) apart."""
    return {s["value"]: s for s in result.metrics["segments"]["segments"] if s["value"] != MISSING}


def test_a_specialist_ships_where_a_segment_follows_its_own_rule(different) -> None:
    result, _ = different
    segments = by_value(result)
    assert sorted(segments) == REGIONS
    assert result.metrics["segments"]["specialists"] == ["APAC"]
    apac = segments["APAC"]["specialist"]
    print(f"\nAPAC specialist: {apac}")
    assert apac["wins"] and apac["interval"][0] > 0 and apac["roc_auc_difference"] > 0.02
    assert set(apac["variants"]) == {"own", "continued"}  # both measured, the better kept
    assert segments["APAC"]["model"] == "segment:APAC"
    for value in ("Americas", "EMEA"):
        assert segments[value]["model"] == "global"
        spec = segments[value]["specialist"]
        assert spec is not None and not spec["wins"]  # tried, and kept out
    assert "Specialist" in segments["APAC"]["note"] and "shipped" in segments["APAC"]["note"]


def test_no_specialist_where_every_segment_follows_one_rule(same) -> None:
    result, _ = same
    assert result.metrics["segments"]["specialists"] == []
    for seg in by_value(result).values():
        assert seg["model"] == "global"
        assert seg["specialist"] is not None and not seg["specialist"]["wins"]
        low = seg["specialist"]["interval"][0]
        assert low <= 0 or seg["specialist"]["log_loss_difference"] > 0


def test_the_fold_table_per_segment(different) -> None:
    result, leads = different
    segments = by_value(result)
    counts = leads.groupby("region")["converted"].agg(["size", "sum"])
    folds = result.metrics["backtest"]["folds"]
    for value, seg in segments.items():
        assert seg["leads"] == counts.loc[value, "size"]
        assert seg["converted"] == counts.loc[value, "sum"]
        assert len(seg["folds"]) == len(folds)
        for fold in seg["folds"]:
            assert fold["leads"] > 0 and 0 < fold["conversion"] < 1
            low, high = fold["intervals"]["roc_auc"]
            assert low <= fold["roc_auc"] <= high
        assert {"roc_auc", "ece", "intervals"} <= set(seg["pooled"])
        assert seg["calibration"] in {"own", "global", "own (specialist)"}
        assert seg["bands"] in {"own", "global"}
    # every judged lead of a fold is in one segment, or in the row of leads without one
    (unplaced,) = [s for s in result.metrics["segments"]["segments"] if s["value"] == MISSING]
    assert unplaced["leads"] == leads["region"].isna().sum() and unplaced["model"] == "global"
    for k, fold in enumerate(folds):
        judged = sum(seg["folds"][k]["leads"] for seg in [*segments.values(), unplaced])
        assert judged == fold["test_rows"]
    # the global model cannot follow APAC's rule, and says so per segment
    assert segments["APAC"]["pooled"]["roc_auc"] < segments["EMEA"]["pooled"]["roc_auc"] - 0.05


def test_each_lead_is_routed_by_its_segment(different) -> None:
    result, leads = different
    model = LeadModel.load(result.bundle)
    sample = leads.sample(2000, random_state=1)
    scored = model.score_frame(sample)
    apac = (sample["region"] == "APAC").to_numpy()
    assert (scored["model"].to_numpy()[apac] == "segment:APAC").all()
    assert (scored["model"].to_numpy()[~apac] == "global").all()
    # the specialist's score is not the global booster's
    x = model.matrix(sample)
    global_raw = model.booster.predict(x, raw_score=True)
    assert not np.allclose(model.raw_scores(x)[apac], global_raw[apac])
    assert np.allclose(model.raw_scores(x)[~apac], global_raw[~apac])
    # explanations add up to the routed score, lead by lead
    contributions = model.contributions(x)
    assert np.abs(contributions.sum(axis=1) - model.raw_scores(x)).max() < 1e-9
    # one lead at a time (the serving path) gives the same answers
    for i in np.flatnonzero(apac)[:5].tolist() + np.flatnonzero(~apac)[:5].tolist():
        one = model.score_one(sample.iloc[i].to_dict())
        assert one["model"] == scored["model"].iloc[i]
        assert one["probability"] == pytest.approx(scored["probability"].iloc[i], abs=1e-12)
    # leadml score's table (the CSV) says which model scored each lead
    from leadml.api.scoring import score_frame

    table = score_frame(model, sample.head(300)).table
    assert (table["model"] == scored["model"].head(300).to_numpy()).all()
    # each segment's own bands: APAC's leads are graded among APAC's leads
    segments = by_value(result)
    if segments["APAC"]["bands"] == "own":
        route = model.segments.route_of("APAC")
        assert route.bands is not None and route.bands.cutoffs != model.bands.cutoffs


def test_a_tampered_specialist_is_refused(different, tmp_path: Path) -> None:
    result, _ = different
    copy = tmp_path / "bundle"
    shutil.copytree(result.bundle, copy)
    (spec,) = copy.glob("segment-*.txt")
    spec.write_text(spec.read_text().replace("shrinkage=", "shrinkage=9", 1))
    with pytest.raises(ModelLoadError, match=r"segment-1\.txt does not match its checksum"):
        LeadModel.load(copy)
    shutil.copy(result.bundle / spec.name, spec)
    meta = json.loads((copy / "leadml.json").read_text())
    meta["segments"]["routes"][0]["file"] = "../model.txt"
    (copy / "leadml.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="segment model file"):
        LeadModel.load(copy)


def test_routing_is_recorded_over_http(different, tmp_path: Path) -> None:
    result, leads = different
    sample = leads.dropna(subset=["region"]).groupby("region").head(4)
    server = LiveServer(serve_settings(tmp_path, result.bundle)).start()
    try:
        with server.client() as http:
            payloads = [
                {**lead, "lead_id": f"S-{i}"}
                for i, lead in enumerate(
                    lead_payloads(sample.drop(columns=["lead_id", "converted"]))
                )
            ]
            answer = http.post("/v1/score", json={"leads": payloads})
            assert answer.status_code == 200, answer.text[:2000]
            routed = {s["lead_id"]: s["model"] for s in answer.json()["scores"]}
            expected = {
                f"S-{i}": "segment:APAC" if region == "APAC" else "global"
                for i, region in enumerate(sample["region"])
            }
            assert routed == expected
            assert server.history.flush()
            rows = http.get("/v1/history", params={"limit": 100}).json()["leads"]
            assert {r["lead_id"]: r.get("scored_by") for r in rows} == expected
            info = http.get("/v1/model").json()["segments"]
            assert info["column"] == "region"
            assert {s["value"]: s["model"] for s in info["segments"]} == {
                "APAC": "segment:APAC",
                "Americas": "global",
                "EMEA": "global",
            }
    finally:
        server.stop()


def test_each_segment_takes_its_own_capacity(different, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from leadml.cli.app import app

    result, leads = different
    copy = tmp_path / "bundle"
    shutil.copytree(result.bundle, copy)
    recent = tmp_path / "recent.csv"
    month = leads.tail(3000)
    month.to_csv(recent, index=False)
    weeks = (
        pd.to_datetime(month["created_at"]).max() - pd.to_datetime(month["created_at"]).min()
    ).days / 7
    run = CliRunner().invoke(
        app,
        [
            "thresholds",
            "--model",
            str(copy),
            "--capacity",
            "10",
            "--per",
            "week",
            "--data",
            str(recent),
            "--segment",
            "EMEA",
            "--apply",
            "--json",
        ],
    )
    assert run.exit_code == 0, run.output
    answer = json.loads(run.output[run.output.index("{") :])
    assert answer["segment"] == "EMEA" and "segment EMEA" in answer["source"]
    before, after = LeadModel.load(result.bundle), LeadModel.load(copy)
    emea = after.segments.route_of("EMEA")
    assert emea.bands is not None and emea.bands.sql_cutoff == answer["plan"]["cutoff"]
    assert emea.bands.capacity["segment"] == "EMEA"
    for value in ("APAC", "Americas"):  # other teams' bands as they were
        old, new = before.segments.route_of(value).bands, after.segments.route_of(value).bands
        assert (old and old.to_dict()) == (new and new.to_dict())
    assert after.bands.to_dict() == before.bands.to_dict()
    # about ten EMEA leads a week are now SQL, whatever the other regions send
    scored = after.score_frame(month)
    sql = (scored["stage"] == "SQL").to_numpy() & (month["region"] == "EMEA").to_numpy()
    assert sql.sum() / weeks == pytest.approx(10, rel=0.25)
    wrong = CliRunner().invoke(
        app,
        [
            "thresholds",
            "--model",
            str(copy),
            "--capacity",
            "10",
            "--data",
            str(recent),
            "--segment",
            "Mars",
        ],
    )
    assert wrong.exit_code != 0 and "no segment 'Mars' in region" in wrong.output
