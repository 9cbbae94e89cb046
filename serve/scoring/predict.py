"""The per-request path: lead dicts → numpy matrix → one-thread LightGBM → JSON-ready dicts.

No pandas here: a one-row DataFrame costs milliseconds, a numpy row microseconds. The matrix
is filled through the encoder's frozen category maps (the same ones training used), and
``explain_matrix`` makes one ``pred_contrib`` call for the whole batch.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from leadml.explain.attributions import LeadExplanation, explain_matrix
from leadml.explain.decisions import lead_decisions
from leadml.features.inputs import lead_warnings
from serve.model.holder import LoadedModel, encode

#: Numbers-only batches up to this size are scored (and their history rows decoded) on the
#: event loop: tens of microseconds a lead, where a thread hop would cost more. Big batches go
#: to worker threads, so they use every core and never stall the quick calls behind them.
INLINE_LEADS = 20


def _reasons(explanation: LeadExplanation) -> tuple[list[dict], list[dict]]:
    return (
        [r.to_dict() for r in explanation.positive],
        [r.to_dict() for r in explanation.negative],
    )


def _criteria(explanation: LeadExplanation, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {
        name: {"contribution": c.contribution, "points": c.points, "met": c.met}
        for name in names
        for c in (explanation.criteria[name],)
    }


def _decisions(
    loaded: LoadedModel,
    x: np.ndarray,
    probabilities: Sequence[float],
    warnings: Sequence[list[dict]],
    explanations: Sequence[LeadExplanation] | None,
) -> list[dict[str, Any]]:
    """``?detail=full``: the outcome interval, the unfamiliar flag and (explained) next steps.

    Kept apart from the default answer because next steps rescore every candidate change
    (one batched prediction, but tens of rows a lead): see the README's latency figures."""
    model = loaded.model
    out = lead_decisions(model, x, probabilities, explanations, warnings, num_threads=1)
    for answer in out:
        steps = answer.pop("next_steps")
        if explanations is not None:
            answer["next_steps"] = [{**s.to_dict(), "text": s.text(model)} for s in steps]
    return out


def score_leads(
    loaded: LoadedModel,
    leads: Sequence[Mapping[str, Any]],
    lead_ids: Sequence[str | None],
    explain: bool = True,
    sent: Sequence[Collection[str]] | None = None,
    detail: bool = False,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """One dict per lead, in order: labels and warnings, and with ``explain`` criteria in
    points, the verdict, reasons, concerns, questions, fit and engagement; with ``detail`` the
    decisions of ``_decisions``; and the matrix they were scored from (the history keeps what
    the model read from it)."""
    x = encode(loaded, leads)
    version = loaded.version
    model = loaded.model
    # The probability always comes from the booster's own prediction, so a score is identical
    # to the last bit with or without explanations (and to ``leadml score``); the sum of the
    # contributions agrees with it only to ~1e-15.
    probabilities = model.predict_proba(x, num_threads=1).tolist()
    # Grade bands per lead: its segment's where the model has segments (and the model that
    # scored it, ``model``); else the model's own, as they always were.
    labels = [model.label_one(p, row) for p, row in zip(probabilities, x, strict=True)]
    sent = sent if sent is not None else [lead.keys() for lead in leads]
    warnings = [
        lead_warnings(model, lead, row, fields)
        for lead, row, fields in zip(leads, x, sent, strict=True)
    ]
    out: list[dict[str, Any]] = []
    if not explain:
        for lead_id, label, w in zip(lead_ids, labels, warnings, strict=True):
            out.append(
                {
                    "lead_id": lead_id,
                    "scored": True,
                    **label,
                    "model_version": version,
                    "warnings": w,
                }
            )
        if detail:
            for answer, more in zip(
                out, _decisions(loaded, x, probabilities, warnings, None), strict=True
            ):
                answer.update(more)
        return out, x
    explanations = explain_matrix(model, x, loaded.framework, num_threads=1)
    for lead_id, label, e, w in zip(lead_ids, labels, explanations, warnings, strict=True):
        reasons, concerns = _reasons(e)
        out.append(
            {
                "lead_id": lead_id,
                "scored": True,
                **label,
                "model_version": version,
                "framework": e.framework,
                "criteria": _criteria(e, loaded.criteria),
                "qualified": e.qualified,
                "reasons": reasons,
                "concerns": concerns,
                "questions": [q.to_dict() for q in e.questions],
                "fit": e.fit,
                "engagement": e.engagement,
                "warnings": w,
            }
        )
    if detail:
        for answer, more in zip(
            out, _decisions(loaded, x, probabilities, warnings, explanations), strict=True
        ):
            answer.update(more)
    return out, x


def explain_one(
    loaded: LoadedModel,
    lead: Mapping[str, Any],
    lead_id: str | None,
    sent: Collection[str] | None = None,
) -> dict[str, Any]:
    """Every feature's contribution, the criteria and the groups, for ``POST /v1/explain``."""
    model = loaded.model
    x = encode(loaded, [lead])
    e = explain_matrix(model, x, loaded.framework, num_threads=1)[0]
    probability = float(model.predict_proba(x, num_threads=1)[0])
    specs = {f.name: f for f in model.schema.features}
    features = []
    for j, name in enumerate(model.encoder.names):
        spec = specs.get(name)
        code = float(x[0, j])
        value = None if math.isnan(code) else model.encoder.decode_value(j, code)
        features.append(
            {
                "name": name,
                "display": spec.label if spec else name,
                "value": value,
                "contribution": e.contributions[name],
                "points": e.feature_points[name],
                "criterion": spec.criterion if spec else "none",
                "group": spec.group if spec else "other",
            }
        )
    features.sort(key=lambda f: -abs(f["contribution"]))
    criteria = {n: v.to_dict() for n, v in e.criteria.items() if n in loaded.criteria}
    groups = {n: v.to_dict() for n, v in e.criteria.items() if n not in loaded.criteria}
    reasons, concerns = _reasons(e)
    warnings = lead_warnings(model, lead, x[0], sent)
    decisions = _decisions(loaded, x, [probability], [warnings], [e])[0]
    return {
        "lead_id": lead_id,
        "model_version": loaded.version,
        **model.label_one(probability, x[0]),
        "framework": e.framework,
        "base_value": e.base_value,
        "base_score": e.base_score,
        "raw_log_odds": e.raw_log_odds,
        "features": features,
        "criteria": criteria,
        "groups": groups,
        "qualified": e.qualified,
        "reasons": reasons,
        "concerns": concerns,
        "questions": [q.to_dict() for q in e.questions],
        "fit": e.fit,
        "engagement": e.engagement,
        **decisions,
        "warnings": warnings,
    }
