"""The bodies of ``/v1/admin``: what an operator sends to reload the model or erase a
tenant's history, and what it is answered.
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from leadml.history.tables import TENANT_LENGTH


class ReloadRequest(BaseModel):
    """``{"ref": REF}``, as the CLI's ``--model REF`` and the response's ``ref`` name it
    (``model`` is still read: the first release called the field that)."""

    model_config = ConfigDict(extra="forbid")
    ref: str | None = Field(
        default=None,
        validation_alias=AliasChoices("ref", "model"),
        max_length=2000,
        description="models:/<served name>@<alias>, models:/<served name>/<version>, or a "
        "bundle folder under the models root; omit to reload the current one.",
    )


class ReloadResponse(BaseModel):
    model_version: str
    previous_version: str
    ref: str


class EraseRequest(BaseModel):
    """``{"tenant": NAME}`` erases the tenant's history; add ``"lead_id"`` for one lead."""

    model_config = ConfigDict(extra="forbid")
    tenant: str = Field(min_length=1, max_length=TENANT_LENGTH, description="The key's name.")
    lead_id: str | None = Field(
        default=None, min_length=1, max_length=500, description="One lead of that tenant."
    )


class EraseResponse(BaseModel):
    tenant: str
    lead_id: str | None
    scores: int = Field(description="Scores deleted (served and shadow; queued ones too).")
    outcomes: int = Field(description="Outcomes deleted.")
