"""The MLflow store: checked before any work, set up so local runs stay inside the project.

Training fails fast, before reading data, when the store cannot be reached, so an unreachable
server never leaves a half-logged run or a model that exists on disk but not in the registry.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from leadml.config import Settings
from leadml.errors import TrackingError


@contextmanager
def _quick_http():
    """A reachability probe should answer in seconds, not after MLflow's retry schedule."""
    saved = {
        k: os.environ.get(k)
        for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT")
    }
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "5"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def use_store(uri: str) -> None:
    """Point this process's MLflow at ``uri`` without rewriting its environment.

    MLflow's setters also write MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI into ``os.environ``;
    left there, every Settings made later in the same process (a notebook training a second
    project, a test) would silently follow the store used last instead of its own.
    """
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def connect(settings: Settings, experiment: str | None = None) -> str | None:
    """Point MLflow at the configured store and check it answers; with an experiment name
    (``experiment``, else the settings'), return its id, creating it if need be."""
    from mlflow.tracking import MlflowClient

    uri = settings.tracking_uri
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        db = Path(uri.removeprefix("sqlite:///"))
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackingError(
                f"cannot create the MLflow store folder {db.parent}: {exc}"
            ) from None
    use_store(uri)
    name = experiment or settings.experiment
    try:
        with _quick_http():
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            if name is None:
                client.search_experiments(max_results=1)
                return None
            found = client.get_experiment_by_name(name)
            if found is not None:
                return found.experiment_id
            location = None
            if parsed.scheme in ("sqlite", "file", ""):
                settings.artifact_root.mkdir(parents=True, exist_ok=True)
                location = settings.artifact_root.as_uri()
            return client.create_experiment(name, artifact_location=location)
    except TrackingError:
        raise
    except Exception as exc:  # MLflow surfaces connection problems under many types
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TrackingError(f"MLflow store {uri} is not reachable: {first[:300]}") from None
