"""``/health`` (the process answers) and ``/ready`` (a model is loaded and the app started)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from serve.deps import History, Holder

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: 200 once a model is loaded and the app has started, else 503",
    responses={503: {"description": "Not ready (starting or stopping)"}},
)
async def ready(request: Request, holder: Holder, history: History) -> JSONResponse:
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    body = {
        "status": "ready",
        "model_version": holder.current.version,
        "history": history.status() if history else None,
    }
    return JSONResponse(body)
