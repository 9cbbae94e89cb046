"""``POST /v1/outcomes``: the CRM says which scored leads converted, so that the model can be
judged on the leads it scored after deployment.

Outcomes belong to the caller's tenant, as its scores do: one is kept only for a lead that
tenant had scored with an id (the others come back in ``unknown_leads``, not stored), and
sending the same outcomes again, as a CRM's sync does, changes nothing. Scores just served may
still wait in the history's queue: they are let through to the database first (as a history
read does), so a lead scored a moment ago is known. The database work runs in a worker thread,
never on the event loop that answers scoring. A server without a history has nowhere to keep
outcomes: that is a 409 (its setting, which no retry changes), while a history database that
is away is a 503 with Retry-After (the same request can simply be sent again).

Posts are written one at a time, on the heavy-work writer's thread (``serve.heavy_work``), by
:func:`leadml.history.posting.record_posted` (transactions of 500 leads, queued scores let through
between them); this route parses, hands the post over, and answers.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from leadml.history.engine import error_line, refuses_for_good
from leadml.history.outcomes import WRITE_LEADS
from leadml.history.posting import Written, record_posted
from leadml.history.store import RETRY_DOWN_S
from leadml.lifecycle.outcome_table import posted_outcome
from serve.deps import History, Tenant, require_key
from serve.edge.body import StrictJSONRoute
from serve.heavy_work import Heavy
from serve.routes.common import AUTH, BAD_INPUT
from serve.schemas.outcomes import MAX_OUTCOMES, OutcomesRequest
from serve.schemas.response_models import FastJSONResponse, OutcomesResponse

HISTORY_OFF = (
    "score history is turned off on this server: outcomes are kept beside the scores they "
    "judge, so there is nowhere to record them (start the server with a history)"
)

router = APIRouter(
    prefix="/v1",
    tags=["outcomes"],
    dependencies=[Depends(require_key)],
    route_class=StrictJSONRoute,
)


@router.post(
    "/outcomes",
    response_model=OutcomesResponse,
    summary=f"Record which of your scored leads converted (1 to {MAX_OUTCOMES:,})",
    responses={
        **AUTH,
        **BAD_INPUT,
        409: {"description": "Score history is turned off on this server: nothing to record"},
        422: {"description": "Invalid input: the message names the row and field"},
        503: {
            "description": "The history database cannot be written right now: the message "
            "says what was stored (nothing, or the first chunks of 500 leads); send the same "
            "request again after Retry-After seconds (nothing is counted twice)"
        },
    },
)
async def record(
    body: Annotated[OutcomesRequest, Body()], tenant: Tenant, history: History, heavy: Heavy
) -> FastJSONResponse:
    if history is None:
        raise HTTPException(409, HISTORY_OFF)
    outcomes = [posted_outcome(o.lead_id, o.converted, o.at) for o in body.outcomes]
    written = Written()
    try:
        result = await heavy.write(record_posted, history, tenant, outcomes, written)
    except SQLAlchemyError as exc:
        why = error_line(exc, history.url)
        # A value the database will never take; not the unique key, which only a race between
        # two requests sending the same new lead trips (a retry settles it).
        if refuses_for_good(exc) and not isinstance(exc, IntegrityError):
            raise HTTPException(
                422, f"the history database refused these outcomes: {why}"
            ) from None
        kept = (
            f"the first {written.chunks * WRITE_LEADS:,} leads' outcomes were stored"
            if written.chunks
            else "nothing was stored"
        )
        raise HTTPException(
            503,
            f"the history database cannot be written right now ({why}): {kept}; "
            f"send the same outcomes again in {RETRY_DOWN_S} s (what is stored is not counted "
            "twice)",
            headers={"Retry-After": str(RETRY_DOWN_S)},
        ) from None
    return FastJSONResponse({"recorded": result.recorded, "unknown_leads": result.unknown_leads})
