"""``GET /v1/monitor``: ``leadml monitor`` as JSON, on the caller's tenant's own leads.

The served model is monitored on the leads the caller scored in the window (``since``, default
30 days), with the outcomes the caller posted, and the shadow challenger beside it when one
runs. An admin key may name a tenant (``?tenant=``); a tenant's key reads its own leads only.

Bounded, whatever the history holds: a monitor reads the window's ``MAX_LEADS`` most recently
scored leads (found among its newest ``SCAN_SCORES`` scores on an index:
``leadml.lifecycle.monitoring.monitor_newest``), each at its latest score, and says so
(``sampled``: leads monitored, of the window's scores). On a tenant of 436,000 scores a call
took 28–41 s and grew the process by 310 MB (issue 27); it now costs what 5,000 leads cost.
It runs one computation at a time on the heavy-work threads (``serve.heavy_work``), with
LightGBM on one thread, so scoring keeps its threads and a core.

Answers are reused for ``CACHE_S`` seconds, keyed so that a new ``since`` does not bypass the
cache: when the window holds at least ``SCAN_SCORES`` scores the sample is the same for every
such window (its newest scores), so one answer per tenant serves them all (its ``window``
says which leads it read); a smaller window is keyed by its ``since``, and costs less than the
sample. The key also holds the tenant's outcome count and newest outcome time
(``outcomes_mark``, one indexed query), so the answer after ``POST /v1/outcomes`` or
``leadml outcomes import`` counts them. Every answer says when it was computed
(``computed_at``) and how many seconds ago that was (``age_s``); scores that arrived since are
counted once the minute is over.

``?by=segment`` adds the figures per segment of the model's segment column
(:mod:`leadml.monitor.segments`), read from the segment value each score stored with the
features the model read; a model without a segment column answers 409 (the request is
well formed; the model at hand cannot answer it).
"""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import StringConstraints
from sqlalchemy.exc import SQLAlchemyError

from leadml.errors import LeadMLError
from leadml.history.outcomes import outcomes_mark
from leadml.history.store import ScoreHistory
from leadml.history.window import window_scores
from leadml.lifecycle.monitoring import SCAN_SCORES, monitor_newest
from leadml.monitor.recent import parse_since
from leadml.monitor.segments import BY_SEGMENT, segment_name
from serve.deps import HistoryStore, Served, Tenant, require_key
from serve.edge.auth import MAX_TENANT
from serve.heavy_work import Heavy
from serve.model.holder import LoadedModel
from serve.routes.common import AUTH, UNAVAILABLE, caught_up
from serve.schemas.response_models import FastJSONResponse, MonitorResponse

#: A window back from now: days, hours or weeks (what ``parse_since`` reads besides a date).
Span = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,5}[dhw]$")]
#: A tenant an admin names: a key's name (``serve.edge.auth``).
TenantName = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TENANT, pattern=r"^[A-Za-z0-9._-]+$")
]
#: The window's scores are counted up to this many (an index range: milliseconds).
COUNT_CAP = 1_000_000
#: How long an answer is reused for the same tenant, window, model and outcomes.
CACHE_S = 60.0
#: (tenant, window: "newest" or since, model version, outcome count, newest outcome time).
Key = tuple[str, str, str, int, str | None]
#: The key's window when the window holds more scores than the sample reads.
NEWEST = "newest"


def monitor_tenant(
    loaded: LoadedModel,
    history: ScoreHistory,
    tenant: str,
    start: datetime,
    full: bool,
    by: str | None = None,
) -> dict[str, Any]:
    """The monitoring answer for the tenant's newest leads scored since ``start`` (JSON-safe;
    the sample and its window: :func:`leadml.lifecycle.monitoring.monitor_newest`)."""
    result = monitor_newest(
        loaded.model,
        history.engine,
        tenant,
        start,
        full,
        framework=loaded.framework,
        num_threads=1,  # the other cores are scoring's
        by=by,
    )
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
    """The route, with its own answer cache and one computation at a time."""
    router = APIRouter(prefix="/v1", tags=["monitoring"], dependencies=[Depends(require_key)])
    one_at_a_time = anyio.Lock()
    cache = AnswerCache()

    @router.get(
        "/monitor",
        response_model=MonitorResponse,
        summary="Drift, realized and estimated performance of the served model on your leads",
        responses={
            **AUTH,
            **UNAVAILABLE,
            403: {"description": "?tenant= names another tenant, and the key is no admin key"},
            404: {"description": "No scored leads in the window, or history turned off"},
            409: {"description": "?by=segment on a model without a segment column"},
            422: {"description": "Invalid window or tenant name"},
        },
    )
    async def monitor(
        tenant: Tenant,
        loaded: Served,
        history: HistoryStore,
        heavy: Heavy,
        since: Annotated[
            Span | date,
            Query(description="The window: a span back from now (30d, 12h, 2w) or a date."),
        ] = "30d",
        whose: Annotated[
            TenantName | None,
            Query(alias="tenant", description="Admin keys only: the tenant to monitor."),
        ] = None,
        by: Annotated[
            Literal["segment"] | None,
            Query(description="segment: drift and performance per segment as well."),
        ] = None,
    ) -> FastJSONResponse:
        tenant = monitored_tenant(tenant, whose)
        since = str(since)
        if by is not None:
            try:
                segment_name(loaded.model, BY_SEGMENT)
            except LeadMLError as exc:
                raise HTTPException(409, str(exc)) from None
        try:
            start = parse_since(since)

            def probe() -> tuple[tuple[int, str | None], int]:
                # Read before computing: outcomes posted meanwhile make the next key differ.
                mark = outcomes_mark(history.engine, tenant)
                return mark, window_scores(history.engine, tenant, start, COUNT_CAP)

            mark, in_window = await heavy.read(probe)
            full = in_window >= SCAN_SCORES
            window = (NEWEST if full else since) + (f" by {by}" if by else "")
            key = (tenant, window, loaded.version, *mark)
            body = cache.get(key)
            if body is None:
                async with one_at_a_time:  # waiting here holds no thread
                    body = cache.get(key)  # computed by the call this one waited for
                    if body is None:

                        def work() -> dict[str, Any]:
                            caught_up(history)
                            return monitor_tenant(loaded, history, tenant, start, full, by)

                        body = await heavy.read(work)
                        cache.put(key, body)
        except LeadMLError as exc:
            raise HTTPException(404, str(exc)) from None
        except SQLAlchemyError:  # the database away: as the history's reads say it
            raise HTTPException(503, "the history database cannot be read right now") from None
        return FastJSONResponse({**body, "sampled": {"leads": body["leads"], "of": in_window}})

    return router


def monitored_tenant(caller: str, named: str | None) -> str:
    """Whose leads: the caller's own, or the tenant an admin key names (403 for any other
    key naming another tenant: one CRM never reads another's leads)."""
    if named is None or named == caller:
        return caller
    if not caller.startswith("admin:"):  # ``serve.edge.auth``: an admin key's tenant
        raise HTTPException(403, "only an admin key may name another tenant (?tenant=)")
    return named
