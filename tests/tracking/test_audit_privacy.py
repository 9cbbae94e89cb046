"""Audit columns are personal data by another name: read at training by the fairness audit,
they leave it only as per-group aggregates. No value of one reaches the MLflow store, its
artifacts, the bundle, the score history or an API answer, and neither is ever a feature.

Each lead carries a ``birth_code`` no other lead has ("BC-" and six digits, a shape nothing
else leadml writes has), so one regular expression over every file finds any value that got
out; its groups are all rarer than the audit's minimum and merge into "other", which is the
point: the audit must still run (its section is asserted) without naming anyone.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest

from leadml.data.synthetic import generate_leads
from leadml.modeling.finish import TrainResult
from leadml.schema.spec import LeadSchema
from tests.support.servers import LiveServer, lead_payloads, serve_settings
from tests.support.training import cheap_settings

CODE = re.compile(r"BC-\d{6}")
AUDIT = ["birth_code", "age"]
LEADS = 3_000


def _all_text(folder: Path) -> str:
    """Every file under a folder as text (binary files, SQLite included, decoded leniently:
    their strings are stored verbatim, so a scan of the bytes sees them)."""
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="ignore") for p in folder.rglob("*") if p.is_file()
    )


@pytest.fixture(scope="module")
def audited_leads() -> pd.DataFrame:
    """Synthetic leads with a code unique to each lead and an age (18–79)."""
    frame = generate_leads(LEADS, seed=29)
    rng = np.random.default_rng(29)
    frame["birth_code"] = [f"BC-{n:06d}" for n in rng.permutation(1_000_000)[:LEADS]]
    frame["age"] = rng.integers(18, 80, size=LEADS)
    return frame


@pytest.fixture(scope="module")
def audited_schema(schema: LeadSchema) -> LeadSchema:
    raw = {**schema.to_dict(), "name": "audit-privacy", "audit": AUDIT}
    return LeadSchema.from_dict(raw)


class _Kept(logging.Handler):
    """Keeps every log record, at every level, of every logger."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Audited(NamedTuple):
    """The trained model, the home holding its MLflow store and artifacts, and everything the
    training said (log records at every level, progress lines, warnings)."""

    result: TrainResult
    home: Path
    said: str


@pytest.fixture(scope="module")
def audited(
    audited_leads: pd.DataFrame,
    audited_schema: LeadSchema,
    tmp_path_factory: pytest.TempPathFactory,
) -> Audited:
    """One cheap model trained with MLflow tracking (~10 s)."""
    from leadml.modeling.train import train_leads

    home = tmp_path_factory.mktemp("audit-privacy")
    handler = _Kept(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    level, messages = root.level, []
    root.setLevel(logging.DEBUG)
    try:
        result = train_leads(
            audited_leads,
            audited_schema,
            cheap_settings(home),
            out=home / "bundle",
            progress=messages.append,
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    said = [r.getMessage() for r in handler.records] + messages + result.warnings
    return Audited(result, home, "\n".join(said))


@pytest.fixture(scope="module")
def audited_api(audited: Audited, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    result = audited.result
    home = tmp_path_factory.mktemp("audit-serve")
    server = LiveServer(serve_settings(home, result.bundle)).start()
    yield server
    server.stop()


def test_no_audit_value_in_store_artifacts_bundle_or_logs(
    audited: Audited, audited_leads: pd.DataFrame
) -> None:
    result, home = audited.result, audited.home
    assert result.bundle is not None and result.run_id is not None
    database, artifacts = home / "mlflow.db", home / "mlruns"
    assert database.is_file() and any(artifacts.rglob("*.png"))  # the scan sees a real store
    assert (result.bundle / "report.html").is_file()
    text = database.read_bytes().decode("utf-8", errors="ignore")
    text += _all_text(artifacts) + _all_text(result.bundle)
    assert set(CODE.findall(text)) == set()
    assert "backtest" in audited.said.lower()  # the training did say things …
    assert not CODE.findall(audited.said)  # … and none of them was a code
    # The regular expression does find the codes where they are (the table itself).
    assert len(set(CODE.findall(audited_leads.to_csv()))) == LEADS


def test_audit_columns_are_no_feature_yet_the_audit_ran(
    audited: Audited,
) -> None:
    result = audited.result
    assert result.bundle is not None
    assert not set(AUDIT) & set(result.model.encoder.names)
    meta = json.loads((result.bundle / "leadml.json").read_text(encoding="utf-8"))
    schema = meta.get("schema", {})
    features = schema.get("features", {})
    assert not set(AUDIT) & set(features)  # no feature of the stored schema is one
    for key, value in meta.items():
        if key != "schema":  # the schema names its audit columns, so leadml serve accepts them
            assert not any(f'"{c}"' in json.dumps(value) for c in AUDIT), key
    metrics = json.loads((result.bundle / "metrics.json").read_text(encoding="utf-8"))
    columns = metrics["audit"]["columns"]
    # Every code is rarer than the audit's minimum group: they all merge into "other" …
    assert [g["group"] for g in columns["birth_code"]["groups"]] == ["other"]
    # … and the ages are banded as people read them, each band a real comparison.
    assert columns["age"]["how"] == "age bands"
    assert {"18–29", "60+"} <= {g["group"] for g in columns["age"]["groups"]}
    report = (result.bundle / "report.html").read_text(encoding="utf-8")
    assert "fairness audit" in report


def test_scoring_with_audit_columns_stores_none_of_them(
    audited_api: LiveServer, audited_leads: pd.DataFrame, audited_schema: LeadSchema
) -> None:
    sent = lead_payloads(audited_leads.drop(columns=[audited_schema.target]).head(5))
    assert all("birth_code" in p and "age" in p for p in sent)
    codes = [p["birth_code"] for p in sent]
    with audited_api.client() as http:
        response = http.post("/v1/score", json={"leads": sent})
        assert response.status_code == 200, response.text
        assert not any(c in response.text for c in codes)
        assert "birth_code" not in response.text and '"age"' not in response.text
        assert audited_api.history.flush()
        stored = http.get("/v1/history?limit=50").json()["leads"]
        timeline = http.get(f"/v1/history/{sent[0]['lead_id']}").json()["scores"]
    assert {row["lead_id"] for row in stored} >= {p["lead_id"] for p in sent}
    assert not CODE.findall(json.dumps(stored) + json.dumps(timeline))
    assert timeline[-1]["features"]  # the history does keep the lead's features …
    for row in [*stored, *timeline]:
        assert not set(AUDIT) & set(row.get("features") or {})  # … and never an audit column
    # The history database with its write-ahead log: a fresh write may sit in either.
    db = _all_text(audited_api.settings.home)
    assert sent[0]["lead_id"] in db and not CODE.findall(db)
    assert "birth_code" not in db


def test_a_scored_table_treats_audit_columns_as_it_treats_pii(
    audited: Audited, audited_leads: pd.DataFrame, audited_schema: LeadSchema
) -> None:
    """``leadml score`` keeps the input's columns in the user's own output, PII and audit alike
    (the table is theirs); neither is read, warned about or noted as a field."""
    from leadml.api.scoring import score_frame

    result = audited.result
    table = audited_leads.drop(columns=[audited_schema.target]).head(50)
    scored = score_frame(result.model, table)
    assert scored.table["email"].tolist() == table["email"].tolist()
    assert scored.table["birth_code"].tolist() == table["birth_code"].tolist()
    said = " ".join(scored.notes) + " ".join(scored.table["warnings"])
    assert not any(name in said for name in ("birth_code", "email", "'age'"))
    moved = table.assign(birth_code="BC-999999", age=99)
    same = score_frame(result.model, moved).table["probability"]
    assert same.tolist() == scored.table["probability"].tolist()  # never read by the model
