"""``/v1/history``: the caller's recently scored leads, and one lead's scores over time.

Every read is the caller's tenant's (its API key's name): one CRM never sees another's leads,
even under the same lead id. The store makes every row JSON-safe, so no stored value can turn
these routes into a 500 for everyone. A read first lets the queued scores reach the database
(the writer gathers them for a moment before writing), so a client reads the scores it was
just given.

One lead's scores each carry the change from the score before (``leadml.history.changes``):
the criteria that moved it and by how many points, when both scores were explained.

Reads are bounded and off the scoring path: the listing is a page (``limit``, at most
``MAX_PAGE``) that names where the next one starts (``next_before``), read on the index of a
tenant's newest scores, and every read runs on the heavy-work threads (``serve.heavy_work``),
never on the threads scoring hops to. A lead id may hold anything a CRM keys leads on, ``/``,
``.`` and ``..`` included: the route takes the rest of the path (send such characters
percent-encoded, ``%2F`` ``%2E``, which no client or proxy folds away).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse

from leadml.explain.rollup import plan_for
from leadml.history.changes import with_changes
from leadml.history.store import HistoryUnavailable
from serve.deps import HistoryStore, Served, Tenant, require_key
from serve.heavy_work import Heavy
from serve.routes.common import AUTH, UNAVAILABLE, caught_up
from serve.schemas.history import LeadHistory, RecentLeads

router = APIRouter(prefix="/v1/history", tags=["history"], dependencies=[Depends(require_key)])

#: Leads per page of the listing, by default and at most.
PAGE = 100
MAX_PAGE = 1000


def _rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as JSON: times as ISO text, and without the log-odds pushes, which changes are
    split by but a reader has no use for (the points say the same on the score's scale)."""
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("criteria_log_odds", "id")}
        if row.get("scored_by") is None:  # models without segments keep the old shape
            row.pop("scored_by", None)
        row["scored_at"] = r["scored_at"].isoformat()
        out.append(row)
    return out


@router.get(
    "",
    response_model=RecentLeads,
    summary="Your recently scored leads, newest first (one row per lead), a page at a time",
    responses={**AUTH, **UNAVAILABLE, 422: {"description": "Invalid limit or cursor"}},
)
async def recent(
    tenant: Tenant,
    history: HistoryStore,
    heavy: Heavy,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Leads in this page.")] = PAGE,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,  # a row number is a 64-bit integer in both databases
            description="Where this page starts: the next_before of the page before.",
        ),
    ] = None,
) -> JSONResponse:
    def read() -> list[dict[str, Any]]:
        caught_up(history)
        return history.recent(tenant, limit, before)

    try:
        rows = await heavy.read(read)
    except HistoryUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    # A full page may have more behind it; a short one is the last.
    following = rows[-1]["id"] if len(rows) == limit else None
    return JSONResponse({"leads": _rows_json(rows), "next_before": following})


@router.get(
    "/{lead_id:path}",
    response_model=LeadHistory,
    summary="One of your leads' scores over time, oldest first, and what moved each score",
    description="The lead id is the rest of the path: an id holding `/`, `.` or `..` is sent "
    "percent-encoded (`%2F`, `%2E`).",
    responses={
        **AUTH,
        **UNAVAILABLE,
        404: {"description": "No scores for this lead id, or history turned off"},
        422: {"description": "Invalid lead id or limit"},
    },
)
async def lead(
    tenant: Tenant,
    history: HistoryStore,
    loaded: Served,
    heavy: Heavy,
    lead_id: Annotated[str, Path(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    def read() -> list[dict[str, Any]]:
        caught_up(history)
        # One row more than shown: the oldest score shown still gets its change.
        return history.lead(tenant, lead_id, limit + 1)

    try:
        rows = await heavy.read(read)
    except HistoryUnavailable as exc:
        raise HTTPException(503, str(exc)) from None
    if not rows:
        raise HTTPException(404, "no scores recorded for this lead id")
    # Which fields feed which criterion, by the served model's framework: a move is credited
    # to the criteria whose own fields changed (see leadml.history.changes).
    plan = plan_for(loaded.model, loaded.framework)
    fields_of = {name: plan.buckets[name] for name in loaded.criteria}
    changes = with_changes(rows, limit, fields_of)
    return JSONResponse({"lead_id": lead_id, "scores": _rows_json(changes)})
