"""A corpus of broken training files: each fails with one clear line, or trains with a warning
that names what was left out. Never a traceback; the previous model and store stay intact."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.cli import app
from leadml.data.synthetic import generate_leads
from tests.support.paths import SCHEMA, folder_digest
from tests.support.training import CHEAP_ENV

runner = CliRunner()


def good() -> pd.DataFrame:
    return generate_leads(3000, seed=21)


def write_csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    return lambda path: frame.to_csv(path, index=False)


def write_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def windows_1252(path: Path) -> None:
    """Not UTF-8: what Excel in a Western European locale writes (accents, en dashes)."""
    frame = good()
    frame.loc[:50, "job_title"] = "Diretor de Operações"
    frame.loc[:50, "country"] = "España"
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))


def cut_mid_row(path: Path) -> None:
    """What a file that vanished mid-transfer leaves: the bytes stop inside a row."""
    text = good().to_csv(index=False)
    path.write_text(text[: int(len(text) * 0.6)].rsplit(",", 3)[0])


def with_column(**columns) -> Callable[[Path], None]:
    return write_csv(good().assign(**columns))


def infinities(path: Path) -> None:
    frame = good()
    frame.loc[[3, 9, 27], "annual_revenue"] = np.inf
    frame.to_csv(path, index=False)


def duplicated_ids(path: Path) -> None:
    frame = good()
    frame.loc[10, "lead_id"] = frame.loc[11, "lead_id"]
    frame.to_csv(path, index=False)


def bad_dates(path: Path) -> None:
    frame = good()
    frame.loc[[4, 8], "created_at"] = "last tuesday"
    frame.to_csv(path, index=False)


def few_positives(path: Path) -> None:
    frame = good()
    frame["converted"] = (np.arange(len(frame)) < 12).astype(int)
    frame.to_csv(path, index=False)


FAILS = {
    "empty-file": (write_bytes(b""), "is empty"),
    "header-only": (write_bytes(b"lead_id,converted,employees\n"), "no rows"),
    "binary-garbage": (write_bytes(os.urandom(4096) + b"\x00" * 64), "binary"),
    "wrong-delimiter": (
        lambda p: p.write_text(good().to_csv(index=False, sep=":")),
        "target column 'converted' not found",
    ),
    "target-missing": (
        lambda p: good().drop(columns="converted").to_csv(p, index=False),
        "not found",
    ),
    "constant-target": (with_column(converted=1), "only one class"),
    "three-valued-target": (
        with_column(converted=np.resize(["1", "0", "maybe"], 3000)),
        "cannot tell whether 'maybe' means converted, not converted or still open",
    ),
    "too-few-positives": (few_positives, "12 converted"),
    "duplicate-ids": (duplicated_ids, "id column 'lead_id' has 2 duplicated values"),
    "unparseable-dates": (bad_dates, "time column 'created_at' has 2 values that are not dates"),
    "text-in-numbers": (with_column(pages_viewed="many"), "'pages_viewed' has 3000 non-numeric"),
    "cut-mid-row": (cut_mid_row, "ends in the middle of a row"),
    "target-all-missing": (with_column(converted=None), "target column 'converted' is empty"),
}

WARNS = {
    "all-missing-column": (
        with_column(company_age_years=np.nan),
        "'company_age_years' has no values",
    ),
    "infinities": (infinities, "'annual_revenue' has 3 infinite values"),
    "id-like-column": (
        with_column(job_title=[f"title-{i:05d}" for i in range(3000)]),
        "'job_title' has 3,000 distinct values",
    ),
    "non-utf8-file": (windows_1252, None),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile")
    good().to_csv(home / "good.csv", index=False)
    result = train(home, home / "good.csv")
    assert result.exit_code == 0, result.output
    return home


def train(home: Path, data: Path, out: str = "models/leadml"):
    env = {"LEADML_HOME": str(home), "MLFLOW_TRACKING_URI": "", **CHEAP_ENV}
    return runner.invoke(
        app,
        ["train", "--data", str(data), "--schema", SCHEMA, "--out", str(home / out)],
        env=env,
    )


def store_state(home: Path) -> tuple:
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mlflow.set_registry_uri(uri)
    exp = client.get_experiment_by_name("synthetic-crm")  # the schema's name
    runs = client.search_runs([exp.experiment_id])
    aliases = {
        a: str(client.get_model_version_by_alias("synthetic-crm", a).version)
        for a in ("champion", "challenger")
    }
    return len(runs), aliases, folder_digest(home / "models" / "leadml")


@pytest.mark.parametrize("case", sorted(FAILS))
def test_broken_file_stops_with_one_clear_line(project: Path, case: str) -> None:
    make, message = FAILS[case]
    before = store_state(project)
    path = project / f"{case}.csv"
    make(path)
    result = train(project, path)
    assert result.exit_code == 2, result.output
    assert message in result.output
    home_line, *rest = result.output.strip().splitlines()
    assert home_line.startswith(f"Project home: {project}"), result.output
    assert len(rest) == 1 and rest[0].startswith("Error:"), result.output
    assert "Traceback" not in result.output
    assert store_state(project) == before


@pytest.mark.parametrize("case", sorted(WARNS))
def test_usable_file_trains_with_a_warning_naming_what_was_left_out(
    project: Path, case: str
) -> None:
    make, message = WARNS[case]
    path = project / f"{case}.csv"
    make(path)
    result = train(project, path, out=f"models/{case}")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if message:
        assert "Warning:" in result.output and message in result.output
    assert (project / "models" / case / "model.txt").is_file()


def test_corpus_is_large_enough() -> None:
    assert len(FAILS) + len(WARNS) >= 15
