"""The MLflow model registry: one registered model, ``champion`` serves, ``challenger`` waits.

A new training run becomes the challenger. It becomes champion on its own only when there is
none yet; otherwise ``leadml promote`` decides, on evidence (see ``promote``).
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the model or alias does not exist."""
    try:
        return client.get_model_version_by_alias(name, alias).version
    except MlflowException:
        return None


def register(client: MlflowClient, model_uri: str, name: str, run_id: str) -> str:
    """Register a logged model and set aliases: challenger always, champion if vacant."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="leadml lead conversion model (LightGBM + calibration)"
        )
    version = client.create_model_version(name, model_uri, run_id=run_id).version
    client.set_registered_model_alias(name, CHALLENGER, version)
    if alias_version(client, name, CHAMPION) is None:
        client.set_registered_model_alias(name, CHAMPION, version)
    return str(version)
