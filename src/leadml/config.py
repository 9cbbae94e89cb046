"""One settings object for leadml, read from the environment (prefix ``LEADML_``), and the
project home it works in.

Everything that a deployment may want to change lives here, so that no module keeps its own
globals: paths, the MLflow store, the grade bands. The defaults make ``make demo`` work on a
fresh clone with nothing running: an embedded SQLite MLflow store in the project home, named as
MLflow users expect (``mlflow.db`` beside ``mlruns/``), so ``mlflow ui`` run there finds it.

The **project home** holds the store, ``models/`` and ``data/``. It is ``LEADML_HOME`` when set,
else the nearest folder up from the working folder that holds a ``leadml.toml`` (an empty file
will do) or is a leadml checkout, else the working folder itself. The CLI prints it on every
run, so a command run from another folder never creates a second store without saying so.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: A file that marks a folder as a leadml project home.
HOME_MARKER = "leadml.toml"
#: The embedded store, as MLflow names it: the tracking database and the artifact folder.
STORE_FILE = "mlflow.db"
#: ``--history none`` (or ``LEADML_HISTORY_URL=none``) turns the score history off.
NO_HISTORY = "none"
ARTIFACTS_DIR = "mlruns"


def _is_checkout(folder: Path) -> bool:
    """A clone of leadml itself: its own pyproject.toml beside src/leadml."""
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file() or not (folder / "src" / "leadml").is_dir():
        return False
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return project.get("name") == "leadml"


def find_home(start: Path | None = None) -> tuple[Path, str]:
    """The project home for a command run in ``start`` (default: the working folder), and why."""
    if os.environ.get("LEADML_HOME"):
        return Path(os.environ["LEADML_HOME"]).resolve(), "LEADML_HOME"
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / HOME_MARKER).is_file():
            return folder, f"it holds {HOME_MARKER}"
        if _is_checkout(folder):
            return folder, "the leadml checkout"
    return here, f"the working folder: no {HOME_MARKER} here or above (set LEADML_HOME to choose)"


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``LEADML_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LEADML_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default_factory=lambda: find_home()[0],
        description="Project home holding mlflow.db, mlruns/, models/ and data/.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        # read once, when the settings are made: MLflow's set_tracking_uri rewrites this
        # variable in-process, so reading it later would follow whatever store was used last
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "LEADML_MLFLOW_TRACKING_URI"),
        description="MLflow store; MLFLOW_TRACKING_URI wins, else embedded SQLite in home.",
    )
    experiment: str | None = Field(
        default=None, description="MLflow experiment name (default: the registered model's)."
    )
    registered_model: str | None = Field(
        default=None,
        description="MLflow registered model (default: the schema's name, one per project).",
    )
    seed: int = Field(default=42, description="Seed for splits and model fitting.")
    test_fraction: float = Field(
        default=0.2, gt=0, lt=0.5, description="Share of the leads in each backtest fold."
    )
    valid_fraction: float = Field(
        default=0.2, gt=0, lt=0.5, description="Dask: share of the older leads sampled apart."
    )
    backtest_folds: int = Field(
        default=4, ge=2, le=10, description="Time-ordered backtest folds (newest = headline)."
    )
    recency: str = Field(
        default="auto", description="Recency weighting: auto, none or a half-life in days."
    )
    horizon: str = Field(
        default="auto",
        description="The label: converted within this many days (auto: chosen from the time "
        "leads take to convert; none: outcomes taken as final).",
    )
    as_of: str | None = Field(
        default=None,
        description="The export date: leads younger than the horizon then are left out "
        "(default: the newest date in the data).",
    )
    tune: int = Field(
        default=0, ge=0, description="Optuna trials over LightGBM's settings (0: no tuning)."
    )
    tune_minutes: float | None = Field(
        default=None, gt=0, description="Stop tuning after this many minutes."
    )
    bootstrap: int = Field(
        default=100, ge=10, description="Bootstrap resamples for the metrics' 95 % intervals."
    )
    num_threads: int = Field(default=2, ge=1, description="LightGBM threads for training.")
    min_class_count: int = Field(
        default=40,
        ge=1,
        description="Fewest converted and unconverted leads needed to train (as Dynamics 365).",
    )
    segment_min_class: int = Field(
        default=40,
        ge=5,
        description="Fewest converted and unconverted leads a segment needs for a specialist "
        "model, its own calibration and its own grade bands (as Dynamics 365's 40 and 40).",
    )
    specialists: bool = Field(
        default=True,
        description="With a segment column, try a specialist model per segment and ship it "
        "where it beats the global model on the segment's backtest (interval excludes zero).",
    )
    grade_shares: tuple[float, float, float] = Field(
        default=(0.10, 0.30, 0.60),
        description="Cumulative shares of test leads in grades A, A+B, A+B+C (rest is D).",
    )
    framework: str = Field(default="bant", description="Qualification framework for roll-ups.")
    min_field_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Share of the model's fields a table or a lead must give to be scored; "
        "fewer is refused, naming what is missing (sparse input allowed: any share).",
    )
    allow_sparse: bool = Field(
        default=False,
        description="Score tables and leads that give fewer fields than min_field_share.",
    )
    history_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the score history (PostgreSQL or SQLite); "
        "default a SQLite file under home; 'none' turns it off.",
    )
    history_days: int = Field(
        default=365,
        ge=1,
        description="Scores older than this many days are purged from the history "
        "(at service start and daily).",
    )
    history_queue: int = Field(
        default=100_000,
        ge=1,
        description="Scores waiting for the history database at most; past it scoring answers "
        "503 with Retry-After (nothing acknowledged is ever dropped to make room).",
    )
    history_flush_s: float = Field(
        default=30.0,
        ge=0,
        description="Seconds the service gives queued scores to reach the database when it "
        "stops, at most what its shutdown_s leaves; what is still queued then is logged with "
        "its count and counted as dropped.",
    )
    history_sync: bool = Field(
        default=False,
        description="Answer a score only once it is written to the history (one commit per "
        "moment, shared by the requests waiting); off: written behind the answer, so a kill -9 "
        "loses the last fraction of a second of scores.",
    )
    bundle_key: SecretStr | None = Field(
        default=None,
        description="Secret that signs every bundle written (HMAC-SHA256 over its files); "
        "a server holding it refuses bundles it does not verify.",
    )

    @field_validator("bundle_key", mode="before")
    @classmethod
    def _empty_key_is_none(cls, value: object) -> object:
        return value or None

    @field_validator("mlflow_tracking_uri", "experiment", "registered_model")
    @classmethod
    def _empty_means_unset(cls, value: str | None) -> str | None:
        return value or None

    def project_name(self, schema_name: str, given: str | None = None) -> str:
        """The registered model a training run belongs to: ``given`` (``--name``), else
        ``LEADML_REGISTERED_MODEL``, else the schema's name."""
        return given or self.registered_model or schema_name

    @property
    def tracking_uri(self) -> str:
        """The MLflow store to use: the one configured, else SQLite in the project home."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / STORE_FILE).resolve()}"

    @property
    def artifact_root(self) -> Path:
        """Where a local store keeps artifacts; set explicitly so nothing lands elsewhere."""
        return (self.home / ARTIFACTS_DIR).resolve()

    @property
    def history_database(self) -> str | None:
        """The history URL to use, or None when history is turned off."""
        if self.history_url is None:
            return f"sqlite:///{self.history_file}"
        if self.history_url.strip().lower() in (NO_HISTORY, ""):
            return None
        return self.history_url

    @property
    def history_file(self) -> Path:
        return (self.home / "data" / "score_history.db").resolve()

    @property
    def models_dir(self) -> Path:
        return (self.home / "models").resolve()

    @property
    def sample_data(self) -> Path:
        return (self.home / "data" / "sample" / "leads.csv").resolve()


def setting_default(name: str) -> Any:
    """``Settings``' own default for ``name``, as the class declares it (not as the environment
    sets it): what a function taking that setting as a parameter defaults to, so the value is
    written in one place."""
    return Settings.model_fields[name].default


def settings_from(given: Settings | Mapping[str, Any] | None, **update: Any) -> Settings:
    """``given`` (a ``Settings``, a mapping of its fields, or None for the environment's) with
    ``update`` written in. The Python API takes settings as a plain dict too, so a bad field
    must stop with one line naming it, as the environment's would, not pydantic's report."""
    from pydantic import ValidationError

    from leadml.errors import LeadMLError

    if given is None or isinstance(given, Mapping):
        try:
            given = Settings(**dict(given or {}))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise LeadMLError(f"settings: {where}: {error['msg']}") from None
    return given.model_copy(update=update) if update else given
