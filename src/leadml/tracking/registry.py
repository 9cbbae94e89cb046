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

from leadml.tracking.aliases import CHALLENGER, CHAMPION, alias_version

#: Characters of a registered model's name in its version labels (see ``version_label``).
LABEL_NAME_CHARS = 150


def version_label(name: str, version: str | int, run_id: str | None) -> str:
    """``<name>-v<N>-<run id, 8 characters>``: unique in a store for ever, readable in a log.

    The name is cut to ``LABEL_NAME_CHARS``: every score is stored under this label, in a
    column of 200 characters (``history.tables``), and MLflow takes longer model names; the
    version and run id keep a cut label unique."""
    label = f"{name[:LABEL_NAME_CHARS]}-v{version}"
    return f"{label}-{run_id[:8]}" if run_id else label


def registered_names(client: MlflowClient) -> list[str]:
    """Every registered model in the store, sorted."""
    return sorted(m.name for m in client.search_registered_models())


def register(
    client: MlflowClient, model_uri: str, name: str, run_id: str, crown: bool = True
) -> str:
    """Register a logged model and set aliases: challenger, and champion if vacant; none when
    ``crown`` is False (a model that loses to its baselines: :mod:`leadml.modeling.verdict`)."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="leadml lead conversion model (LightGBM + calibration)"
        )
    version = client.create_model_version(name, model_uri, run_id=run_id).version
    if not crown:
        return str(version)
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


#: The figures ``leadml versions`` shows for each version (MLflow metric names of its run).
HEADLINE = ("test_roc_auc", "test_ece", "test_log_loss")


def version_rows(client: MlflowClient, name: str) -> list[dict[str, Any]]:
    """Every registered version of ``name``, newest first: aliases, when it was trained, on
    which leads (the data window) and its headline figures, read from its run."""
    rows = []
    # The registered model knows its aliases; the versions a search returns may not.
    aliases = client.get_registered_model(name).aliases or {}
    for mv in client.search_model_versions(f"name='{name}'"):
        row: dict[str, Any] = {
            "version": str(mv.version),
            "aliases": sorted(a for a, v in aliases.items() if str(v) == str(mv.version)),
            "run_id": mv.run_id,
            "trained_at": None,
            "data_from": None,
            "data_to": None,
            "rows": None,
        }
        row |= dict.fromkeys(HEADLINE)
        try:
            run = client.get_run(mv.run_id) if mv.run_id else None
        except MlflowException:
            run = None
        if run is not None:
            tags, metrics, params = run.data.tags, run.data.metrics, run.data.params
            started = datetime.fromtimestamp(run.info.start_time / 1000, UTC)
            row["trained_at"] = tags.get("leadml.trained_at") or started.isoformat("seconds")
            row["data_from"] = tags.get("leadml.data_from") or None
            row["data_to"] = tags.get("leadml.data_to") or None
            row["rows"] = params.get("rows_shipped")
            row |= {k: metrics.get(k) for k in HEADLINE}
        rows.append(row)
    return sorted(rows, key=lambda r: int(r["version"]), reverse=True)
