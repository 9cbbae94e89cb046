"""Shared fixtures: synthetic leads and one real trained model per test session.

Training is the slow part (~10 s), so one model trained through the real pipeline (real
LightGBM, real MLflow SQLite store and registry in a temporary folder) is shared by every test
that only needs *a* model. Tests that change the store train their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from leadml.config import Settings
from leadml.data.synthetic import generate_leads
from leadml.modeling.finish import TrainResult
from leadml.modeling.train import train_leads
from leadml.schema import LeadSchema, bundled_schema
from tests.support.isolation import restore, snapshot
from tests.support.paths import SHARED_DATA
from tests.support.training import PARTIAL_MISSING, cheap_settings

POSTGRES_ENV = "LEADML_TEST_POSTGRES_URL"
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
# One LightGBM thread for every training the tests start (in process, by the CLI runner, or in a
# child process, which inherits it): with two cores shared by pytest, servers and Dask workers,
# OpenMP's second thread spins waiting for a core and a 3,000-lead training stalls for minutes.
# A test that sets the thread count itself still wins.
os.environ.setdefault("LEADML_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _process_state_restored() -> Iterator[None]:
    """Every test leaves the process as it found it (MLflow's store URIs, the working folder,
    no run left open: tests/support/isolation.py), so no result depends on the order."""
    state = snapshot()
    yield
    restore(state)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data sets in ../shared/data (never copied into the project)."""
    assert SHARED_DATA.is_dir(), f"expected the shared data at {SHARED_DATA}"
    return SHARED_DATA


@pytest.fixture(scope="session")
def schema() -> LeadSchema:
    return bundled_schema()


@pytest.fixture(scope="session")
def leads() -> pd.DataFrame:
    """20,000 synthetic leads with known signal (seed 7)."""
    return generate_leads(20_000, seed=7)


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("leadml-home")


@pytest.fixture(scope="session")
def trained_settings(trained_home: Path) -> Settings:
    """The store of the shared model, named outright so no other test's store can stand in."""
    store = f"sqlite:///{trained_home / 'mlflow.db'}"
    return Settings(home=trained_home, mlflow_tracking_uri=store)


@pytest.fixture(scope="session")
def trained(
    leads: pd.DataFrame, schema: LeadSchema, trained_home: Path, trained_settings: Settings
) -> TrainResult:
    """One model trained end to end with MLflow tracking and registration."""
    return train_leads(leads, schema, trained_settings, out=trained_home / "models" / schema.name)


@pytest.fixture(scope="session")
def partial(
    leads: pd.DataFrame, schema: LeadSchema, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    """A real model of an export that records only authority and need (no budget or timing
    field at all): 3,000 leads, bundle and report written, not tracked (~6 s)."""
    dropped = [f.name for f in schema.features if f.criterion in PARTIAL_MISSING]
    kept = [f for f in schema.features if f.name not in dropped]
    home = tmp_path_factory.mktemp("partial-model")
    return train_leads(
        leads.tail(3_000).drop(columns=dropped).reset_index(drop=True),
        schema.model_copy(update={"features": kept, "name": "authority-need"}),
        cheap_settings(home),
        out=home / "bundle",
        track=False,
    )


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project folder with its own MLflow store, as the CLI would use from cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("LEADML_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL server (``make postgres``), dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: run through `make test` (starts PostgreSQL)")
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema_name}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))
    admin.dispose()
