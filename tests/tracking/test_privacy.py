"""Personal data never leaves the lead table: not in MLflow, the bundle, reports or logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from leadml.config import Settings
from leadml.modeling.finish import TrainResult
from tests.support.training import cheap_settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+\d{1,3} \d{3} \d{3} \d{4}")


def _all_text(folder: Path) -> str:
    """Every file under a folder as text (binary files decoded leniently)."""
    chunks = []
    for path in folder.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("utf-8", errors="ignore"))
    return "\n".join(chunks)


@pytest.fixture(scope="module")
def pii_values(leads: pd.DataFrame) -> list[str]:
    values = set(leads["email"]) | set(leads["phone"])
    # Full names can collide with ordinary words in plots; emails and phones cannot.
    return sorted(values)


def test_no_email_or_phone_in_store_bundle_or_report(
    trained: TrainResult, trained_settings: Settings, pii_values: list[str]
) -> None:
    home = trained_settings.home
    database, artifacts = home / "mlflow.db", home / "mlruns"
    assert database.is_file() and any(artifacts.rglob("*.png"))  # the scan sees a real store
    text = database.read_bytes().decode("utf-8", errors="ignore")
    text += _all_text(artifacts) + _all_text(trained.bundle)
    # The SQLite store is binary: its strings are still stored verbatim, so this scan sees them.
    # Pull out everything shaped like an email or a phone, then look each one up.
    found = set(EMAIL.findall(text)) | set(PHONE.findall(text))
    assert found & set(pii_values) == set()
    assert len(pii_values) > 30_000  # the scan looked for every email and phone


def test_training_logs_carry_no_personal_data(
    leads: pd.DataFrame, schema, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from leadml.modeling.train import train_leads

    broken = leads.head(4000).copy()
    broken.loc[5, "employees"] = float("inf")
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        result = train_leads(
            broken, schema, cheap_settings(tmp_path), out=tmp_path / "b", progress=messages.append
        )
    text = caplog.text + "\n".join(messages) + "\n".join(result.warnings)
    assert any("infinite" in w for w in result.warnings)  # the log did say something
    found = set(EMAIL.findall(text)) | set(PHONE.findall(text))
    assert found & (set(broken["email"]) | set(broken["phone"])) == set()
    assert not any(name in text for name in set(broken["full_name"]))


def test_bundles_load_without_pickle(trained: TrainResult) -> None:
    names = {p.suffix for p in trained.bundle.rglob("*") if p.is_file()}
    assert names <= {".txt", ".json", ".png", ".html", ".csv"}
    artifacts = Path(str(trained.bundle)).parents[1] / "mlruns"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.name == "MLmodel" for p in files)  # the logged model is in there
    assert [p for p in files if p.suffix in (".pkl", ".pickle", ".joblib")] == []
