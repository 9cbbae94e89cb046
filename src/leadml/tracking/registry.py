"""The MLflow model registry: one registered model per project, ``champion`` serves,
``challenger`` waits.

A new training run becomes the challenger of its own project's registered model (named from the
schema, or ``--name``), so a bank model never competes with the synthetic demo's champion. It
becomes champion on its own only when there is none yet; otherwise ``leadml promote`` decides,
on evidence (:mod:`leadml.modeling.promotion`).

Registry numbers start again at 1 when a store is deleted, so the version label a model carries
(and the score history keys on) adds the run id: ``bank-full-v3-1a2b3c4d`` names one model for
ever.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"


def version_label(name: str, version: str | int, run_id: str | None) -> str:
    """``<name>-v<N>-<run id, 8 characters>``: unique in a store for ever, readable in a log."""
    label = f"{name}-v{version}"
    return f"{label}-{run_id[:8]}" if run_id else label


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the model or alias does not exist."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def registered_names(client: MlflowClient) -> list[str]:
    """Every registered model in the store, sorted."""
    return sorted(m.name for m in client.search_registered_models())


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


def parse_reference(ref: str) -> tuple[str, str | None, str | None] | None:
    """``models:/name@alias`` → (name, None, alias); ``models:/name/N`` → (name, N, None);
    anything else → None."""
    if not ref.startswith("models:/"):
        return None
    body = ref.removeprefix("models:/").strip("/")
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, None, alias
    if "/" in body:
        name, version = body.split("/", 1)
        return name, version, None
    return None


def registry_identity(client: MlflowClient, ref: str) -> dict[str, str]:
    """Name, version and version label behind ``models:/name@alias`` or ``models:/name/N``.

    The bundle logged with a run is written before the registry numbers it, so the version a
    registry reference points to is looked up here rather than stored in the files.
    """
    parsed = parse_reference(ref)
    if parsed is None:
        return {}
    name, version, alias = parsed
    try:
        found = (
            client.get_model_version_by_alias(name, alias)
            if alias
            else client.get_model_version(name, str(version))
        )
    except MlflowException:
        return {}
    return {
        "registered_model": name,
        "registry_version": str(found.version),
        "version": version_label(name, found.version, found.run_id),
    }


def record_promotion(
    client: MlflowClient, name: str, old: str | None, new: str, who: str, numbers: dict[str, Any]
) -> None:
    """Move the champion alias and leave the who / when / from / to trail in MLflow tags."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_registered_model_alias(name, CHAMPION, new)
    tags = {
        "leadml.promoted_by": who,
        "leadml.promoted_at": when,
        "leadml.promoted_from": old or "none",
        "leadml.promoted_to": new,
        "leadml.promotion_evidence": str(numbers),
    }
    for key, value in tags.items():
        client.set_model_version_tag(name, new, key, value)
    client.set_registered_model_tag(
        name, "leadml.last_promotion", f"{when} {who}: v{old or '-'} → v{new}"
    )
