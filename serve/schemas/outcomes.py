"""The body of ``POST /v1/outcomes``: which of a tenant's scored leads converted.

Lead ids as ``/v1/score`` took them (text or integer, never blank), ``converted`` as JSON true
or false only, times as ISO 8601 text (a bare number would be read as seconds since 1970),
and the count checked before any row, so 20,000 rows give one error, not 20,000.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

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

from leadml.history.outcomes import as_utc
from serve.schemas.request_models import MAX_TEXT, Text

#: Outcomes per request at most: a nightly sync sends its closed deals in pages of this size.
MAX_OUTCOMES = 10_000


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


def count_check(kind: str, one: str, many: str, limit: int) -> Callable[[Any], Any]:
    """A before-validator of a request's list: its count is checked before any row, so 20,000
    rows give one error, not 20,000 (``kind`` names the error types: ``too_few_<kind>``)."""

    def check(value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise PydanticCustomError(f"too_few_{kind}", f"send at least one {one}")
            if len(value) > limit:
                raise PydanticCustomError(
                    f"too_many_{kind}",
                    f"{{count}} {many} in one request; at most {{limit}} are accepted: split them",
                    {"count": len(value), "limit": limit},
                )
        return value

    return check


_count = count_check("outcomes", "outcome", "outcomes", MAX_OUTCOMES)


class OutcomesRequest(BaseModel):
    """``{"outcomes": [...]}``: 1 to 10,000 leads' outcomes."""

    model_config = ConfigDict(extra="forbid")

    outcomes: list[LeadOutcome] = Field(
        min_length=1,
        max_length=MAX_OUTCOMES,
        description=f"1 to {MAX_OUTCOMES:,} outcomes; a lead id sent twice: the last one counts.",
    )

    _check_count = field_validator("outcomes", mode="before")(_count)
