"""``GET /v1/monitor``: ``leadml monitor`` as JSON, on the caller's tenant's own leads.

The served model is monitored on the leads the caller scored in the window (``since``, default
30 days), with the outcomes the caller posted, and the shadow challenger beside it when one
runs. A monitor reads and rescores many leads (TreeSHAP for the criteria's drift), so it runs
on its own worker thread, one at a time (scoring's threads are never taken), on the newest
``MAX_LEADS`` leads of the window at most, and an answer is reused for ``CACHE_S`` seconds:
a dashboard polling it costs one computation a minute, not one per poll.

Reused, never stale on what matters most: the cache key holds the tenant's outcome count and
newest outcome time (``outcomes_mark``, one indexed query), so the answer after
``POST /v1/outcomes`` or ``leadml outcomes import`` counts them. Every answer says when it was
computed (``computed_at``) and how many seconds ago that was (``age_s``); scores that arrived
since are counted once the minute is over.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Annotated, Any

import anyio
import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import StringConstraints
from sqlalchemy.exc import SQLAlchemyError

from leadml.errors import LeadMLError
from leadml.history.outcomes import outcomes_mark
from leadml.history.store import ScoreHistory
from leadml.history.window import scored_leads, shadow_pairs
from leadml.monitor.recent import from_history, parse_since
from leadml.monitor.report import monitor_recent
from serve.deps import HistoryStore, Served, Tenant, require_key
from serve.holder import LoadedModel
from serve.response_models import FastJSONResponse, MonitorResponse
from serve.routes.history import UNAVAILABLE, caught_up
from serve.routes.scoring import AUTH

#: A window back from now: days, hours or weeks (what ``parse_since`` reads besides a date).
Span = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}[dhw]$")]
#: The newest leads of the window a monitor reads at most (a few seconds of work).
MAX_LEADS = 20_000
#: How long an answer is reused for the same tenant, window, model and outcomes.
CACHE_S = 60.0
#: (tenant, window, model version, the tenant's outcome count and newest outcome time).
Key = tuple[str, str, str, int, str | None]


def monitor_tenant(
    loaded: LoadedModel, history: ScoreHistory, tenant: str, since: str
) -> dict[str, Any]:
    """The monitoring result for one tenant's leads scored since ``since`` (JSON-safe)."""
    start = parse_since(since)
    scored = scored_leads(history.engine, tenant, start)
    notes = []
    if len(scored) > MAX_LEADS:
        notes.append(f"the newest {MAX_LEADS:,} of {len(scored):,} leads in the window")
        scored = scored.sort_values("scored_at").tail(MAX_LEADS)
    pairs = shadow_pairs(history.engine, tenant, start)
    recent = from_history(loaded.model, scored, f"since {start:%Y-%m-%d %H:%M} UTC")
    result = monitor_recent(
        loaded.model,
        recent,
        framework=loaded.framework,
        shadow=pairs if isinstance(pairs, pd.DataFrame) else None,
    )
    result.notes.extend(notes)
    return {**result.to_dict(), "age_s": 0.0, "summary": result.summary_lines()}


class AnswerCache:
    """Answers by ``Key``, each kept ``CACHE_S`` seconds; a hit says its age."""

    def __init__(self) -> None:
        self._answers: dict[Key, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> dict[str, Any] | None:
        with self._lock:
            hit = self._answers.get(key)
        if hit is None:
            return None
        age = time.monotonic() - hit[0]
        return {**hit[1], "age_s": round(age, 1)} if age < CACHE_S else None

    def put(self, key: Key, body: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._lock:
            self._answers = {k: v for k, v in self._answers.items() if now - v[0] < CACHE_S}
            self._answers[key] = (now, body)


def monitor_router() -> APIRouter:
    """The route, with its own answer cache and a limiter of one computation at a time."""
    router = APIRouter(prefix="/v1", tags=["monitoring"], dependencies=[Depends(require_key)])
    limiter = anyio.CapacityLimiter(1)
    cache = AnswerCache()

    @router.get(
        "/monitor",
        response_model=MonitorResponse,
        summary="Drift, realized and estimated performance of the served model on your leads",
        responses={
            **AUTH,
            **UNAVAILABLE,
            404: {"description": "No scored leads in the window, or history turned off"},
            422: {"description": "Invalid window"},
        },
    )
    async def monitor(
        tenant: Tenant,
        loaded: Served,
        history: HistoryStore,
        since: Annotated[
            Span | date,
            Query(description="The window: a span back from now (30d, 12h, 2w) or a date."),
        ] = "30d",
    ) -> FastJSONResponse:
        since = str(since)
        try:
            # Read before computing: outcomes posted meanwhile make the next key differ.
            mark = await anyio.to_thread.run_sync(outcomes_mark, history.engine, tenant)
            key = (tenant, since, loaded.version, *mark)
            hit = cache.get(key)
            if hit is not None:
                return FastJSONResponse(hit)

            def work() -> dict[str, Any]:
                caught_up(history)
                return monitor_tenant(loaded, history, tenant, since)

            body = await anyio.to_thread.run_sync(work, limiter=limiter)
        except LeadMLError as exc:
            raise HTTPException(404, str(exc)) from None
        except SQLAlchemyError:  # the database away: as the history's reads say it
            raise HTTPException(503, "the history database cannot be read right now") from None
        cache.put(key, body)
        return FastJSONResponse(body)

    return router
