"""Why a lead's score changed: the criteria that moved it between two consecutive scores.

Each explained score keeps its points per criterion (what each of the framework's criteria adds
to or takes from the 0–100 score against the average lead, plus ``other`` for the features no
criterion holds, so that ``base_score + Σ points = 100 × probability``) and the same pushes on
the model's log-odds (TreeSHAP, see ``leadml.explain.attributions``).

The change between two scores of one model is split in log-odds, not by subtracting points:
a score's points are its log-odds pushes scaled by *that score's* slope of the calibration
curve (``leadml.explain.points``), so when one answer moves a lead along the curve, every
criterion's points are rescaled and criteria whose answers never changed would seem to move by
several points. Instead each criterion gets the move of its log-odds push, scaled by the
secant between the two scores:

    move_c = 100 × (p₂ − p₁) × Δφ_c / Σ Δφ

so the moves add up exactly to the unrounded score move. A push can also move through
TreeSHAP's interactions with an answer that changed elsewhere; such a move is caused by that
answer, so when the route knows which fields feed which criterion (``fields_of``) and both
scores kept the values the model read, only the criteria whose own fields changed share the
move (in proportion to their pushes' moves): a lead whose budget answer alone changed was moved
by budget, by the whole difference of its scores.

Between two models the log-odds are not on one scale (another booster, another calibration):
there the points are subtracted, and the move of the average lead's score is one more entry
(``model``), so the entries still add up. A score kept without points (scored with
``explain=false``, or before points were kept) makes a change that says how much the score
moved, not why: guessing the points of a score never explained would be inventing them. Only
numbers are kept (criterion names and pushes), never a lead's values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: Features outside the framework's criteria (engagement, firmographics, ...), as one entry.
OTHER = "other"
#: The move of the average lead's score when the two scores come from different models.
MODEL = "model"
#: Moves smaller than this (points of the 0–100 score) are summed, not listed: a rep reads the
#: few criteria that moved the score, not every hundredth of a point of tree interactions.
MIN_MOVE = 0.5
#: Points are kept and shown to the hundredth: finer than anyone reads, coarse enough to store.
DECIMALS = 2
#: Log-odds are kept to 1e-6: far below what moves a point, and the split stays exact.
LOG_ODDS_DECIMALS = 6
#: Below this log-odds move the secant is all rounding: the points are subtracted instead.
FLAT = 1e-4


def _round(value: float, decimals: int = DECIMALS) -> float:
    return round(value, decimals) + 0.0  # + 0.0: never "-0.0" in JSON


def kept_criteria(
    criteria: Mapping[str, Mapping[str, Any]] | None, probability: float, base_score: float
) -> dict[str, dict[str, float] | None]:
    """What a score keeps for its history (``ScoreRecord`` fields): ``criteria`` (criterion →
    points, plus ``other``) and ``criteria_log_odds`` (the same pushes in log-odds).

    ``criteria`` is a scored answer's (``{name: {"contribution", "points"}}``, the framework's
    criteria only); None when the score was not explained. ``other`` is what the criteria
    leave of ``100 × probability − base_score``, taken after rounding the criteria, so the kept
    points add up to the score within half a hundredth. Its log-odds come from the score's own
    points-per-log-odds (every criterion's points over its log-odds); when that cannot be read
    (no criterion pushed at all) the log-odds are not kept and changes subtract points.
    """
    if not criteria:
        return {"criteria": None, "criteria_log_odds": None}
    points = {name: _round(float(c["points"])) for name, c in criteria.items()}
    points[OTHER] = _round(100.0 * probability - base_score - sum(points.values()))
    if not all(math.isfinite(v) for v in points.values()):
        return {"criteria": None, "criteria_log_odds": None}
    pushes = {name: float(c["contribution"]) for name, c in criteria.items()}
    scale = sum(abs(float(c["points"])) for c in criteria.values()) / (
        sum(map(abs, pushes.values())) or math.nan
    )
    log_odds: dict[str, float] | None = None
    if math.isfinite(scale) and scale > 0:
        unrounded_other = 100.0 * probability - base_score - scale * sum(pushes.values())
        pushes[OTHER] = unrounded_other / scale
        log_odds = {name: _round(v, LOG_ODDS_DECIMALS) for name, v in pushes.items()}
        if not all(math.isfinite(v) for v in log_odds.values()):
            log_odds = None
    return {"criteria": points, "criteria_log_odds": log_odds}


def _base(row: Mapping[str, Any]) -> float:
    """The score's model's average-lead score, recovered from what the row kept."""
    return 100.0 * row["probability"] - sum(row["criteria"].values())


def _changed_criteria(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    fields_of: Mapping[str, Sequence[str]] | None,
) -> set[str] | None:
    """The criteria (``other`` for fields no criterion holds) whose own fields changed between
    the two scores; None when that cannot be told (no mapping, or values not kept)."""
    old, new = before.get("features"), after.get("features")
    if not fields_of or not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return None
    changed = {f for f in {*old, *new} if old.get(f) != new.get(f)}
    owner = {f: name for name, fields in fields_of.items() for f in fields}
    return {owner.get(f, OTHER) for f in changed}


def _moves(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    exact: float,
    fields_of: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """Each criterion's share of the move (plus ``model`` across models), unrounded."""
    old, new = before["criteria"], after["criteria"]
    names = {*old, *new}
    if before["model_version"] != after["model_version"]:
        moves = {name: new.get(name, 0.0) - old.get(name, 0.0) for name in names}
        moves[MODEL] = _base(after) - _base(before)
        return moves
    old_lo, new_lo = before.get("criteria_log_odds"), after.get("criteria_log_odds")
    if old_lo and new_lo:
        pushes = {name: new_lo.get(name, 0.0) - old_lo.get(name, 0.0) for name in names}
        causes = _changed_criteria(before, after, fields_of)
        if causes:
            own = sum(push for name, push in pushes.items() if name in causes)
            # The same sign as the whole move: otherwise the shares would not read as causes.
            if abs(own) >= FLAT and own * sum(pushes.values()) > 0:
                return {
                    name: (exact * push / own if name in causes else 0.0)
                    for name, push in pushes.items()
                }
        total = sum(pushes.values())
        if abs(total) >= FLAT:
            return {name: exact * push / total for name, push in pushes.items()}
    return {name: new.get(name, 0.0) - old.get(name, 0.0) for name in names}


def score_change(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    fields_of: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """How and why a lead's score moved from ``before`` to ``after`` (two stored rows);
    ``fields_of``: each criterion's fields, to credit the criteria whose fields changed.

    ``criteria`` lists the moves of at least ``MIN_MOVE`` points, largest first, and
    ``smaller_moves`` sums the rest, so that the two add up to ``exact_points`` (the unrounded
    move; ``points`` is the move of the whole-number scores, which differs by under 1). Both
    are null when either score kept no points.
    """
    exact = 100.0 * (after["probability"] - before["probability"])
    same_model = before["model_version"] == after["model_version"]
    change: dict[str, Any] = {
        "from_score": before["score"],
        "to_score": after["score"],
        "points": after["score"] - before["score"],
        "exact_points": _round(exact),
        "same_model": same_model,
        "criteria": None,
        "smaller_moves": None,
    }
    if not before.get("criteria") or not after.get("criteria"):
        return change
    moves = _moves(before, after, exact, fields_of)
    shown = {
        name: _round(move)
        for name, move in moves.items()
        if abs(_round(move)) >= MIN_MOVE or name == MODEL  # a new model is always said
    }
    order = sorted(shown, key=lambda name: (-abs(shown[name]), name))
    change["criteria"] = [{"criterion": name, "points": shown[name]} for name in order]
    change["smaller_moves"] = _round(sum(m for name, m in moves.items() if name not in shown))
    return change


def with_changes(
    rows: Sequence[Mapping[str, Any]],
    limit: int,
    fields_of: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The newest ``limit`` of a lead's rows (given oldest first), each with its ``change``
    from the row before it (None for the lead's first score).

    Given one row more than ``limit``, the oldest row shown still gets its change: a page of
    history should not look like the lead's first score just because the page ends there.
    """
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        change = score_change(rows[i - 1], row, fields_of) if i else None
        out.append({**row, "change": change})
    return out[-limit:] if limit < len(out) else out
