"""``/v1/score``, ``/v1/explain`` and ``/v1/model``: what CRMs call.

The request bodies are built from the served model's schema when the app is made (that is what
puts field types, answers and descriptions into ``/docs``), so this router is made by a
function that receives them; everything else comes in through typed dependencies.
"""

import math
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Annotated, Any, Literal

import anyio
import numpy as np
from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel

from leadml.explain.verdicts import qualified_rule
from leadml.features.encoder import FeatureEncoder
from leadml.features.inputs import (
    MIN_FIELD_SHARE,
    input_fields,
    lead_missing_fields,
    needed_fields,
    sparse_message,
)
from leadml.history.changes import kept_criteria
from leadml.history.rows import ScoreRecord, trend
from leadml.history.store import HistoryBusy, ScoreHistory
from leadml.tracking.references import is_registry_reference
from serve.body import StrictJSONRoute
from serve.deps import OPERATOR, History, Served, Shadow, Tenant, Viewer, require_key
from serve.errors import BodyRejected
from serve.holder import LoadedModel
from serve.predict import explain_one, score_leads
from serve.response_models import (
    ExplainResponse,
    FastJSONResponse,
    ModelInfo,
    ScoreResponse,
)

#: Documented on every /v1 route: what a CRM integration must be ready for.
AUTH = {401: {"description": "Missing or invalid API key (when the server has keys)"}}
BAD_INPUT = {
    400: {"description": "Malformed JSON, or a malformed HTTP request"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid input: the message names the field (and the lead)"},
}
BUSY = {
    503: {
        "description": "The score history is behind: nothing was scored; send the same "
        "request again after Retry-After seconds"
    }
}
#: Numbers-only batches up to this size are scored on the event loop (tens of microseconds
#: a lead: a thread hop would cost more). Big batches go to worker threads, so they use every
#: core and never stall the quick calls behind them.
INLINE_LEADS = 20
#: Explained batches up to this size are scored on the event loop when no other scoring
#: request is in progress: for a CRM sending leads one by one, the hop to a worker thread and
#: back (about 0.1 ms, more when the loop must wake up for it) is pure waiting. When other
#: requests are in progress, the explanation (TreeSHAP, about half a millisecond a lead with
#: the GIL released inside LightGBM) goes to a worker thread, so the loop goes on reading and
#: answering the others on the second core.
INLINE_EXPLAINED = 1


class InFlight:
    """How many scoring requests are between their start and their answer (one event loop
    reads and writes it, so a plain counter is enough)."""

    def __init__(self) -> None:
        self.count = 0

    def alone(self) -> bool:
        return self.count <= 1


def _finite(value: Any) -> Any:
    """JSON has no NaN: metrics that could not be computed are reported as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def lead_dicts(
    leads: list[BaseModel], id_column: str | None
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """The validated leads as dicts under their column names, and their ids."""
    dicts = [lead.model_dump(by_alias=True) for lead in leads]
    ids = [d.get(id_column) for d in dicts] if id_column else [None] * len(dicts)
    # A blank id is no id: history keyed on "" would give unrelated leads one timeline.
    return dicts, [i if i is not None and i.strip() else None for i in ids]


def sent_fields(leads: list[BaseModel]) -> list[set[str]]:
    """The fields each lead was sent with (a field not sent is warned about, one sent as null
    is a deliberate "unknown")."""
    out = []
    for lead in leads:
        fields = type(lead).model_fields
        out.append({fields[name].alias or name for name in lead.model_fields_set})
    return out


def check_fields(
    loaded: LoadedModel, dicts: list[dict[str, Any]], min_share: float | None, where: str
) -> None:
    """422 naming every lead that gives fewer than ``min_share`` of the model's fields (None:
    sparse leads allowed): a lead scored from (almost) nothing gets the average grade, which a
    CRM would show as a judgement."""
    if min_share is None:
        return
    fields = input_fields(loaded.model)
    need = needed_fields(len(fields), min_share)
    errors = []
    for i, lead in enumerate(dicts):
        missing = lead_missing_fields(fields, lead)
        if len(fields) - len(missing) < need:
            place = f"{where}[{i}]" if where else "body"
            message = sparse_message(missing, len(fields), min_share)
            errors.append({"field": place, "message": message, "type": "too_few_fields"})
    if not errors:
        return
    hint = "send more of each lead's fields, or start the server with --allow-sparse"
    if len(errors) == 1:
        detail = f"{errors[0]['field']}: {errors[0]['message']}; {hint}"
    else:
        shown = ", ".join(e["field"] for e in errors[:10])
        more = f" … and {len(errors) - 10} more" if len(errors) > 10 else ""
        detail = (
            f"{len(errors)} leads give fewer than {need} of the model's {len(fields)} fields: "
            f"{shown}{more}; {hint}"
        )
    raise BodyRejected(422, detail, errors)


def admit(history: ScoreHistory | None, ids: list[str | None]) -> None:
    """503 with Retry-After, before any scoring, when the history could not take these scores.

    Refusing up front is what lets the history keep every score it acknowledged: a CRM that
    got a 200 has its scores stored; one that got a 503 sends the same leads again.
    """
    if history is None:
        return
    try:
        history.admit(sum(1 for i in ids if i is not None))
    except HistoryBusy as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None


async def add_history(
    history: ScoreHistory | None,
    tenant: str,
    scores: list[dict],
    x: np.ndarray,
    encoder: FeatureEncoder,
    base_score: float,
) -> None:
    """Each score's trend against the tenant's previous score of that lead; the new scores
    are recorded with the values the model read from ``x`` (never free text) and, when
    explained, their criteria's points against ``base_score`` (the average lead's score)."""
    for s in scores:
        s["trend"] = s["previous_score"] = None
    if history is None:
        return
    known = [(s, row) for s, row in zip(scores, x, strict=True) if s["lead_id"] is not None]
    if not known:
        return
    previous, unknown = history.remembered(tenant, [s["lead_id"] for s, _ in known])
    if unknown:  # only the database knows: ask it off the event loop
        previous.update(await anyio.to_thread.run_sync(history.look_up, tenant, unknown))
    # Decoding the matrix back to values costs microseconds a lead: a big batch does it off
    # the event loop, as its scoring was.
    rows = [row for _, row in known]
    if len(rows) <= INLINE_LEADS:
        values = [encoder.known_values(row) for row in rows]
    else:
        values = await anyio.to_thread.run_sync(lambda: [encoder.known_values(r) for r in rows])
    now = datetime.now(UTC)
    records = []
    for (s, _), stored in zip(known, values, strict=True):
        before = previous.get(s["lead_id"])
        s["previous_score"] = before
        s["trend"] = trend(s["score"], before)
        records.append(
            ScoreRecord(
                tenant, s["lead_id"], s["model_version"], s["probability"], s["score"],
                s["grade"], now, stored,
                **kept_criteria(s.get("criteria"), s["probability"], base_score),
            )
        )  # fmt: skip
    ticket = history.record(records)
    if history.sync:  # LEADML_HISTORY_SYNC: answered only once the database has them
        try:
            await history.wait_written(ticket, len(records))
        except HistoryBusy as exc:
            headers = {"Retry-After": str(exc.retry_after)}
            raise HTTPException(503, str(exc), headers=headers) from None


def scoring_router(
    lead_model: type[BaseModel],
    score_request: type[BaseModel],
    id_column: str | None,
    min_share: float | None = MIN_FIELD_SHARE,
) -> APIRouter:
    """The scoring routes for request bodies built from the served schema; leads giving fewer
    than ``min_share`` of the model's fields are refused (None: allowed)."""
    router = APIRouter(
        prefix="/v1",
        tags=["scoring"],
        dependencies=[Depends(require_key)],
        route_class=StrictJSONRoute,
    )
    in_flight = InFlight()

    @router.post(
        "/score",
        response_model=ScoreResponse,
        summary="Score 1 to 1,000 leads",
        responses={**AUTH, **BAD_INPUT, **BUSY},
    )
    async def score(
        body: Annotated[score_request, Body()],  # type: ignore[valid-type]
        tenant: Tenant,
        loaded: Served,
        history: History,
        shadow: Shadow,
        explain: Annotated[
            bool, Query(description="Add criteria, BANT verdict and reasons (slower).")
        ] = True,
        detail: Annotated[
            Literal["basic", "full"],
            Query(
                description="full: add next steps (explained leads), the 90 % outcome interval "
                "and the unfamiliar flag (slower: next steps rescore each candidate change)."
            ),
        ] = "basic",
    ) -> FastJSONResponse:
        dicts, ids = lead_dicts(body.leads, id_column)
        check_fields(loaded, dicts, min_share, "leads")
        admit(history, ids)
        in_flight.count += 1
        try:
            n = len(dicts)
            full = detail == "full"
            inline = (n <= INLINE_EXPLAINED and in_flight.alone()) if explain else n <= INLINE_LEADS
            sent = sent_fields(body.leads)
            if inline:
                scores, x = score_leads(loaded, dicts, ids, explain, sent, full)
            else:
                scores, x = await anyio.to_thread.run_sync(
                    score_leads, loaded, dicts, ids, explain, sent, full
                )
            await add_history(history, tenant, scores, x, loaded.model.encoder, loaded.base_score)
        finally:
            in_flight.count -= 1
        # Returned as a Response so FastAPI does not validate what we just built; the
        # response_model above documents it, and the tests check responses against it.
        response = FastJSONResponse({"model_version": loaded.version, "scores": scores})
        if shadow is not None:  # the answer is rendered: the challenger cannot change it
            shadow.submit(tenant, dicts, ids, x, loaded.model.encoder)
        return response

    @router.post(
        "/explain",
        response_model=ExplainResponse,
        summary="Explain one lead: every feature's contribution and the criterion roll-up",
        responses={**AUTH, **BAD_INPUT},
    )
    async def explain(
        lead: Annotated[lead_model, Body()],  # type: ignore[valid-type]
        loaded: Served,
    ) -> FastJSONResponse:
        dicts, ids = lead_dicts([lead], id_column)
        check_fields(loaded, dicts, min_share, "")
        in_flight.count += 1
        try:
            sent = sent_fields([lead])[0]
            if in_flight.alone():
                return FastJSONResponse(explain_one(loaded, dicts[0], ids[0], sent))
            return FastJSONResponse(
                await anyio.to_thread.run_sync(explain_one, loaded, dicts[0], ids[0], sent)
            )
        finally:
            in_flight.count -= 1

    @router.get(
        "/model",
        response_model=ModelInfo,
        summary="The served model: version, metrics, features, thresholds",
        responses=AUTH,
    )
    async def model_info(loaded: Served, who: Viewer) -> FastJSONResponse:
        model = loaded.model
        operator = who == OPERATOR
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
        return FastJSONResponse(_finite(body))

    return router


def shown_ref(ref: str) -> str:
    """The served reference as a tenant sees it: a registry reference as it is, a bundle folder
    by its name only (the server's paths are the operator's business, as its run ids are)."""
    if is_registry_reference(ref):
        return ref
    return PurePath(ref).name or ref
