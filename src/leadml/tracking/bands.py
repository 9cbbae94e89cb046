"""A capacity cut-off as a new registered version: the same booster, new SQL stage band.

``leadml thresholds --apply`` on a ``models:/`` reference lands here: the version is logged in
a run beside the one it came from (its tags, params and figures, since the booster is the
same) and registered under the same name, the old version untouched; the champion follows only
when the reference named it, recorded like a promotion so ``leadml rollback`` undoes it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadml.errors import LeadMLError
from leadml.qualify.capacity import band_change

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.qualify.capacity import CapacityPlan


def apply_to_registry(
    ref: str,
    settings: Settings,
    plan: CapacityPlan,
    record: dict[str, Any],
    segment: str | None = None,
) -> dict[str, Any]:
    """A new registered version of the same model beside the old one; the champion follows
    when ``ref`` named it, recorded as a promotion. Nothing existing changes before the new
    version is there, and nothing but the champion alias after."""
    from mlflow.tracking import MlflowClient

    from leadml.bundle.model import LeadModel
    from leadml.bundle.signing import SIGNATURE_FILE, sign_bundle
    from leadml.tracking.aliases import CHAMPION
    from leadml.tracking.champions import BundleFolder, move_champion
    from leadml.tracking.references import download_bundle
    from leadml.tracking.registry import parse_reference
    from leadml.tracking.store import connect

    parsed = parse_reference(ref)
    if parsed is None:
        raise LeadMLError(f"--apply takes a bundle folder or models:/<name>@alias or /N, not {ref}")
    connect(settings)
    client = MlflowClient()
    with tempfile.TemporaryDirectory(prefix="leadml-thresholds-") as work:
        bundle, identity = download_bundle(ref, Path(work), settings.tracking_uri)
        if not identity:
            raise LeadMLError(f"{ref} is not a registered model version")
        name, old = identity["registered_model"], identity["registry_version"]
        run_id = client.get_model_version(name, old).run_id
        lead_model = LeadModel.load(bundle, key=settings.bundle_key)
        if (bundle / SIGNATURE_FILE).exists() and settings.bundle_key is None:
            raise LeadMLError(f"{ref} is signed: set LEADML_BUNDLE_KEY to sign the new version")
        lead_model.meta.update(identity | {"run_id": run_id or ""})
        lead_model.take_capacity(plan, record, segment)
        lead_model.meta = band_change(lead_model.meta, lead_model.version, plan, record)
        lead_model.write_files(bundle)
        if settings.bundle_key is not None:
            sign_bundle(bundle, settings.bundle_key)
        new = log_version(client, name, old, run_id, lead_model, bundle, settings)
    moved = parsed[2] == CHAMPION
    if moved:
        folder = BundleFolder.of(settings, name)
        move_champion(client, name, new, who=record["chosen_by"], why=plan.why(), folder=folder)
    return {"registered_model": name, "from_version": old, "version": new, "moved": moved}


def log_version(
    client: Any,
    name: str,
    old: str,
    run_id: str | None,
    model: LeadModel,
    bundle: Path,
    settings: Settings,
) -> str:
    """Log ``bundle`` as a pyfunc in a run beside the one version ``old`` came from (its tags,
    params and figures: the same booster) and register it as a new version of ``name``."""
    from warnings import catch_warnings, filterwarnings

    import mlflow

    from leadml.tracking import runs
    from leadml.tracking.store import connect
    from leadml.version import __version__

    source = client.get_run(run_id) if run_id else None
    experiment = source.info.experiment_id if source else connect(settings, name)
    why = model.meta["band_changes"][-1]["what"]
    tags = {
        k: v for k, v in (source.data.tags if source else {}).items() if k.startswith("leadml.")
    }
    tags |= {"leadml.derived_from": f"v{old}", "leadml.applied": why, "leadml.version": __version__}
    with mlflow.start_run(experiment_id=experiment, run_name=f"v{old} + SQL band") as run:
        mlflow.set_tags(tags)
        mlflow.log_params(source.data.params if source else {})
        mlflow.log_metrics(runs.flat_metrics(model.metrics))
        mlflow.log_dict(model.bands.to_dict(), "bands.json")
        with catch_warnings():
            filterwarnings("ignore", message=".*input example was not provided")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(Path(runs.__file__).with_name("pyfunc.py")),
                artifacts={"bundle": str(bundle)},
                pip_requirements=[f"leadml=={__version__}"],
                signature=runs.pyfunc_signature(model.schema),
            )
    version = client.create_model_version(
        name,
        info.model_uri,
        run_id=run.info.run_id,
        tags={"leadml.derived_from": old, "leadml.applied": why},
        description=f"v{old} with an SQL stage band from capacity: {why}",
    )
    return str(version.version)
