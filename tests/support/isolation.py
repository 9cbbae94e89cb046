"""Process-wide state a test may change without meaning to keep it, saved and put back.

MLflow's ``set_tracking_uri``/``set_registry_uri`` keep the store in module globals *and* write
it into ``os.environ``; a test that leaves them set makes every later ``Settings`` (and every
``MlflowClient()``) follow its store, so the suite's result would depend on its order. The same
holds for the working folder and an MLflow run a failing test left open.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

#: Variables MLflow's setters and the CLI's home lookup read and write.
VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "LEADML_HOME")


@dataclass(frozen=True)
class ProcessState:
    """What ``restore`` puts back."""

    environ: dict[str, str | None]
    cwd: str
    tracking_uri: str | None
    registry_uri: str | None


def _mlflow_utils() -> tuple[object, object] | None:
    """MLflow's modules that hold the in-process URIs (None before mlflow is imported)."""
    if "mlflow" not in sys.modules:
        return None
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    return tracking_utils, registry_utils


def snapshot() -> ProcessState:
    """The state now."""
    utils = _mlflow_utils()
    tracking, registry = (None, None)
    if utils is not None:
        tracking, registry = utils[0]._tracking_uri, utils[1]._registry_uri  # type: ignore[attr-defined]
    return ProcessState(
        {key: os.environ.get(key) for key in VARIABLES}, os.getcwd(), tracking, registry
    )


def restore(state: ProcessState) -> None:
    """Put ``state`` back and end any MLflow run left open."""
    os.chdir(state.cwd)
    for key, value in state.environ.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    utils = _mlflow_utils()
    if utils is None:
        return
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()
    utils[0]._tracking_uri = state.tracking_uri  # type: ignore[attr-defined]
    utils[1]._registry_uri = state.registry_uri  # type: ignore[attr-defined]
