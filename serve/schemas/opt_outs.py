"""The body and answer of ``POST /v1/opt-outs``, and the answer for a lead that is not scored
because it objected to profiling.

Lead ids as ``/v1/score`` and ``/v1/outcomes`` take them (text or integer, never blank), times
as ISO 8601 text, and the count checked before any row, so 20,000 rows give one error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from serve.schemas.outcomes import LeadId, OutcomeTime, count_check

#: Objections per request at most: an objection also erases what the history kept of the
#: lead, one lead at a time, so a post is kept short; a CRM sends its list in pages.
MAX_OPT_OUTS = 1_000


class LeadOptOut(BaseModel):
    """One lead that objected to profiling."""

    model_config = ConfigDict(extra="forbid")

    lead_id: LeadId = Field(description="The lead id as sent to /v1/score (string or integer).")
    at: OutcomeTime = Field(
        default=None,
        description="When the person objected: ISO 8601; a time without a zone is UTC.",
    )


_count = count_check("opt_outs", "opt-out", "opt-outs", MAX_OPT_OUTS)


class OptOutsRequest(BaseModel):
    """``{"opt_outs": [...]}``: 1 to 1,000 leads that objected to profiling."""

    model_config = ConfigDict(extra="forbid")

    opt_outs: list[LeadOptOut] = Field(
        min_length=1,
        max_length=MAX_OPT_OUTS,
        description=f"1 to {MAX_OPT_OUTS:,} leads; a lead id sent twice counts once.",
    )

    _check_count = field_validator("opt_outs", mode="before")(_count)


class OptOutsResponse(BaseModel):
    recorded: int = Field(ge=0, description="Objections newly recorded by this request.")
    already_recorded: int = Field(
        ge=0, description="Objections recorded before (a CRM's resent list): nothing changed."
    )
    scores_erased: int = Field(
        ge=0, description="Stored scores of these leads erased from your history."
    )
    outcomes_erased: int = Field(
        ge=0, description="Stored outcomes of these leads erased from your history."
    )


class NotScored(BaseModel):
    """A lead the model did not score: it objected to profiling (GDPR Art. 21). Nothing of it
    is stored in the history."""

    lead_id: str | None
    scored: Literal[False] = Field(description="false: no probability, score or grade.")
    reason: str = Field(description="Why, in words.")
    model_version: str
