"""A model reference → a loaded ``LeadModel``: a bundle folder, or a name in MLflow.

``models:/name@alias``, ``models:/name/N`` and ``runs:/id/model`` are resolved through MLflow
and the bundle inside the logged pyfunc is loaded, so the same plain files are used whichever
way a model is named. MLflow is imported only for such references: scoring a local bundle
must not pay its import time.
"""

from __future__ import annotations

from pathlib import Path

from leadml.bundle.model import LeadModel
from leadml.errors import ModelLoadError


def is_registry_reference(ref: str | Path) -> bool:
    """True for ``models:/…``, ``runs:/…`` and other MLflow URIs; False for a folder."""
    text = str(ref)
    return "://" in text or ":/" in text


def load_model(ref: str | Path, tracking_uri: str | None = None) -> LeadModel:
    """Load from a bundle folder, ``models:/name@alias``, ``models:/name/N`` or
    ``runs:/id/model``; ``tracking_uri`` names the store for the last three."""
    text = str(ref)
    if not is_registry_reference(text):
        return LeadModel.load(text)
    import mlflow
    from mlflow.tracking import MlflowClient

    from leadml.tracking.registry import registry_identity

    if tracking_uri:
        from leadml.tracking.store import use_store

        use_store(tracking_uri)
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=text)
    except Exception as exc:  # MLflow raises many types for "not found"
        raise ModelLoadError(f"cannot resolve model '{text}': {str(exc).splitlines()[0]}") from None
    bundle = Path(local) / "artifacts" / "bundle"
    model = LeadModel.load(bundle if bundle.exists() else local)
    model.meta["ref"] = text
    model.meta.update(registry_identity(MlflowClient(), text))
    return model
