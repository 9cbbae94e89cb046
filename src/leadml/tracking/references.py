"""A model reference → a loaded ``LeadModel``: a bundle folder, or a name in MLflow.

``models:/name@alias``, ``models:/name/N`` and ``runs:/id/model`` are resolved through MLflow
and the bundle inside the logged pyfunc is loaded, so the same plain files are used whichever
way a model is named. MLflow is imported only for such references: scoring a local bundle
must not pay its import time. A download goes to a temporary folder that is removed once the
model is in memory, whether it loaded or not: a server reloading every hour must not fill its
disk with copies.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from leadml.bundle.model import LeadModel
from leadml.bundle.signing import Key
from leadml.errors import ModelLoadError

#: Where the logged pyfunc keeps the bundle's files (``artifacts={"bundle": ...}``).
PYFUNC_BUNDLE = Path("artifacts") / "bundle"


def is_registry_reference(ref: str | Path) -> bool:
    """True for ``models:/…``, ``runs:/…`` and other MLflow URIs; False for a folder."""
    text = str(ref)
    return "://" in text or ":/" in text


def download_bundle(
    ref: str, into: Path, tracking_uri: str | None = None
) -> tuple[Path, dict[str, str]]:
    """Download the bundle behind a registry reference into the folder ``into``.

    Returns the bundle folder (inside ``into``) and the registry's name, version and version
    label for it (empty for a ``runs:/`` reference), which the files themselves cannot hold.
    """
    import mlflow
    from mlflow.tracking import MlflowClient

    from leadml.tracking.registry import registry_identity

    if tracking_uri:
        from leadml.tracking.store import use_store

        use_store(tracking_uri)
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=ref, dst_path=str(into)))
        identity = registry_identity(MlflowClient(), ref)
    except Exception as exc:  # MLflow raises many types for "not found"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelLoadError(f"cannot resolve model '{ref}': {first}") from None
    bundle = local / PYFUNC_BUNDLE
    return (bundle if bundle.is_dir() else local), identity


def load_model(
    ref: str | Path, tracking_uri: str | None = None, key: Key | None = None
) -> LeadModel:
    """Load from a bundle folder, ``models:/name@alias``, ``models:/name/N`` or
    ``runs:/id/model``; ``tracking_uri`` names the store for the last three, ``key`` (the
    bundle key) refuses any bundle not signed with it."""
    text = str(ref)
    if not is_registry_reference(text):
        return LeadModel.load(text, key=key)
    with tempfile.TemporaryDirectory(prefix="leadml-model-") as folder:
        bundle, identity = download_bundle(text, Path(folder), tracking_uri)
        model = LeadModel.load(bundle, key=key)
    model.meta["ref"] = text
    model.meta.update(identity)
    return model
