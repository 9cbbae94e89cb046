"""``LeadModel``: a trained booster with everything needed to score and explain a lead.

A bundle is a folder of plain files: ``model.txt`` (LightGBM's own text format),
``leadml.json`` (schema, frozen encodings, calibrator, grade bands, metadata) and
``metrics.json``. Nothing is pickled, so loading a model never runs code from the file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.calibration import Calibrator
from leadml.errors import ModelLoadError
from leadml.features import FeatureEncoder
from leadml.qualify import GradeBands, label_frame, score_0_100
from leadml.schema import LeadSchema

BUNDLE_FORMAT = 1
MODEL_FILE = "model.txt"
META_FILE = "leadml.json"
METRICS_FILE = "metrics.json"


def swap_in(staging: Path, target: Path) -> None:
    """Rename a finished folder into place; the previous one goes only once the new one is.

    Both renames stay on one filesystem (staging is made beside the target), so a reader sees
    either the old folder or the new one, never a half-written one.
    """
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


@dataclass
class LeadModel:
    """Booster + encoder + calibrator + grade bands; scoring and contributions in one place."""

    booster: lgb.Booster
    encoder: FeatureEncoder
    schema: LeadSchema
    calibrator: Calibrator
    bands: GradeBands
    meta: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    # -- identity ----------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Registry version when registered, else the bundle's own id."""
        return str(self.meta.get("version") or self.meta.get("model_id") or "unversioned")

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.names

    # -- scoring -----------------------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return self.encoder.transform(frame)

    def raw_scores(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Log-odds straight from the booster (what the contributions add up to)."""
        return self.booster.predict(x, raw_score=True, num_threads=num_threads)

    def predict_proba(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        return self.calibrator(self.raw_scores(x, num_threads=num_threads))

    def contributions(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Exact TreeSHAP per feature in log-odds; the last column is the base value."""
        return self.booster.predict(x, pred_contrib=True, num_threads=num_threads)

    def score_frame(self, frame: pd.DataFrame, num_threads: int = 0) -> pd.DataFrame:
        """Probability, score, grade, tier, stage for each row (index follows ``frame``)."""
        p = self.predict_proba(self.matrix(frame), num_threads=num_threads)
        labels = label_frame(p, self.bands)
        labels.index = frame.index
        return labels

    def score_one(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """Fast path for one lead dict: numpy row, one thread, no pandas."""
        row = self.encoder.encode_row(lead)
        p = float(self.predict_proba(row, num_threads=1)[0])
        grade = self.bands.grade_one(p)
        return {
            "probability": p,
            "score": int(score_0_100(np.array([p]))[0]),
            "grade": grade,
            "tier": self.bands.tiers[grade],
            "stage": self.bands.stages[grade],
        }

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the bundle atomically: a half-written folder never replaces a good one."""
        target = Path(directory).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            self.write_files(staging)
            swap_in(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def write_files(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        meta = {
            "format": BUNDLE_FORMAT,
            "model_sha256": hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest(),
            "schema": self.schema.to_dict(),
            "encoder": self.encoder.to_dict(),
            "calibrator": self.calibrator.to_dict(),
            "bands": self.bands.to_dict(),
            "meta": self.meta,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=_json_default))
        (folder / METRICS_FILE).write_text(
            json.dumps(self.metrics, indent=2, default=_json_default)
        )

    @classmethod
    def load(cls, directory: str | Path) -> LeadModel:
        folder = Path(directory)
        if not (folder / MODEL_FILE).is_file() or not (folder / META_FILE).is_file():
            raise ModelLoadError(
                f"{folder} is not a leadml bundle (expected {MODEL_FILE} and {META_FILE})"
            )
        try:
            meta = json.loads((folder / META_FILE).read_text())
            if meta.get("format") != BUNDLE_FORMAT:
                raise ModelLoadError(f"{folder}: unsupported bundle format {meta.get('format')}")
            booster = lgb.Booster(model_str=_checked_model_text(folder, meta))
            encoder = FeatureEncoder.from_dict(meta["encoder"])
            if booster.num_feature() != len(encoder.names):
                raise ModelLoadError(
                    f"{folder}: model has {booster.num_feature()} features, "
                    f"metadata lists {len(encoder.names)}"
                )
            metrics_path = folder / METRICS_FILE
            metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
            return cls(
                booster=booster,
                encoder=encoder,
                schema=LeadSchema.from_dict(meta["schema"]),
                calibrator=Calibrator.from_dict(meta["calibrator"]),
                bands=GradeBands.from_dict(meta["bands"]),
                meta=meta.get("meta", {}),
                metrics=metrics,
            )
        except ModelLoadError:
            raise
        except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
            raise ModelLoadError(
                f"{folder}: corrupt bundle ({type(exc).__name__}: {exc})"
            ) from None


def _checked_model_text(folder: Path, meta: dict[str, Any]) -> str:
    """``model.txt``, checked against the bundle's checksum before LightGBM parses it.

    LightGBM 4.7 does not raise on a damaged model file: a truncated copy crashes the process
    (segfault) and a garbled number aborts it, which would take a serving process down on a
    hot reload. Bundles written before the checksum existed are passed through unchecked.
    """
    data = (folder / MODEL_FILE).read_bytes()
    expected = meta.get("model_sha256")
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise ModelLoadError(
            f"{folder}: corrupt bundle ({MODEL_FILE} does not match the checksum in "
            f"{META_FILE}: truncated or damaged)"
        )
    return data.decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load_model(ref: str | Path, tracking_uri: str | None = None) -> LeadModel:
    """Load from a bundle folder, ``models:/name@alias``, ``models:/name/N`` or ``runs:/id/model``.

    Registry references are resolved through MLflow and the bundle inside the logged pyfunc is
    loaded, so the same plain files are used whichever way a model is named.
    """
    text = str(ref)
    if "://" not in text and ":/" not in text:
        return LeadModel.load(text)
    import mlflow  # deferred: scoring a local bundle must not pay MLflow's import time

    if tracking_uri:
        from leadml.tracking import use_store

        use_store(tracking_uri)
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=text)
    except Exception as exc:  # MLflow raises many types for "not found"
        raise ModelLoadError(f"cannot resolve model '{text}': {str(exc).splitlines()[0]}") from None
    bundle = Path(local) / "artifacts" / "bundle"
    model = LeadModel.load(bundle if bundle.exists() else local)
    model.meta["ref"] = text
    model.meta.update(_registry_identity(text))
    return model


def _registry_identity(ref: str) -> dict[str, str]:
    """Name and version behind ``models:/name@alias`` or ``models:/name/N`` (else nothing).

    The bundle logged with a run is written before the registry numbers it, so the version a
    registry reference points to is looked up here rather than stored in the files.
    """
    if not ref.startswith("models:/"):
        return {}
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    body = ref.removeprefix("models:/").strip("/")
    client = MlflowClient()
    try:
        if "@" in body:
            name, alias = body.split("@", 1)
            version = client.get_model_version_by_alias(name, alias).version
        elif "/" in body:
            name, version = body.split("/", 1)
            client.get_model_version(name, version)
        else:
            return {}
    except MlflowException:
        return {}
    return {
        "registered_model": name,
        "registry_version": str(version),
        "version": f"{name}-v{version}",
    }
