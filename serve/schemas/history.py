"""Response models of the score history's routes (``GET /v1/history``,
``GET /v1/history/{lead_id}``): the stored scores, and what moved a lead's score."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from serve.schemas.response_models import Grade


class HistoryRow(BaseModel):
    lead_id: str
    model_version: str
    probability: float
    score: int
    grade: Grade
    scored_at: str = Field(description="ISO 8601 time, UTC.")
    scored_by: str | None = Field(
        default=None, description="With segment specialists: global or segment:<value>."
    )
    features: dict[str, Any] | None = Field(
        default=None,
        description="The lead's values as the model read them: numbers, booleans and known "
        "answers only (free text, unknown categories and PII are never stored).",
    )
    criteria: dict[str, float] | None = Field(
        default=None,
        description="Points of the 0–100 score per criterion of the framework, plus 'other' "
        "for the features no criterion holds: base score + all of them = 100 × probability. "
        "Null when the lead was scored without explanations (explain=false) or before points "
        "were kept.",
    )


class RecentLeads(BaseModel):
    leads: list[HistoryRow]
    next_before: int | None = Field(
        default=None,
        description="Pass as ?before= for the next page; null: this page is the last.",
    )


class CriterionMove(BaseModel):
    criterion: str = Field(
        description="A criterion of the framework; 'other' for the features no criterion "
        "holds; 'model' for the average lead's score moving with a new model."
    )
    points: float = Field(description="Its move in points of the 0–100 score (+ raised it).")


class ScoreChange(BaseModel):
    from_score: int = Field(ge=0, le=100, description="The score before.")
    to_score: int = Field(ge=0, le=100)
    points: int = Field(description="to_score − from_score.")
    exact_points: float = Field(
        description="The move before rounding the scores (100 × the probability difference): "
        "what criteria and smaller_moves add up to (to the hundredth per entry)."
    )
    same_model: bool = Field(
        description="False: the two scores come from different model versions, and 'model' "
        "in criteria says how much the average lead's score moved with it."
    )
    criteria: list[CriterionMove] | None = Field(
        description="What moved the score, largest move first: every move of at least 0.5 "
        "points (and 'model' whenever the model changed). Null when either score was made "
        "without explanations."
    )
    smaller_moves: float | None = Field(
        description="The moves under 0.5 points left out of criteria, summed."
    )


class LeadHistoryRow(HistoryRow):
    change: ScoreChange | None = Field(
        description="Why the score differs from this lead's score before it; null for its "
        "first score."
    )


class LeadHistory(BaseModel):
    lead_id: str
    scores: list[LeadHistoryRow] = Field(description="Oldest first.")
