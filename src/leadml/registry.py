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
        return str(client.get_model_version_by_alias(name, alias).version)
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


# -- promotion gate -------------------------------------------------------------------------------
#: The challenger may lose at most this much ROC AUC to the champion ...
AUC_TOLERANCE = 0.005
#: ... and its expected calibration error may rise at most this much.
ECE_TOLERANCE = 0.01


def promotion_verdict(champion: dict, challenger: dict) -> tuple[bool, list[str]]:
    """Not worse than the champion on the same held-out data, within stated tolerances."""
    reasons = []
    if challenger["roc_auc"] < champion["roc_auc"] - AUC_TOLERANCE:
        reasons.append(
            f"ROC AUC {challenger['roc_auc']:.4f} is below the champion's "
            f"{champion['roc_auc']:.4f} by more than {AUC_TOLERANCE}"
        )
    if challenger["ece"] > champion["ece"] + ECE_TOLERANCE:
        reasons.append(
            f"calibration error {challenger['ece']:.4f} exceeds the champion's "
            f"{champion['ece']:.4f} by more than {ECE_TOLERANCE}"
        )
    return not reasons, reasons


def record_promotion(
    client: MlflowClient, name: str, old: str | None, new: str, who: str, numbers: dict
) -> None:
    """Move the champion alias and leave the who / when / from / to trail in MLflow tags."""
    from datetime import UTC, datetime

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
