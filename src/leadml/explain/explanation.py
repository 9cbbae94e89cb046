"""What an explanation of one lead is: its probability, the pushes that add up to it, each
criterion's verdict, the reasons in a rep's words and the questions left to ask.

Plain frozen records, made by :mod:`leadml.explain.attributions` and read by everything that
shows a lead (the API's answer, the CLI's card, the report's waterfall, next steps), so that
what a lead's explanation holds is defined once, apart from how it is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadml.explain.verdicts import Question
from leadml.schema.frameworks import framework_criteria


@dataclass(frozen=True)
class Reason:
    """One plain-language reason, its push in log-odds and in points of the 0–100 score."""

    text: str
    feature: str
    contribution: float
    points: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "feature": self.feature,
            "contribution": self.contribution,
            "points": self.points,
        }


@dataclass(frozen=True)
class CriterionVerdict:
    """A criterion's summed contribution (log-odds and points) and whether it is met (None:
    no data to tell)."""

    contribution: float
    met: bool | None
    features: tuple[str, ...]
    points: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "contribution": self.contribution,
            "points": self.points,
            "met": self.met,
            "features": list(self.features),
        }


@dataclass(frozen=True)
class LeadExplanation:
    """Everything sales and the API need to read one lead's score."""

    probability: float
    raw_log_odds: float
    base_value: float
    contributions: dict[str, float]
    criteria: dict[str, CriterionVerdict]
    qualified: bool | None
    positive: list[Reason]
    negative: list[Reason]
    framework: str = "bant"
    questions: list[Question] = field(default_factory=list)
    #: The average lead's score (0–100): criteria points start from here.
    base_score: float = 0.0
    #: Points of the 0–100 score per feature (they add up to 100·probability − base_score).
    feature_points: dict[str, float] = field(default_factory=dict)
    #: Fit (who they are) and engagement (what they did) scores, 0–100 (see ``fit``).
    fit: int | None = None
    engagement: int | None = None

    @property
    def framework_criteria(self) -> tuple[str, ...]:
        """The framework's own criteria (the other ``criteria`` keys are feature groups)."""
        return framework_criteria(self.framework)

    @property
    def points(self) -> dict[str, float]:
        """Points of the 0–100 score per criterion and group (same keys as ``criteria``)."""
        return {name: v.points for name, v in self.criteria.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: plain floats, bools, None, strings, lists and dicts only."""
        return {
            "probability": self.probability,
            "raw_log_odds": self.raw_log_odds,
            "base_value": self.base_value,
            "base_score": self.base_score,
            "framework": self.framework,
            "contributions": dict(self.contributions),
            "criteria": {name: v.to_dict() for name, v in self.criteria.items()},
            "qualified": self.qualified,
            "positive": [r.to_dict() for r in self.positive],
            "negative": [r.to_dict() for r in self.negative],
            "questions": [q.to_dict() for q in self.questions],
            "fit": self.fit,
            "engagement": self.engagement,
        }
