"""Typed dependencies: what a route needs, declared in its signature (``Annotated[...]``).

Each is ``async`` on purpose: FastAPI runs plain-def dependencies in a worker thread, a hop
that would cost more than the lookup itself on the scoring path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from serve.history import ScoreHistory
from serve.holder import LoadedModel, ModelHolder


async def require_key(request: Request) -> None:
    """The API key check (``serve.auth``); a no-op when the server has no keys."""
    await request.app.state.keys(request)


async def _holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def _served(request: Request) -> LoadedModel:
    # Read once per request: whatever reloads happen meanwhile, one request uses one model.
    return request.app.state.holder.current


async def _history(request: Request) -> ScoreHistory | None:
    return request.app.state.history


async def _history_store(request: Request) -> ScoreHistory:
    history = request.app.state.history
    if history is None:
        raise HTTPException(404, "score history is turned off on this server")
    return history


Holder = Annotated[ModelHolder, Depends(_holder)]
Served = Annotated[LoadedModel, Depends(_served)]
History = Annotated[ScoreHistory | None, Depends(_history)]
HistoryStore = Annotated[ScoreHistory, Depends(_history_store)]
