"""``/v1/model``'s body: the served model as a CRM integration needs to know it.

Version, metrics, features, thresholds and what a probability means; the server's own details
(the bundle's path, the MLflow run id) only for an operator.
"""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from leadml.explain.verdicts import qualified_rule
from leadml.tracking.references import is_registry_reference
from serve.model.holder import LoadedModel

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel


def finite(value: Any) -> Any:
    """JSON has no NaN: metrics that could not be computed are reported as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def shown_ref(ref: str) -> str:
    """The served reference as a tenant sees it: a registry reference as it is, a bundle folder
    by its name only (the server's paths are the operator's business, as its run ids are)."""
    if is_registry_reference(ref):
        return ref
    return PurePath(ref).name or ref


def describe_model(loaded: LoadedModel, operator: bool) -> dict[str, Any]:
    """The body of ``/v1/model`` (JSON-safe); ``operator``: with the server's own details."""
    model = loaded.model
    features = [
        {
            "name": f.name,
            "display": f.label,
            "kind": f.kind,
            "group": f.group,
            "criterion": f.criterion,
            "monotone": f.monotone,
            "levels": model.encoder.levels.get(f.name),
        }
        for f in model.schema.features
        if f.name in model.encoder.names
    ]
    bands = model.bands
    body = {
        "model_version": loaded.version,
        "ref": loaded.ref if operator else shown_ref(loaded.ref),
        "loaded_at": loaded.loaded_at.isoformat(timespec="seconds"),
        "trained_at": model.meta.get("trained_at"),
        "run_id": model.meta.get("run_id") if operator else None,
        "framework": loaded.framework,
        "criteria": list(loaded.criteria),
        "base_score": loaded.base_score,
        "metrics": model.metrics,
        "features": features,
        "lead_id_field": model.schema.id,
        "thresholds": {
            "grades": dict(zip("ABC", bands.cutoffs, strict=True)),
            "tiers": bands.tiers,
            "stages": bands.stages,
            "trend_points": 2,
            "sql_cutoff": bands.sql_cutoff,
            "capacity": bands.capacity,
        },
        "interval": model.meta.get("interval"),
        "horizon_days": model.horizon_days,
        "probability_means": model.probability_means,
        **qualified_rule(model, loaded.framework).to_dict(),
    }
    segments = segment_info(model)
    if segments is not None:  # answers of models without segments keep their shape
        body["segments"] = segments
    return finite(body)


def segment_info(model: LeadModel) -> dict[str, Any] | None:
    """Per segment value: the model that scores it, its calibration and grade bands, and its
    backtest figures (None: no segment column)."""
    if model.segments is None:
        return None
    figures = {s["value"]: s for s in (model.metrics.get("segments") or {}).get("segments", [])}
    out = []
    for route in model.segments.routes:
        bands = route.bands or model.bands
        seg = figures.get(route.value, {})
        out.append(
            {
                "value": route.value,
                "model": route.name,
                "calibration": "own" if route.calibrator is not None else "global",
                "bands": "own" if route.bands is not None else "global",
                "grades": dict(zip("ABC", bands.cutoffs, strict=True)),
                "sql_cutoff": bands.sql_cutoff,
                "sql_from": bands.sql_from,
                "capacity": bands.capacity,
                "leads": seg.get("leads"),
                "roc_auc": (seg.get("pooled") or {}).get("roc_auc"),
                "note": seg.get("note"),
            }
        )
    return {"column": model.segments.column, "segments": out}
