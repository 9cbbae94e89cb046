"""``/health`` (the process answers) and ``/ready`` (a model is loaded and the app started).

Both stay open: load balancers and orchestrators call them without keys. ``/ready`` therefore
tells anyone only whether the service is ready and which model it serves; the score history's
details (its database URL, even with the password hidden, names a user, host and port; its
errors and counts) are shown only to a caller whose key would be accepted on ``/v1``, as are
the shadow model's (its version and what became of its scores; dropped shadow scores never
make the status "degraded": no caller was answered with them).
A history that is failing or has dropped rows makes the status "degraded": still 200, since
scoring goes on without it, but visible to monitoring.
"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from serve.deps import History, Holder, Shadow

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def may_see_details(request: Request) -> bool:
    """Whether the caller's key (or an open server) would be accepted on ``/v1``."""
    try:
        request.app.state.auth.tenant(request)
    except HTTPException:
        return False
    return True


@router.get(
    "/ready",
    summary="Readiness: 200 once a model is loaded and the app has started, else 503",
    description="`status` is 'ready', or 'degraded' while the score history fails or has "
    "dropped rows (scoring goes on). With a valid key the history's details are added, and "
    "the shadow model's (`leadml serve --shadow`; null without one).",
    responses={503: {"description": "Not ready (starting or stopping)"}},
)
async def ready(request: Request, holder: Holder, history: History, shadow: Shadow) -> JSONResponse:
    if not getattr(request.app.state, "ready", False):
        return JSONResponse({"status": "starting"}, status_code=503)
    status = history.status() if history else None
    degraded = status is not None and (not status["ok"] or status["dropped"] > 0)
    body = {"status": "degraded" if degraded else "ready", "model_version": holder.current.version}
    if may_see_details(request):
        body["history"] = status
        body["shadow"] = shadow.status() if shadow else None
    return JSONResponse(body)
