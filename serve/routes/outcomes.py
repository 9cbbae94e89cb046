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

Posts are written one at a time, on the heavy-work writer's thread (``serve.heavy_work``), in
transactions of ``WRITE_LEADS`` leads, with the queued scores let through to the database
between two of them: on SQLite eight posters of 10,000 outcomes held the score writer out for
15 s and 7 of 21 posts failed (issue 27). The history was upgraded as the server started, so a
post runs no migration check (5.5 ms each) unless the history has failed since.
"""

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from leadml.history.engine import error_line, refuses_for_good
from leadml.history.outcomes import (
    WRITE_LEADS,
    Outcome,
    OutcomeResult,
    as_utc,
    record_outcomes,
)
from leadml.history.store import RETRY_DOWN_S, ScoreHistory
from serve.body import StrictJSONRoute
from serve.deps import History, Tenant, require_key
from serve.heavy_work import Heavy
from serve.request_models import MAX_TEXT, Text
from serve.response_models import FastJSONResponse, OutcomesResponse
from serve.routes.scoring import AUTH, BAD_INPUT

#: Outcomes per request at most: a nightly sync sends its closed deals in pages of this size.
MAX_OUTCOMES = 10_000
#: Longest the request waits for queued scores to reach a healthy database (as history reads).
CATCH_UP_S = 1.0
#: Longest pause between two transactions of a post (see ``_record``).
PACE_MAX_S = 0.25
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


def _not_blank(lead_id: str) -> str:
    # The scoring routes treat a blank id as no id, so no score is ever stored under one.
    if not lead_id.strip():
        raise PydanticCustomError("blank_lead_id", "a lead id must not be blank")
    return lead_id


def _text_or_null(value: Any) -> Any:
    """A time is ISO 8601 text: pydantic would read a bare number as seconds since 1970."""
    if value is not None and not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "expected an ISO 8601 time as text, or null")
    return value


def _utc(stamp: datetime | None) -> datetime | None:
    return None if stamp is None else as_utc(stamp)


LeadId = Annotated[
    Text,
    AfterValidator(_not_blank),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "pattern": r"\S"},
                {"type": "integer"},
            ]
        }
    ),
]
OutcomeTime = Annotated[
    datetime | None,
    BeforeValidator(_text_or_null),
    AfterValidator(_utc),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}),
]


class LeadOutcome(BaseModel):
    """One lead's outcome, as the CRM knows it now."""

    model_config = ConfigDict(extra="forbid")

    lead_id: LeadId = Field(
        description="The lead id it was scored with (string or integer, as sent to /v1/score)."
    )
    converted: StrictBool = Field(
        description="true: the lead converted (won); false: it did not (lost). JSON true or "
        "false only: no 1/0 or 'yes'."
    )
    at: OutcomeTime = Field(
        default=None,
        description="When it converted or was lost: ISO 8601; a time without a zone is UTC.",
    )


def _count(value: Any) -> Any:
    """The count is checked before any row, so 20,000 rows give one error, not 20,000."""
    if isinstance(value, list):
        if not value:
            raise PydanticCustomError("too_few_outcomes", "send at least one outcome")
        if len(value) > MAX_OUTCOMES:
            raise PydanticCustomError(
                "too_many_outcomes",
                "{count} outcomes in one request; at most {limit} are accepted: split them",
                {"count": len(value), "limit": MAX_OUTCOMES},
            )
    return value


class OutcomesRequest(BaseModel):
    """``{"outcomes": [...]}``: 1 to 10,000 leads' outcomes."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[LeadOutcome] = Field(
        min_length=1,
        max_length=MAX_OUTCOMES,
        description=f"1 to {MAX_OUTCOMES:,} outcomes; a lead id sent twice: the last one counts.",
    )

    _check_count = field_validator("outcomes", mode="before")(_count)


class Written:
    """How many transactions of a post were committed (a failure says what was kept)."""

    def __init__(self) -> None:
        self.chunks = 0
        self.since = 0.0  # when the current transaction began (``time.perf_counter``)


def _record(
    history: ScoreHistory, tenant: str, outcomes: list[Outcome], written: Written
) -> OutcomeResult:
    """On the writer's thread: let queued scores through, then store the outcomes, letting
    the scores through again between two transactions."""

    def let_scores_through() -> None:
        if history.healthy:
            history.flush(CATCH_UP_S)

    def next_chunk() -> None:
        written.chunks += 1  # the transaction before has committed
        let_scores_through()
        # as long a pause as the chunk took: the database's write lock and the interpreter
        # are free half the time, for scoring and for other writers of the same file
        time.sleep(min(PACE_MAX_S, time.perf_counter() - written.since))
        written.since = time.perf_counter()

    let_scores_through()
    written.since = time.perf_counter()
    # A healthy history was upgraded at start (or before its last write); after a failure
    # the table may be new or gone, so it is checked again.
    return record_outcomes(
        history.engine, tenant, outcomes, upgrade=not history.healthy, between=next_chunk
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
    outcomes = [Outcome(o.lead_id, o.converted, o.at) for o in body.outcomes]
    written = Written()
    try:
        result = await heavy.write(_record, history, tenant, outcomes, written)
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
