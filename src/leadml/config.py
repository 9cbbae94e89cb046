"""One settings object for leadml, read from the environment (prefix ``LEADML_``).

Everything that a deployment may want to change lives here, so that no module keeps its own
globals: paths, the MLflow store, the grade bands. The defaults make ``make demo`` work on a
fresh clone with nothing running: an embedded SQLite MLflow store inside the project folder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``LEADML_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="LEADML_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default_factory=Path.cwd,
        description="Project folder holding mlflow/, models/ and data/sample/.",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        # read once, when the settings are made: MLflow's set_tracking_uri rewrites this
        # variable in-process, so reading it later would follow whatever store was used last
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "LEADML_MLFLOW_TRACKING_URI"),
        description="MLflow store; MLFLOW_TRACKING_URI wins, else embedded SQLite under home.",
    )
    experiment: str = Field(default="leadml", description="MLflow experiment name.")
    registered_model: str = Field(default="leadml", description="MLflow registry model name.")
    seed: int = Field(default=42, description="Seed for splits and model fitting.")
    test_fraction: float = Field(default=0.2, gt=0, lt=0.5)
    valid_fraction: float = Field(default=0.2, gt=0, lt=0.5)
    num_threads: int = Field(default=2, ge=1, description="LightGBM threads for training.")
    min_class_count: int = Field(
        default=40,
        ge=1,
        description="Fewest converted and unconverted leads needed to train (as Dynamics 365).",
    )
    grade_shares: tuple[float, float, float] = Field(
        default=(0.10, 0.30, 0.60),
        description="Cumulative shares of test leads in grades A, A+B, A+B+C (rest is D).",
    )
    framework: str = Field(default="bant", description="Qualification framework for roll-ups.")

    @field_validator("mlflow_tracking_uri")
    @classmethod
    def _empty_means_unset(cls, value: str | None) -> str | None:
        return value or None

    @property
    def tracking_uri(self) -> str:
        """The MLflow store to use: the one configured, else SQLite under home."""
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.home / 'mlflow' / 'mlflow.db').resolve()}"

    @property
    def artifact_root(self) -> Path:
        """Where a local store keeps artifacts; set explicitly so nothing lands in ./mlruns."""
        return (self.home / "mlflow" / "artifacts").resolve()

    @property
    def models_dir(self) -> Path:
        return (self.home / "models").resolve()

    @property
    def sample_data(self) -> Path:
        return (self.home / "data" / "sample" / "leads.csv").resolve()
