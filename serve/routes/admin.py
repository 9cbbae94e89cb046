"""``/v1/admin/reload``: swap the served model for another one that proves it works."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from leadml.errors import LeadMLError
from serve.deps import Holder, require_admin
from serve.request_models import ReloadRequest
from serve.response_models import ReloadResponse
from serve.routes.scoring import AUTH, BAD_INPUT

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])


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
def reload(holder: Holder, body: Annotated[ReloadRequest | None, Body()] = None) -> JSONResponse:
    try:
        old, new = holder.reload(body.model if body else None)
    except LeadMLError as exc:
        return JSONResponse(
            {"detail": str(exc), "serving": holder.current.version}, status_code=422
        )
    return JSONResponse(
        {"model_version": new.version, "previous_version": old.version, "ref": new.ref}
    )
