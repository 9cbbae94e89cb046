"""``create_app``: the FastAPI service CRMs call and the sales-ops page, from one settings object.

The model is loaded before the app is built because the request models are made from its
schema (that is what puts field types, answers and descriptions into ``/docs``). Routes are
grouped by resource below; each reads the served model once per request (see ``holder``).

This module deliberately has no ``from __future__ import annotations``: FastAPI resolves the
body types of the route functions at runtime, and those types are built here, per schema.
"""

import logging
import math
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from leadml import __version__
from leadml.errors import LeadMLError
from serve import errors
from serve.auth import ApiKeys
from serve.history import HistoryUnavailable, ScoreHistory, ScoreRecord, trend
from serve.holder import ModelHolder
from serve.page import mount_static, page_router
from serve.schemas import (
    ExplainResponse,
    LeadHistory,
    ModelInfo,
    RecentLeads,
    ReloadRequest,
    ReloadResponse,
    ScoreResponse,
    lead_request_model,
    score_request_model,
)
from serve.scoring import explain_one, score_leads
from serve.settings import ServeSettings

log = logging.getLogger("serve")

#: Documented on every /v1 route: what a CRM integration must be ready for.
AUTH = {401: {"description": "Missing or invalid API key (when the server has keys)"}}
#: Numbers-only batches up to this size are scored on the event loop (tens of microseconds
#: a lead: a thread hop would cost more). Explanations (TreeSHAP, about a millisecond a lead,
#: with the GIL released inside LightGBM) and big batches go to worker threads, so they use
#: every core and never stall the quick calls behind them.
INLINE_LEADS = 20
BAD_INPUT = {
    400: {"description": "Malformed JSON"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid input: the message names the field (and the lead)"},
}

DESCRIPTION = """
Lead conversion scores with their reasons, for CRMs and sales ops.

* `POST /v1/score`: 1 to 1,000 leads → probability, score 0–100, grade A–D, tier, stage, the
  qualification criteria (BANT by default) with their push and verdict, and plain reasons.
  `?explain=false` returns the numbers only (fastest).
* `POST /v1/explain`: one lead → every feature's contribution and the criterion roll-up.
* Send `Authorization: Bearer <key>` when the server has API keys (LEADML_API_KEYS).
"""


def _finite(value: Any) -> Any:
    """JSON has no NaN: metrics that could not be computed are reported as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def create_app(
    settings: ServeSettings | None = None,
    *,
    holder: ModelHolder | None = None,
) -> FastAPI:
    """The service for ``settings.model_ref`` (or an already loaded ``holder``)."""
    settings = settings or ServeSettings()
    if holder is None:
        if not settings.model_ref:
            raise LeadMLError("no model to serve: give --model REF (or LEADML_MODEL_REF)")
        holder = ModelHolder(settings.model_ref, settings.tracking_uri, settings.framework)
    history_url = settings.history_database
    history = ScoreHistory(history_url) if history_url else None
    keys = ApiKeys(settings.keys)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if history is not None:
            await anyio.to_thread.run_sync(history.start)
        app.state.ready = True
        log.info(
            "serving %s from %s (auth %s, history %s)",
            holder.current.version,
            holder.current.ref,
            "on" if keys.enabled else "off",
            history.status()["database"] if history else "off",
        )
        yield
        app.state.ready = False
        if history is not None:
            await anyio.to_thread.run_sync(history.close)

    app = FastAPI(
        title="leadml",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.ready = False
    app.state.holder = holder
    app.state.history = history
    app.state.settings = settings
    app.state.keys = keys
    errors.install(app)
    app.include_router(_health_router(holder, history))
    app.include_router(_scoring_router(settings, holder, history, keys))
    app.include_router(_history_router(history, keys))
    app.include_router(_admin_router(holder, keys))
    app.include_router(page_router(holder, keys, history is not None, settings.max_leads))
    mount_static(app)
    return app


# -- health --------------------------------------------------------------------------------------
def _health_router(holder: ModelHolder, history: ScoreHistory | None) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness: the process answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness: 200 once a model is loaded and the app has started, else 503",
        responses={503: {"description": "Not ready (starting or stopping)"}},
    )
    async def ready(request: Request) -> JSONResponse:
        if not getattr(request.app.state, "ready", False):
            return JSONResponse({"status": "starting"}, status_code=503)
        body = {
            "status": "ready",
            "model_version": holder.current.version,
            "history": history.status() if history else None,
        }
        return JSONResponse(body)

    return router


# -- scoring -------------------------------------------------------------------------------------
def _scoring_router(
    settings: ServeSettings,
    holder: ModelHolder,
    history: ScoreHistory | None,
    keys: ApiKeys,
) -> APIRouter:
    first = holder.current.model
    lead_model = lead_request_model(first.schema, first.encoder.levels)
    score_request = score_request_model(lead_model, settings.max_leads)
    id_column = first.schema.id
    router = APIRouter(prefix="/v1", tags=["scoring"], dependencies=[Depends(keys)])

    def lead_dicts(leads: list) -> tuple[list[dict[str, Any]], list[str | None]]:
        dicts = [lead.model_dump(by_alias=True) for lead in leads]
        ids = [d.get(id_column) for d in dicts] if id_column else [None] * len(dicts)
        # A blank id is no id: history keyed on "" would give unrelated leads one timeline.
        return dicts, [i if i is not None and i.strip() else None for i in ids]

    async def add_history(scores: list[dict], dicts: list[dict], features: list[str]) -> None:
        for s in scores:
            s["trend"] = s["previous_score"] = None
        if history is None:
            return
        known = [(s, d) for s, d in zip(scores, dicts, strict=True) if s["lead_id"] is not None]
        if not known:
            return
        previous, unknown = history.remembered([s["lead_id"] for s, _ in known])
        if unknown:  # only the database knows: ask it off the event loop
            previous.update(await anyio.to_thread.run_sync(history.look_up, unknown))
        now = datetime.now(UTC)
        records = []
        for s, d in known:
            before = previous.get(s["lead_id"])
            s["previous_score"] = before
            s["trend"] = trend(s["score"], before)
            values = {n: d[n] for n in features if d.get(n) is not None}
            records.append(
                ScoreRecord(
                    s["lead_id"], s["model_version"], s["probability"], s["score"],
                    s["grade"], now, values,
                )
            )  # fmt: skip
        history.record(records)

    @router.post(
        "/score",
        response_model=ScoreResponse,
        summary="Score 1 to 1,000 leads",
        responses={**AUTH, **BAD_INPUT},
    )
    async def score(
        body: Annotated[score_request, Body()],  # type: ignore[valid-type]
        explain: Annotated[
            bool, Query(description="Add criteria, BANT verdict and reasons (slower).")
        ] = True,
    ) -> JSONResponse:
        loaded = holder.current  # one model for the whole request, whatever reloads happen
        dicts, ids = lead_dicts(body.leads)
        if not explain and len(dicts) <= INLINE_LEADS:
            scores = score_leads(loaded, dicts, ids, explain)
        else:
            scores = await anyio.to_thread.run_sync(score_leads, loaded, dicts, ids, explain)
        await add_history(scores, dicts, loaded.model.encoder.names)
        # Returned as a Response so FastAPI does not validate what we just built; the
        # response_model above documents it, and the tests check responses against it.
        return JSONResponse({"model_version": loaded.version, "scores": scores})

    @router.post(
        "/explain",
        response_model=ExplainResponse,
        summary="Explain one lead: every feature's contribution and the criterion roll-up",
        responses={**AUTH, **BAD_INPUT},
    )
    async def explain(lead: Annotated[lead_model, Body()]) -> JSONResponse:  # type: ignore[valid-type]
        loaded = holder.current
        dicts, ids = lead_dicts([lead])
        return JSONResponse(await anyio.to_thread.run_sync(explain_one, loaded, dicts[0], ids[0]))

    @router.get(
        "/model",
        response_model=ModelInfo,
        summary="The served model: version, metrics, features, thresholds",
        responses=AUTH,
    )
    async def model_info() -> JSONResponse:
        loaded = holder.current
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
            "ref": loaded.ref,
            "loaded_at": loaded.loaded_at.isoformat(timespec="seconds"),
            "trained_at": model.meta.get("trained_at"),
            "run_id": model.meta.get("run_id"),
            "framework": loaded.framework,
            "criteria": list(loaded.criteria),
            "metrics": model.metrics,
            "features": features,
            "lead_id_field": model.schema.id,
            "thresholds": {
                "grades": dict(zip("ABC", bands.cutoffs, strict=True)),
                "tiers": bands.tiers,
                "stages": bands.stages,
                "trend_points": 2,
            },
        }
        return JSONResponse(_finite(body))

    return router


# -- history -------------------------------------------------------------------------------------
def _history_router(history: ScoreHistory | None, keys: ApiKeys) -> APIRouter:
    router = APIRouter(prefix="/v1/history", tags=["history"], dependencies=[Depends(keys)])

    def store() -> ScoreHistory:
        if history is None:
            raise HTTPException(404, "score history is turned off on this server")
        return history

    def rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "scored_at": r["scored_at"].isoformat()} for r in rows]

    unavailable = {
        404: {"description": "History is turned off on this server"},
        503: {"description": "The history database cannot be read right now"},
    }

    @router.get(
        "",
        response_model=RecentLeads,
        summary="Recently scored leads, newest first (one row per lead)",
        responses={**AUTH, **unavailable, 422: {"description": "Invalid limit"}},
    )
    def recent(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> JSONResponse:
        try:
            rows = store().recent(limit)
        except HistoryUnavailable as exc:
            raise HTTPException(503, str(exc)) from None
        return JSONResponse({"leads": rows_json(rows)})

    @router.get(
        "/{lead_id}",
        response_model=LeadHistory,
        summary="One lead's scores over time, oldest first",
        responses={
            **AUTH,
            **unavailable,
            404: {"description": "No scores for this lead id, or history turned off"},
            422: {"description": "Invalid lead id or limit"},
        },
    )
    def lead(
        lead_id: Annotated[str, Path(min_length=1, max_length=500)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> JSONResponse:
        try:
            rows = store().lead(lead_id, limit)
        except HistoryUnavailable as exc:
            raise HTTPException(503, str(exc)) from None
        if not rows:
            raise HTTPException(404, "no scores recorded for this lead id")
        return JSONResponse({"lead_id": lead_id, "scores": rows_json(rows)})

    return router


# -- admin ---------------------------------------------------------------------------------------
def _admin_router(holder: ModelHolder, keys: ApiKeys) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(keys)])

    @router.post(
        "/reload",
        response_model=ReloadResponse,
        summary="Load a model (default: the current reference again) and swap it in",
        responses={
            **AUTH,
            **BAD_INPUT,
            422: {"description": "Unusable model or bad body; the old model keeps serving"},
        },
    )
    def reload(body: Annotated[ReloadRequest | None, Body()] = None) -> JSONResponse:
        try:
            old, new = holder.reload(body.model if body else None)
        except LeadMLError as exc:
            return JSONResponse(
                {"detail": str(exc), "serving": holder.current.version}, status_code=422
            )
        return JSONResponse(
            {"model_version": new.version, "previous_version": old.version, "ref": new.ref}
        )

    return router
