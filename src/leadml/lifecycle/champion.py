"""Which registered model is meant, who is its champion, and the champion's bundle.

Every after-deployment verb starts here: ``retrain`` judges against the champion and takes its
schema and horizon, ``promote`` judges against it. The champion is looked up once, as the
version its alias points to, and loaded by that version (``models:/name/N``), so the model
judged is the one the alias named a moment ago even if someone moves it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadml.errors import LeadMLError

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from leadml.bundle.model import LeadModel
    from leadml.config import Settings


@dataclass(frozen=True)
class Champion:
    """A registered model's champion: its version (None: there is none yet) and bundle."""

    name: str
    version: str | None
    model: LeadModel | None = None


def registered_project(client: MlflowClient, name: str | None) -> str:
    """The registered model meant: ``name``, else the store's only one."""
    from leadml.tracking.registry import registered_names

    names = registered_names(client)
    if name is not None:
        if name not in names:
            shown = ", ".join(names) if names else "none"
            raise LeadMLError(f"no registered model '{name}' (registered: {shown})")
        return name
    if len(names) == 1:
        return names[0]
    shown = ", ".join(names) if names else "none"
    raise LeadMLError(f"say which model with --name NAME; registered models: {shown}")


def find_champion(
    client: MlflowClient, settings: Settings, name: str, *, load: bool = True
) -> Champion:
    """``name``'s champion: the version its alias points to and (``load``) its bundle, read
    from the store in ``settings`` and checked with its bundle key."""
    from leadml.tracking.aliases import CHAMPION, alias_version

    version = alias_version(client, name, CHAMPION)
    if version is None or not load:
        return Champion(name, version)
    return Champion(name, version, version_model(settings, name, version))


def version_model(settings: Settings, name: str, version: str) -> LeadModel:
    """Version ``version`` of ``name``'s bundle, checked with the settings' bundle key."""
    from leadml.tracking.references import load_model

    ref = f"models:/{name}/{version}"
    return load_model(ref, settings.tracking_uri, settings.bundle_key)
