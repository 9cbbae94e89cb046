"""``/health`` (the process answers) and ``/ready`` (a model is loaded and the app started).

Both stay open: load balancers and orchestrators call them without keys. ``/ready`` therefore
tells anyone only whether the service is ready and which model it serves. A tenant's scoring
key adds whether the history writes and that tenant's own counts (written, pending, dropped):
never the database URL (even with the password hidden it names a user, host and port), error
text, paths, or other tenants' counts. The full details, the history's and the shadow model's
(its reference and what became of its scores; dropped shadow scores never make the status
"degraded": no caller was answered with them), go to an admin key, or to anyone on a server
without keys, which only listens on loopback.
A history that is failing or has dropped rows makes the status "degraded": still 200, since
scoring goes on without it, but visible to monitoring.
"""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from serve.deps import OPERATOR, History, Holder, Shadow, viewer

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Readiness: 200 once a model is loaded and the app has started, else 503",
    description="`status` is 'ready', or 'degraded' while the score history fails or has "
    "dropped rows (scoring goes on). A scoring key adds its own tenant's history counts; an "
    "admin key (or a server without keys) the history's and the shadow model's full details "
    "(`leadml serve --shadow`; null without one).",
    responses={503: {"description": "Not ready (starting or stopping)"}},
)
async def ready(request: Request, holder: Holder, history: History, shadow: Shadow) -> JSONResponse:
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    status = history.status() if history else None
    degraded = status is not None and (not status["ok"] or status["dropped"] > 0)
    body = {"status": "degraded" if degraded else "ready", "model_version": holder.current.version}
    who = viewer(request)
    if who == OPERATOR:
        body["history"] = status
        body["shadow"] = shadow.status() if shadow else None
    elif who is not None:
        body["history"] = history.tenant_status(who) if history else None
        body["shadow"] = {"model_version": shadow.loaded.version} if shadow else None
    return JSONResponse(body)
