"""Why a lead scored what it scored, in the words sales already uses: Budget, Authority, Need,
Timing, and a few plain reasons built from the lead's own answers.

**Attributions.** Exact path-dependent TreeSHAP values in log-odds from LightGBM's own
``pred_contrib=True`` (the routine ``shap.TreeExplainer`` itself calls on these models, without
its overhead). For every lead,
``base_value + sum(contributions) == raw_log_odds`` to float precision; the calibrated
probability is reported beside them (calibration is monotone, so the sign of a push is the same
on both scales).

**Roll-up.** Contributions are summed per criterion of the chosen framework (BANT by default;
CHAMP, ANUM, FAINT, GPCT read the same schema tags, see :mod:`leadml.schema.frameworks`; the
tables are in :mod:`leadml.explain.rollup`). Features the
framework does not read roll up under their group (engagement, firmographic, ...). Each feature
sits in exactly one bucket, so the buckets add up to the same total as the features.

**Verdict rule** (per criterion, per lead):

* *unknown* (``met=None``) when every feature of the criterion is missing for this lead, or the
  criterion has no features at all: there is no evidence either way;
* *met* when the criterion's summed contribution is **> 0**: its answers make this lead more
  likely to convert than the average lead the model was trained on;
* *not met* when the summed contribution is **<= 0**.

``qualified`` is the framework's rule over the criteria the model records
(:class:`leadml.explain.verdicts.QualifiedRule`: 3 of BANT's 4 when all four are recorded).

**Reasons.** The three largest positive and three largest negative contributions of at least
``MIN_REASON_POINTS`` (half a point of the 0–100 score), worded from the lead's *values*
(:mod:`leadml.explain.reasons`, which also says which fields may be reasons at all).

``explain_lead`` is the serving fast path (one numpy row, one thread, no pandas; call
``prepare(model)`` when a server loads a model so the first lead finds its tables built);
``explain_matrix``, ``explain_rows`` and ``explanation_columns`` are the batch paths (one
vectorised attribution call, then numpy roll-ups). ``explanation_columns`` also picks and words
the reasons of all rows at once (one stable argsort, each distinct value worded once), giving
the same strings as ``_reasons`` lead by lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from leadml.explain.batch import batch_questions, batch_reasons
from leadml.explain.explanation import CriterionVerdict, LeadExplanation, Reason
from leadml.explain.fit import side_scores, side_scores_one
from leadml.explain.points import lead_point_scale, point_scale
from leadml.explain.reasons import MIN_REASON_POINTS, TOP_REASONS, rising_note
from leadml.explain.rollup import Plan, plan_for
from leadml.explain.verdicts import Question
from leadml.features.inputs import training_ranges
from leadml.schema.frameworks import framework_criteria

if TYPE_CHECKING:
    from leadml.bundle.calibration import Calibrator
    from leadml.bundle.model import LeadModel


# -- attributions --------------------------------------------------------------------------------
def contributions(model: LeadModel, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """Exact TreeSHAP from LightGBM's ``pred_contrib`` (base value last), in log-odds."""
    return model.contributions(x, num_threads=num_threads)


# -- core ----------------------------------------------------------------------------------------
@dataclass
class _Batch:
    """Vectorised results for n leads; rows become explanations or table columns."""

    x: np.ndarray
    phi: np.ndarray  # (n, k) contributions
    base: np.ndarray  # (n,)
    raw: np.ndarray  # (n,)
    probability: np.ndarray  # (n,)
    scale: np.ndarray  # (n,) points of score per unit of log-odds
    base_score: np.ndarray  # (n,)
    sums: np.ndarray  # (n, buckets)
    verdicts: np.ndarray  # (n, buckets) int8: 1 met, 0 not met, -1 unknown
    qualified: np.ndarray  # (n,) int8: 1 qualified, 0 not, -1 cannot judge


def _batch(model: LeadModel, plan: Plan, x: np.ndarray, contrib: np.ndarray) -> _Batch:
    k = len(plan.names)
    phi = contrib[:, :k]
    base = contrib[:, k]
    raw = base + phi.sum(axis=1)
    present = plan.answered(x).astype(np.float64)
    sums = phi @ plan.membership
    known = present @ plan.membership > 0
    # The documented rule as numbers: 1 met, 0 not met, -1 unknown.
    verdicts = np.where(known, (sums > 0).astype(np.int8), np.int8(-1))
    calibrator = model.calibrator_for(x)
    scale, base_score = point_scale(calibrator, raw, base) if len(x) else (raw, raw)
    return _Batch(
        x=x,
        phi=phi,
        base=base,
        raw=raw,
        probability=np.asarray(calibrator(raw), dtype=np.float64),
        scale=scale,
        base_score=base_score,
        sums=sums,
        verdicts=verdicts,
        qualified=plan.rule.codes(verdicts[:, plan.own]),
    )


def _reasons(
    model: LeadModel, plan: Plan, phi: list[float], x: list[float], scale: float
) -> tuple[list[Reason], list[Reason]]:
    """Top positive and negative reasons for one lead (``scale``: its points per unit of
    log-odds). Only a value the lead has can be a reason: a missing field is a question, never
    a reason for or against (nor is an id-like field, which no rep could argue with); a push
    below ``MIN_REASON_POINTS`` says nothing a rep can use. A reason for the lead whose number
    is 0 (or the lowest seen) says why it pushes up (:func:`rising_note`)."""
    wordable = plan.wordable_list
    eligible = [
        j
        for j in range(len(phi))
        if wordable[j] and x[j] == x[j] and abs(phi[j] * scale) >= MIN_REASON_POINTS
    ]
    order = sorted(eligible, key=phi.__getitem__)

    def reason(j: int, rising: bool) -> Reason:
        text = plan.text(model, j, x[j])
        if rising:
            low = training_ranges(model).get(plan.names[j])
            text += rising_note(plan.kinds[j], x[j], low[0] if low else None)
        return Reason(text, plan.names[j], phi[j], phi[j] * scale)

    positive = [reason(j, True) for j in reversed(order[-TOP_REASONS:]) if phi[j] > 0]
    negative = [reason(j, False) for j in order[:TOP_REASONS] if phi[j] < 0]
    return positive, negative


def _questions(plan: Plan, x: list[float], verdicts: dict[str, bool | None]) -> list[Question]:
    """What to ask about each of the framework's criteria (see :mod:`.verdicts`)."""
    out = []
    for name, _, answers in plan.criterion_index:
        if not plan.asks(name):  # unrecorded: said once per model, never asked per lead
            continue
        if verdicts[name] is None:
            out.append(plan.question(name, None))
            continue
        missing = tuple(j for j in answers if not plan.answered_one(x, j))
        if missing:
            out.append(plan.question(name, missing))
    return out


def _assemble(
    model: LeadModel,
    plan: Plan,
    x: list[float],
    phi: list[float],
    base: float,
    p: float,
    calibrator: Calibrator,
) -> LeadExplanation:
    """One lead's explanation from plain Python lists: for a single lead, two dozen float
    additions cost less than the numpy calls that would vectorise them. ``calibrator``: the
    lead's own (its segment's, with segments)."""
    raw = base + sum(phi)
    scale, base_score = lead_point_scale(calibrator, raw, base)
    criteria = {}
    for name, feats, idx in plan.bucket_index:
        total = sum(phi[j] for j in idx)
        known = any(plan.answered_one(x, j) for j in idx)
        criteria[name] = CriterionVerdict(
            total, (total > 0) if known else None, feats, total * scale
        )
    verdicts = {name: criteria[name].met for name, _, _ in plan.criterion_index}
    positive, negative = _reasons(model, plan, phi, x, scale)
    fit, engagement = side_scores_one(calibrator, base, phi, x, plan.sides)
    return LeadExplanation(
        probability=p,
        raw_log_odds=raw,
        base_value=base,
        contributions=dict(zip(plan.names, phi, strict=True)),
        criteria=criteria,
        qualified=plan.rule.judge(verdicts),
        positive=positive,
        negative=negative,
        framework=plan.framework,
        questions=_questions(plan, x, verdicts),
        base_score=base_score,
        feature_points={n: v * scale for n, v in zip(plan.names, phi, strict=True)},
        fit=fit,
        engagement=engagement,
    )


# -- public API ----------------------------------------------------------------------------------
def explain_lead(
    model: LeadModel, lead: Mapping[str, Any], framework: str = "bant"
) -> LeadExplanation:
    """Explain one lead dict: numpy row, one-thread ``pred_contrib``, no pandas (for the API)."""
    plan = plan_for(model, framework)
    row = model.encoder.encode_row(lead)
    contrib = model.contributions(row, num_threads=1)[0].tolist()
    base = contrib.pop()
    raw = base + sum(contrib)
    calibrator = model.calibrators(row)[0]
    p = float(calibrator(np.array([raw]))[0])
    return _assemble(model, plan, row[0].tolist(), contrib, base, p, calibrator)


def explain_matrix(
    model: LeadModel, x: np.ndarray, framework: str = "bant", num_threads: int = 0
) -> list[LeadExplanation]:
    """Explain every row of an encoded matrix (one vectorised ``pred_contrib`` call)."""
    plan = plan_for(model, framework)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(plan.names):
        raise ValueError(f"expected a matrix with {len(plan.names)} columns, got {x.shape}")
    if len(x) == 0:
        return []
    contrib = contributions(model, x, num_threads=num_threads)
    k = len(plan.names)
    cal = model.calibrator_for(x)
    probability = np.asarray(cal(contrib.sum(axis=1)), dtype=np.float64).tolist()
    xs, phis, bases = x.tolist(), contrib[:, :k].tolist(), contrib[:, k].tolist()
    each = model.calibrators(x)
    return [
        _assemble(model, plan, xs[i], phis[i], bases[i], probability[i], each[i])
        for i in range(len(x))
    ]


@dataclass(frozen=True)
class ExplainedRows:
    """Batch results as arrays, for reports and monitoring (no per-lead objects).

    ``verdicts`` holds the documented rule as numbers: 1 met, 0 not met, -1 unknown; so does
    ``qualified`` (-1: cannot judge yet).
    """

    features: list[str]
    contributions: np.ndarray  # (n, features), log-odds
    base_value: float
    raw_log_odds: np.ndarray  # (n,)
    probability: np.ndarray  # (n,)
    framework: str
    criteria: list[str]  # the framework's criteria, then groups
    criterion_features: dict[str, tuple[str, ...]]
    criterion_contributions: np.ndarray  # (n, criteria)
    criterion_points: np.ndarray  # (n, criteria), points of the 0–100 score
    verdicts: np.ndarray  # (n, criteria) int8
    qualified: np.ndarray  # (n,) int8
    fit: np.ndarray  # (n,) 0–100, NaN: nothing known about who they are
    engagement: np.ndarray  # (n,) 0–100, NaN: nothing known about what they did


def explain_rows(
    model: LeadModel, x: np.ndarray, framework: str = "bant", num_threads: int = 0
) -> ExplainedRows:
    """Contributions, criterion roll-ups and verdicts for an encoded matrix, as arrays."""
    plan = plan_for(model, framework)
    x = np.asarray(x, dtype=np.float64)
    contrib = (
        contributions(model, x, num_threads=num_threads)
        if len(x)
        else np.zeros((0, len(plan.names) + 1))
    )
    batch = _batch(model, plan, x, contrib)
    base = float(batch.base[0]) if len(x) else float("nan")
    fit, engagement = side_scores(model.calibrator_for(x), batch.base, batch.phi, x, plan.sides)
    return ExplainedRows(
        features=list(plan.names),
        contributions=batch.phi,
        base_value=base,
        raw_log_odds=batch.raw,
        probability=batch.probability,
        framework=plan.framework,
        criteria=list(plan.buckets),
        criterion_features=dict(plan.buckets),
        criterion_contributions=batch.sums,
        criterion_points=batch.sums * batch.scale[:, None],
        verdicts=batch.verdicts,
        qualified=batch.qualified,
        fit=fit,
        engagement=engagement,
    )


def _tristate(codes: np.ndarray) -> pd.arrays.BooleanArray:
    """1 / 0 / -1 as True / False / <NA>."""
    out = pd.array(codes == 1, dtype="boolean")
    out[codes < 0] = pd.NA
    return out


def explanation_columns(
    model: LeadModel,
    frame: pd.DataFrame,
    framework: str = "bant",
    num_threads: int = 0,
    x: np.ndarray | None = None,
) -> pd.DataFrame:
    """Columns for ``leadml score --explain``, indexed like ``frame``.

    ``<criterion>_points`` for every bucket (framework criteria, then groups: points of the
    0–100 score, adding up to the score minus the average lead's), ``<criterion>_met`` (True /
    False / <NA> for unknown) for the framework's criteria, ``qualified`` (<NA>: cannot judge
    yet), ``fit_score`` and ``engagement_score`` (:mod:`leadml.explain.fit`), ``reasons``
    (the top positive reasons joined by " | "), ``concerns`` (the top negative ones) and
    ``questions`` (what to ask, see :mod:`leadml.explain.verdicts`).
    """
    plan = plan_for(model, framework)
    x = model.matrix(frame) if x is None else x  # ``x``: the caller has encoded ``frame``
    contrib = (
        contributions(model, x, num_threads=num_threads)
        if len(x)
        else np.zeros((0, len(plan.names) + 1))
    )
    batch = _batch(model, plan, x, contrib)
    columns: dict[str, Any] = {}
    own = set(framework_criteria(plan.framework))
    for c, name in enumerate(plan.buckets):
        columns[f"{name}_points"] = batch.sums[:, c] * batch.scale
        if name in own:
            columns[f"{name}_met"] = _tristate(batch.verdicts[:, c])
    columns["qualified"] = _tristate(batch.qualified)
    fit, engagement = side_scores(model.calibrator_for(x), batch.base, batch.phi, x, plan.sides)
    columns["fit_score"] = pd.array(np.where(np.isnan(fit), None, fit), dtype="Int64")
    columns["engagement_score"] = pd.array(
        np.where(np.isnan(engagement), None, engagement), dtype="Int64"
    )
    reasons, concerns = batch_reasons(model, plan, x, batch.phi, batch.scale)
    columns["reasons"] = reasons
    columns["concerns"] = concerns
    columns["questions"] = batch_questions(plan, x, batch.verdicts)
    return pd.DataFrame(columns, index=frame.index)
