"""Typed dependencies: what a route needs, declared in its signature (``Annotated[...]``).

Each is ``async`` on purpose: FastAPI runs plain-def dependencies in a worker thread, a hop
that would cost more than the lookup itself on the scoring path. The two key checks are
OpenAPI security schemes too (``ScoringKey``, ``AdminKey``), so the spec says which key each
route takes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from leadml.history.store import ScoreHistory
from serve.edge.auth import KeyScheme, bearer_token
from serve.model.holder import LoadedModel, ModelHolder
from serve.model.shadow import ShadowScorer


def _tenant(request: Request) -> str:
    """The caller's tenant (``serve.edge.auth``): 401 without a valid key when the server has keys.

    Also kept on ``request.state.tenant`` for the access log and the history.
    """
    tenant = request.app.state.auth.tenant(request)
    request.state.tenant = tenant
    return tenant


def _operator(request: Request) -> str:
    """The operator's key name: 403 for scoring keys, and when no admin key is configured."""
    name = request.app.state.auth.operator(request)
    request.state.tenant = f"admin:{name}"
    return name


#: ``Depends(require_key)``: the caller's tenant (a scoring key, or an admin key, may read).
require_key = KeyScheme(
    "ScoringKey",
    "A scoring key from LEADML_API_KEYS, sent as `Authorization: Bearer <key>` (an admin key "
    "is accepted too). Servers without keys take requests without one.",
    _tenant,
)
#: ``Depends(require_admin)``: the operator's key name.
require_admin = KeyScheme(
    "AdminKey",
    "An operator key from LEADML_ADMIN_KEYS, sent as `Authorization: Bearer <key>`.",
    _operator,
)


#: ``viewer``'s answer for whoever may see every detail.
OPERATOR = "\x00operator"  # no key name can hold a NUL: never a tenant's name


def viewer(request: Request) -> str | None:
    """Who asks, for answers that hold server details (``/ready``, ``/v1/model``): ``OPERATOR``
    (an admin key, or a server with no keys at all, which only binds loopback) sees everything;
    a tenant's name sees what is its own; None (no valid key) sees nothing more."""
    auth = request.app.state.auth
    if not auth.scoring.enabled and not auth.admin.enabled:
        return OPERATOR
    token = bearer_token(request)
    if token is not None and auth.admin.match(token) is not None:
        return OPERATOR
    try:
        return auth.tenant(request)
    except HTTPException:
        return None


async def _viewer(request: Request) -> str | None:
    return viewer(request)


async def _holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def _served(request: Request) -> LoadedModel:
    # Read once per request: whatever reloads happen meanwhile, one request uses one model.
    return request.app.state.holder.current


async def _history(request: Request) -> ScoreHistory | None:
    return request.app.state.history


async def _shadow(request: Request) -> ShadowScorer | None:
    return request.app.state.shadow


async def _history_store(request: Request) -> ScoreHistory:
    history = request.app.state.history
    if history is None:
        raise HTTPException(404, "score history is turned off on this server")
    return history


Tenant = Annotated[str, Depends(require_key)]
Operator = Annotated[str, Depends(require_admin)]
Holder = Annotated[ModelHolder, Depends(_holder)]
#: Who asks (``viewer``): ``OPERATOR``, a tenant's name, or None.
Viewer = Annotated[str | None, Depends(_viewer)]
Served = Annotated[LoadedModel, Depends(_served)]
History = Annotated[ScoreHistory | None, Depends(_history)]
HistoryStore = Annotated[ScoreHistory, Depends(_history_store)]
#: The challenger of ``leadml serve --shadow`` (None without one).
Shadow = Annotated[ShadowScorer | None, Depends(_shadow)]
