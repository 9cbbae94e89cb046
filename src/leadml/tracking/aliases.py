"""The registry's two aliases, and which version each points to.

``champion`` serves, ``challenger`` waits. The names and the lookup live apart from the registry
(:mod:`leadml.tracking.registry`) and the champion's moves (:mod:`leadml.tracking.champions`),
which both need them, so that neither has to import the other.
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the model or alias does not exist."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None
