"""``POST /v1/opt-outs``: the CRM says which leads objected to profiling, so that they are
never scored again and what the history kept of them is erased (GDPR Art. 21).

Objections belong to the caller's tenant, as its scores do; sending the same ones again, as a
CRM's sync does, changes nothing. A server without a history has nowhere to keep them: that is
a 409 (its setting, which no retry changes; such a server still refuses a lead whose body
carries the schema's opt-out flag), while a history database that is away is a 503 with
Retry-After. The work runs on the heavy-work writer's thread, never on the event loop, by
:func:`leadml.history.opt_outs.record_posted_opt_outs`; this route parses, hands over, answers.
This server refuses the posted leads from the moment the post arrives
(:meth:`serve.scoring.known_objections.KnownObjections.recording`), others within a second.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from leadml.history.engine import error_line, refuses_for_good
from leadml.history.opt_outs import OptOut, record_posted_opt_outs
from leadml.history.store import RETRY_DOWN_S, HistoryUnavailable
from serve.deps import History, Tenant, require_key
from serve.edge.body import StrictJSONRoute
from serve.heavy_work import Heavy
from serve.routes.common import AUTH, BAD_INPUT
from serve.schemas.opt_outs import MAX_OPT_OUTS, OptOutsRequest, OptOutsResponse
from serve.schemas.response_models import FastJSONResponse
from serve.scoring.known_objections import known_to

HISTORY_OFF = (
    "score history is turned off on this server: objections are kept in the history, so there "
    "is nowhere to record them (start the server with a history, or send the schema's opt-out "
    "field with each lead)"
)

router = APIRouter(
    prefix="/v1",
    tags=["opt-outs"],
    dependencies=[Depends(require_key)],
    route_class=StrictJSONRoute,
)


@router.post(
    "/opt-outs",
    response_model=OptOutsResponse,
    summary=f"Record leads that objected to profiling (1 to {MAX_OPT_OUTS:,}): never scored again",
    responses={
        **AUTH,
        **BAD_INPUT,
        409: {"description": "Score history is turned off on this server: nothing to record"},
        503: {
            "description": "The history database cannot be written right now: send the same "
            "request again after Retry-After seconds (nothing is counted twice)"
        },
    },
)
async def record(
    body: Annotated[OptOutsRequest, Body()], tenant: Tenant, history: History, heavy: Heavy
) -> FastJSONResponse:
    if history is None:
        raise HTTPException(409, HISTORY_OFF)
    opt_outs = [OptOut(o.lead_id, o.at) for o in body.opt_outs]
    try:
        with known_to(history).recording(tenant, [o.lead_id for o in opt_outs]):
            result = await heavy.write(record_posted_opt_outs, history, tenant, opt_outs)
    except (SQLAlchemyError, HistoryUnavailable) as exc:
        if isinstance(exc, SQLAlchemyError):
            why = error_line(exc, history.url)
            if refuses_for_good(exc) and not isinstance(exc, IntegrityError):
                raise HTTPException(
                    422, f"the history database refused these opt-outs: {why}"
                ) from None
        else:
            why = str(exc)
        raise HTTPException(
            503,
            f"the history database cannot be written right now ({why}): send the same opt-outs "
            f"again in {RETRY_DOWN_S} s (what is recorded is not counted twice)",
            headers={"Retry-After": str(RETRY_DOWN_S)},
        ) from None
    return FastJSONResponse(
        {
            "recorded": result.recorded,
            "already_recorded": result.already,
            "scores_erased": result.scores_erased,
            "outcomes_erased": result.outcomes_erased,
        }
    )
