"""Response models: what every route answers, documented field by field at ``/docs``.

Routes build plain dicts on the hot path and return them as :class:`FastJSONResponse`
(validating what leadml itself just built would cost time for nothing); these models are the
contract, and the tests check real responses against them.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from serve.schemas.opt_outs import NotScored


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson: a scored lead with its reasons in about 2 µs instead of 30.

    The same text as the json module for what routes return (plain str, int, float, bool,
    None, lists and dicts; floats written shortest-first, so they read back bit for bit);
    routes turn non-finite numbers into null themselves, as JSON has no NaN.
    """

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


Grade = Literal["A", "B", "C", "D"]
Trend = Literal["improving", "steady", "declining"]


class Reason(BaseModel):
    text: str = Field(
        description="Plain words, from a value the lead has (a missing value is never a "
        "reason: it is a question)."
    )
    feature: str
    contribution: float = Field(description="Push on the log-odds (positive raises the score).")
    points: float = Field(
        description="The same push in points of the 0–100 score, from the average lead's."
    )


class Criterion(BaseModel):
    contribution: float = Field(description="Summed log-odds push of the criterion's features.")
    points: float = Field(
        description="What the criterion adds to (or takes from) the 0–100 score, against the "
        "average lead; all criteria and groups add up to score − base score."
    )
    met: bool | None = Field(description="True: pushes up; false: does not; null: no data.")


class Question(BaseModel):
    criterion: str
    text: str = Field(description="What to ask, e.g. 'Ask about budget: not stated'.")
    fields: list[str] = Field(description="The fields an answer would fill.")


class Warning(BaseModel):
    field: str | None = Field(description="The field (null for a warning about several).")
    kind: Literal["unseen", "left_out", "clipped", "unreadable"]
    message: str
    value: Any = Field(
        default=None, description="unseen: the category as sent; clipped: the number."
    )
    fields: list[str] | None = Field(default=None, description="left_out: the fields not sent.")


class NextStep(BaseModel):
    criterion: str = Field(description="The criterion not met that this change addresses.")
    change: dict[str, Any] = Field(
        description="Fields to change, as a CRM would send them; only fields a rep can learn "
        "or influence (the schema's actionable ones)."
    )
    probability: float
    score: int = Field(description="The score the lead gets with the change: the same model.")
    grade: Grade
    text: str = Field(description="The step in words, for a card or a CRM note.")


class OutcomeInterval(BaseModel):
    level: float = Field(description="0.9: the real outcome is inside for 9 leads in 10.")
    low: int | None = Field(description="0 or 1 (null: empty interval).")
    high: int | None
    outcomes: list[str] = Field(description="converted, not converted, or both.")
    verdict: str = Field(
        description="scores like a converter / like a non-converter / could go either way"
    )


class Unfamiliar(BaseModel):
    unfamiliar: bool = Field(description="The lead is unlike the leads the model learned from.")
    novelty: float = Field(description="How rare its values are in training (HBOS).")
    threshold: float = Field(description="The training leads' 99th percentile of novelty.")
    reasons: list[str]


class CriterionDetail(Criterion):
    features: list[str]


class LeadScore(BaseModel):
    lead_id: str | None
    scored: Literal[True] = Field(True, description="true: scored (else a NotScored answer).")
    probability: float = Field(ge=0, le=1, description="Calibrated conversion probability.")
    score: int = Field(ge=0, le=100, description="The probability in percent, as CRMs show it.")
    grade: Grade
    tier: str
    stage: str
    model_version: str
    model: str | None = Field(
        default=None,
        description="With segment specialists: the model that scored the lead, global or "
        "segment:<value> (routed by the lead's segment).",
    )
    framework: str | None = Field(
        default=None, description="The qualification framework the criteria belong to."
    )
    criteria: dict[str, Criterion] | None = Field(
        default=None, description="Per criterion of the framework (BANT by default)."
    )
    qualified: bool | None = Field(
        default=None,
        description="At least three quarters of the criteria the model records met (3 of 4, "
        "4 of FAINT's 5; see `qualified_rule` in GET /v1/model); null: cannot judge yet, too "
        "many criteria unknown, or the model records fewer than two criteria.",
    )
    reasons: list[Reason] | None = Field(default=None, description="Top reasons for the score.")
    concerns: list[Reason] | None = Field(default=None, description="Top reasons against.")
    questions: list[Question] | None = Field(
        default=None, description="What to ask: unknown criteria and unanswered questions."
    )
    fit: int | None = Field(
        default=None, description="Who they are (demographic and firmographic pushes), 0–100."
    )
    engagement: int | None = Field(
        default=None, description="What they did (engagement pushes), 0–100."
    )
    next_steps: list[NextStep] | None = Field(
        default=None,
        description="?detail=full: per criterion not met, the smallest change of actionable "
        "fields that raises the grade, with the score it gives.",
    )
    interval: OutcomeInterval | None = Field(
        default=None, description="?detail=full: the 90 % conformal outcome interval."
    )
    unfamiliar: Unfamiliar | None = Field(
        default=None, description="?detail=full: whether the lead is unlike the training leads."
    )
    warnings: list[Warning] = Field(
        description="What the model could not read as sent: unseen categories, fields not "
        "sent, numbers beyond training, unreadable values."
    )
    trend: Trend | None = Field(
        default=None, description="Against this lead's previous score in the history."
    )
    previous_score: int | None = None


class ScoreResponse(BaseModel):
    model_version: str
    scores: list[LeadScore | NotScored]  # NotScored: the lead objected to profiling


class FeatureContribution(BaseModel):
    name: str
    display: str
    value: Any = Field(description="The value as the model read it (null: missing).")
    contribution: float
    points: float
    criterion: str
    group: str


class ExplainResponse(BaseModel):
    lead_id: str | None
    model_version: str
    probability: float
    score: int
    grade: Grade
    tier: str
    stage: str
    framework: str
    base_value: float = Field(description="Average lead's log-odds (the starting point).")
    base_score: float = Field(description="Average lead's score (0–100): points start here.")
    raw_log_odds: float = Field(description="base_value + the sum of all contributions.")
    features: list[FeatureContribution]
    criteria: dict[str, CriterionDetail]
    groups: dict[str, CriterionDetail] = Field(
        description="Features outside the framework's criteria, rolled up by group."
    )
    qualified: bool | None
    reasons: list[Reason]
    concerns: list[Reason]
    questions: list[Question]
    fit: int | None
    engagement: int | None
    next_steps: list[NextStep]
    interval: OutcomeInterval | None
    unfamiliar: Unfamiliar | None
    warnings: list[Warning]


class FeatureInfo(BaseModel):
    name: str
    display: str
    kind: str
    group: str
    criterion: str
    monotone: int
    levels: list[str] | None


class Thresholds(BaseModel):
    grades: dict[str, float] = Field(description="Lowest probability of grades A, B and C.")
    tiers: dict[str, str]
    stages: dict[str, str]
    trend_points: int = Field(description="Score change that counts as a trend.")
    sql_cutoff: float | None = Field(
        default=None,
        description="Capacity cut-off (leadml thresholds --apply): SQL from this probability.",
    )
    capacity: dict[str, Any] | None = Field(
        default=None, description="What the cut-off was chosen for: capacity, period, inflow."
    )


class ModelInfo(BaseModel):
    model_version: str
    ref: str
    loaded_at: str
    trained_at: str | None
    run_id: str | None
    framework: str
    criteria: list[str]
    base_score: float = Field(description="The average lead's score (0–100).")
    metrics: dict[str, Any]
    features: list[FeatureInfo]
    lead_id_field: str | None
    thresholds: Thresholds
    segments: dict[str, Any] | None = Field(
        default=None,
        description="With a segment column: per value, the model that scores it (global or "
        "segment:<value>), its calibration and grade bands (own or global), its SQL cut-off "
        "and backtest ROC AUC.",
    )
    interval: dict[str, Any] | None = Field(
        default=None,
        description="The 90 % outcome interval's cut-offs and what it was calibrated on.",
    )
    horizon_days: int | None = Field(
        default=None,
        description="The probability is of converting within this many days of the lead "
        "coming in (null: of converting at all, outcomes taken as final).",
    )
    probability_means: str = Field(
        default="probability of converting",
        description="What the probability (and the score, its 0–100 form) means, in words.",
    )
    unrecorded_criteria: list[str] = Field(
        default_factory=list,
        description="The framework's criteria no field of this model records (e.g. timing): "
        "the same for every lead, so said here once; no lead is asked about them and the "
        "verdict is over the others.",
    )
    unrecorded_sentence: str | None = Field(
        default=None,
        description='"This export records no timing field." (null: every criterion is recorded).',
    )
    qualified_rule: str = Field(
        default="",
        description="What `qualified` means for this model: at least three quarters of the "
        "recorded criteria met (3 of 4, 3 of 3, 2 of 2), or why no lead can be judged "
        '("cannot judge: this export records only authority", when fewer than two are).',
    )


class OutcomesResponse(BaseModel):
    recorded: int = Field(
        ge=0,
        description="Outcomes stored or changed by this request (the same outcome sent again "
        "is not counted; a lead id sent twice counts once, its last outcome kept).",
    )
    unknown_leads: list[str] = Field(
        description="Lead ids with no score in your history (never scored with that id, or "
        "purged since): not stored, each listed once."
    )


class MonitorResponse(BaseModel):
    """``leadml monitor --json`` for the caller's leads (see ``leadml.monitor.report``)."""

    model: dict[str, Any] = Field(description="The monitored model: version, trained at, AUC.")
    computed_at: str = Field(description="When these figures were computed (ISO 8601, UTC).")
    age_s: float = Field(
        ge=0,
        description="Seconds since then: an answer is reused for up to a minute, but never "
        "after outcomes arrive (posted or imported), which are then counted.",
    )
    newest_score_at: str | None = Field(description="The newest score read (ISO 8601, UTC).")
    window: str
    framework: str
    leads: int = Field(ge=0, description="Leads monitored (each lead's latest score).")
    labelled: int = Field(ge=0, description="Of those, leads whose outcome came back.")
    alarms: dict[str, Any] = Field(description="drift, performance (true: over the threshold).")
    notes: list[str]
    drift: dict[str, Any] | None = Field(
        description="PSI per feature, criterion push and score, with bands and sentences; "
        "null when the model has no reference profile."
    )
    performance: dict[str, Any] = Field(
        description="realized (leads with outcomes) and estimated (from the calibrated "
        "probabilities, CBPE) figures, each with the count it rests on."
    )
    shadow: dict[str, Any] | None = Field(description="The shadow challenger beside the model.")
    sampled: dict[str, int] | None = Field(
        default=None,
        description="leads: the window's most recently scored leads monitored (at most 5,000); "
        "of: the window's served scores (counted up to 1,000,000).",
    )
    summary: list[str] = Field(description="The lines `leadml monitor` prints.")
    segments: dict[str, Any] | None = Field(
        default=None,
        description="?by=segment only: column, min_leads, segments (per segment: leads, "
        "labelled, drift, realized, estimated, baseline_roc_auc, alarms) and alarms, each "
        "naming its segment.",
    )
