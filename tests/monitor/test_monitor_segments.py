"""Monitoring per segment: a drift in one region is named, and only there.

One cheap model is trained on 6,000 synthetic leads with a ``region`` segment (Americas, EMEA,
APAC: every region on the same process). The month after has the budget answers of EMEA's
leads pushed down (``Drift(budget_shift=0.8, segment="EMEA")``; the other regions' rows are
the undrifted table's): ``leadml monitor --by segment`` names EMEA, and neither of the others;
the undrifted month raises no segment alarm; a model without a segment says so in one line;
and ``GET /v1/monitor?by=segment`` names EMEA from the scores the service stored.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from leadml.bundle.model import LeadModel
from leadml.data.synthetic import Drift, generate_leads
from leadml.modeling.train import train_leads
from leadml.monitor.segments import MIN_SEGMENT_LEADS
from leadml.schema.spec import LeadSchema
from tests.support.cli import cli
from tests.support.paths import SCHEMA
from tests.support.servers import LiveServer, lead_payloads, serve_settings
from tests.support.training import cheap_settings

MONTH = {"start": "2026-11-01", "months": 1}
REGIONS = {"Americas", "EMEA", "APAC"}


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A cheap model with ``segment = "region"``, its bundle, and the two months after."""
    home = tmp_path_factory.mktemp("segments")
    schema = LeadSchema.load(SCHEMA).model_copy(update={"segment": "region"})
    schema = LeadSchema.model_validate(schema.model_dump())  # the segment added as a feature
    result = train_leads(
        generate_leads(6000, seed=29, segments="same"),
        schema,
        cheap_settings(home, mlflow_tracking_uri=None),
        out=home / "bundle",
        track=False,
    )
    quiet = generate_leads(3000, seed=30, segments="same", **MONTH)
    drifted = generate_leads(3000, seed=30, drift=Drift(budget_shift=0.8, segment="EMEA"), **MONTH)
    quiet.to_csv(home / "quiet.csv", index=False)
    drifted.to_csv(home / "drifted.csv", index=False)
    return {"home": home, "bundle": home / "bundle", "model": result.model, "drifted": drifted}


def monitor(home: Path, bundle: Path, data: str, *args: str) -> tuple[int, str]:
    done = cli(home, "monitor", "--model", str(bundle), "--data", str(home / data), *args)
    return done.exit_code, done.output


def as_json(output: str) -> dict[str, Any]:
    return json.loads(output[output.index("{") :])


def by_segment(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["segment"]: row for row in section["segments"]}


def max_psi(row: dict[str, Any]) -> float:
    return max(f["psi"] for f in row["drift"]["features"])


def test_the_training_profile_keeps_each_segment(segmented) -> None:
    profiles = segmented["model"].meta["reference"]["segments"]
    assert set(profiles) == REGIONS
    assert all(p["rows"] >= MIN_SEGMENT_LEADS and p["expected_roc_auc"] for p in profiles.values())
    assert sum(p["rows"] for p in profiles.values()) <= segmented["model"].meta["reference"]["rows"]


def test_a_drift_in_one_segment_names_that_segment(segmented) -> None:
    home, bundle = segmented["home"], segmented["bundle"]
    code, output = monitor(home, bundle, "drifted.csv", "--by", "segment", "--json")
    assert code == 0, output
    section = as_json(output)["segments"]
    rows = by_segment(section)
    assert set(rows) >= REGIONS
    emea = {f["feature"]: f["psi"] for f in rows["EMEA"]["drift"]["features"]}
    assert emea["budget_range"] > 0.25, emea
    assert "region" not in emea  # constant within a segment: no "drift" of the split itself
    assert max_psi(rows["Americas"]) < 0.1 and max_psi(rows["APAC"]) < 0.1
    assert [line.split(":")[0] for line in section["alarms"]] == ["drift in segment EMEA"]
    assert section["alarms"][0].startswith("drift in segment EMEA: Budget PSI")
    assert rows["EMEA"]["alarms"]["drift"] and not rows["APAC"]["alarms"]["drift"]

    page = home / "drifted.html"
    code, output = monitor(
        home, bundle, "drifted.csv", "--by", "segment", "--fail-on", "drift", "--out", str(page)
    )
    assert code == 3, output
    assert "Alarm: drift in segment EMEA: Budget PSI" in output
    assert "in segment EMEA (exit 3)" in output
    assert "Americas" in output and "APAC" in output  # the table lists every segment
    html = page.read_text(encoding="utf-8")
    assert "By segment: region" in html and "drift in segment EMEA: Budget PSI" in html


def test_an_undrifted_month_raises_no_segment_alarm(segmented) -> None:
    home, bundle = segmented["home"], segmented["bundle"]
    code, output = monitor(
        home,
        bundle,
        "quiet.csv",
        "--by",
        "segment",
        "--json",
        "--fail-on",
        "drift",
        "--fail-on",
        "performance",
    )
    assert code == 0, output
    result = as_json(output)
    section = result["segments"]
    assert section["alarms"] == [] and not result["alarms"]["drift"]
    for row in section["segments"]:
        if row["enough"]:
            assert row["realized"]["available"] and row["baseline_roc_auc"] is not None
            assert max_psi(row) < 0.1, row["segment"]
        else:
            assert row["leads"] < MIN_SEGMENT_LEADS and "at least 200" in row["reason"]
    # Without --by the answer keeps its old shape.
    code, output = monitor(home, bundle, "quiet.csv", "--json")
    assert code == 0 and "segments" not in as_json(output)


def test_a_model_without_segments_says_so_in_one_line(segmented, tmp_path: Path) -> None:
    model: LeadModel = segmented["model"]
    plain = dataclasses.replace(model, schema=model.schema.model_copy(update={"segment": None}))
    bundle = plain.save(tmp_path / "plain")
    code, output = monitor(segmented["home"], bundle, "quiet.csv", "--by", "segment")
    assert code == 2
    assert output.strip().splitlines()[-1] == (
        "Error: the model has no segment column; train with --segment COL"
    )
    assert "Traceback" not in output


def test_the_service_names_the_drifted_segment(segmented) -> None:
    home = segmented["home"]
    server = LiveServer(serve_settings(home, segmented["bundle"])).start()
    try:
        leads = lead_payloads(segmented["drifted"].drop(columns=["converted"]))
        with server.client() as client:
            for i in range(0, len(leads), 500):
                r = client.post("/v1/score?explain=false", json={"leads": leads[i : i + 500]})
                assert r.status_code == 200, r.text
            assert server.history.flush(30)
            answer = client.get("/v1/monitor?since=1d&by=segment")
            assert answer.status_code == 200, answer.text
            plain = client.get("/v1/monitor?since=1d").json()
            wrong = client.get("/v1/monitor?since=1d&by=country")
    finally:
        server.stop()
    section = answer.json()["segments"]
    assert [line.split(":")[0] for line in section["alarms"]] == ["drift in segment EMEA"]
    assert by_segment(section)["EMEA"]["leads"] == (segmented["drifted"]["region"] == "EMEA").sum()
    assert any("Alarm: drift in segment EMEA" in line for line in answer.json()["summary"])
    assert "segments" not in plain
    assert wrong.status_code == 422  # by= names no segment: not a value it takes
