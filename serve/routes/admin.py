"""``/v1/admin``: ``reload`` swaps the served model for another one that proves it works;
``erase`` deletes one tenant's, or one lead's, scores and outcomes (``leadml history erase``'s
rule, :mod:`leadml.history.erase`).

The reload runs in a thread of its own (a capacity limiter of one), never in the worker threads
scoring uses, so however long a download takes, scoring does not wait for a thread. A second
reload while one runs is answered 409 at once rather than queued.
"""

from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from leadml.errors import LeadMLError
from leadml.history.store import HistoryUnavailable
from serve.deps import HistoryStore, Holder, require_admin
from serve.edge.body import StrictJSONRoute
from serve.heavy_work import Heavy
from serve.model.candidate import ReloadTimeout
from serve.model.holder import ReloadBusy
from serve.model.reload_refs import RefusedReference
from serve.routes.common import AUTH, BAD_INPUT
from serve.schemas.admin import EraseRequest, EraseResponse, ReloadRequest, ReloadResponse

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=StrictJSONRoute,
)


def _status(exc: LeadMLError) -> int:
    if isinstance(exc, ReloadBusy):
        return 409
    if isinstance(exc, RefusedReference):
        return 400
    if isinstance(exc, ReloadTimeout):
        return 504
    return 422


@router.post(
    "/reload",
    response_model=ReloadResponse,
    summary="Load a model (default: the current reference again) and swap it in",
    responses={
        **AUTH,
        **BAD_INPUT,
        400: {"description": "A reference this server may not load (nothing was fetched)"},
        403: {"description": "Not an admin key, or admin routes are off"},
        409: {"description": "Another reload is running"},
        422: {"description": "Unusable model or bad body; the old model keeps serving"},
        504: {"description": "The model was not fetched and checked in time"},
    },
)
async def reload(
    holder: Holder, heavy: Heavy, body: Annotated[ReloadRequest | None, Body()] = None
) -> JSONResponse:
    try:
        with holder.reload_slot():
            old, new = await anyio.to_thread.run_sync(
                holder.swap_to, body.ref if body else None, limiter=heavy.reloads
            )
    except LeadMLError as exc:
        return JSONResponse(
            {"detail": str(exc), "serving": holder.current.version}, status_code=_status(exc)
        )
    return JSONResponse(
        {"model_version": new.version, "previous_version": old.version, "ref": new.ref}
    )


@router.post(
    "/erase",
    response_model=EraseResponse,
    summary="Erase a tenant's (or one of its leads') scores and outcomes",
    responses={
        **AUTH,
        **BAD_INPUT,
        403: {"description": "Not an admin key, or admin routes are off"},
        404: {"description": "The score history is turned off"},
        503: {"description": "The history database cannot be reached: send it again"},
    },
)
async def erase(
    body: Annotated[EraseRequest, Body()], history: HistoryStore, heavy: Heavy
) -> JSONResponse:
    try:  # a deletion of many rows: on the writer's thread, as outcome posts are
        done = await heavy.write(history.erase, body.tenant, body.lead_id)
    except HistoryUnavailable as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return JSONResponse(
        {
            "tenant": done.tenant,
            "lead_id": done.lead_id,
            "scores": done.scores,
            "outcomes": done.outcomes,
        }
    )
