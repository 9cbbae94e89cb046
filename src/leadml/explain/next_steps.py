"""What would move this lead: per unmet criterion, the smallest change a rep can make that
raises the lead's grade, priced by the model itself.

Why: an explanation says why a lead is a C; a rep needs to know what to *do* about it. A
question ("What is the budget?") is only worth asking when some answer would change how the
lead is worked, so each suggestion comes with the grade it would reach, computed by the same
model, encoder and grade bands that scored the lead, and nothing is promised that rescoring the
changed lead would not give back to the last bit.

Only fields whose schema spec says a rep can learn or influence them are ever changed
(:attr:`FeatureSpec.is_actionable`: form answers, a demo request); who the lead or the company
is never is. Candidates per criterion not met (``met`` False or unknown):

* ordinal: every strictly better level (every level when unanswered, counted in steps from
  below the worst), one step per level;
* boolean: true, when it is not;
* categorical: every other known level;
* numeric: none (there is no "next level" to suggest without inventing a step size).

Single changes first; only where no single change raises the grade, pairs across the
criterion's actionable features. The winner is the change with the fewest fields, then the
fewest ordinal steps, then the highest probability. All leads' candidates are scored in one
matrix per round (at most two ``predict_proba`` calls, whatever the number of leads): pairs
grow as products of levels, so they are built only for the criteria singles could not move.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.data.values import NOT_ANSWERED
from leadml.explain.reasons import REASON_SEPARATOR
from leadml.explain.rollup import Plan, plan_for
from leadml.qualify.grades import GRADES
from leadml.schema.frameworks import criterion_label

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.explain.explanation import LeadExplanation

#: Grade letter → rank (0 is best).
_RANK = {letter: i for i, letter in enumerate(GRADES)}
#: Kinds a suggestion can move, and how.
MOVABLE_KINDS = ("ordinal", "boolean", "categorical")


@dataclass(frozen=True)
class NextStep:
    """One change of a lead's answers, and the score and grade the model gives it after."""

    criterion: str
    #: Field → raw value as a CRM would send it (level text; True for a boolean).
    change: dict[str, Any]
    probability: float
    score: int
    grade: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "change": dict(self.change),
            "score": self.score,
            "grade": self.grade,
            "probability": self.probability,
        }

    def text(self, model: LeadModel) -> str:
        """ "Authority: Decision role → Decision maker (score 71, B)", for a card or CSV cell."""
        parts = []
        for name, value in self.change.items():
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            parts.append(f"{model.schema.feature(name).label} → {shown}")
        changes = " and ".join(parts)
        return f"{criterion_label(self.criterion)}: {changes} (score {self.score}, {self.grade})"


def criteria_met(explanation: LeadExplanation) -> dict[str, bool | None]:
    """The framework's own criteria of an explanation → met (None: unknown)."""
    return {name: explanation.criteria[name].met for name in explanation.framework_criteria}


# -- candidates ----------------------------------------------------------------------------------
def _moves(model: LeadModel, plan: Plan) -> list[list[float]]:
    """Per feature, the codes it may be moved to (empty when it may not be moved). Specs are
    read from the model's own schema, not the plan cached per booster: the schema decides."""
    specs = {spec.name: spec for spec in model.schema.features}
    out: list[list[float]] = []
    for name, kind in zip(plan.names, plan.kinds, strict=True):
        spec = specs.get(name)
        if spec is None or not spec.is_actionable or kind not in MOVABLE_KINDS:
            out.append([])
        elif kind == "boolean":
            out.append([1.0])
        else:
            # "(not answered)" is a state a lead can be in, never a step to suggest.
            levels = model.encoder.levels[name]
            out.append([float(c) for c, level in enumerate(levels) if level != NOT_ANSWERED])
    return out


def _eligible(kind: str, current: np.ndarray, code: float) -> tuple[np.ndarray, np.ndarray]:
    """Which leads ``code`` is a change (better, for an ordinal) for, and its steps."""
    missing = np.isnan(current)
    if kind == "ordinal":
        ok = missing | (current < code)
        return ok, np.where(missing, code + 1, code - np.nan_to_num(current)).astype(np.int64)
    return missing | (current != code), np.ones(len(current), dtype=np.int64)


@dataclass
class _Round:
    """Candidate changes of many leads: one matrix row each."""

    rows: list[np.ndarray]
    leads: list[np.ndarray]
    crits: list[np.ndarray]
    steps: list[np.ndarray]
    changes: list[np.ndarray]  # index into ``change_list``
    change_list: list[tuple[tuple[int, float], ...]]

    @classmethod
    def empty(cls) -> _Round:
        return cls([], [], [], [], [], [])

    def add(
        self,
        x: np.ndarray,
        mask: np.ndarray,
        c: int,
        change: tuple[tuple[int, float], ...],
        steps: np.ndarray,
    ) -> None:
        leads = np.flatnonzero(mask)
        if not len(leads):
            return
        rows = x[leads].copy()
        for j, code in change:
            rows[:, j] = code
        self.rows.append(rows)
        self.leads.append(leads)
        self.crits.append(np.full(len(leads), c))
        self.steps.append(steps[leads])
        self.changes.append(np.full(len(leads), len(self.change_list)))
        self.change_list.append(change)

    def cat(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _singles(plan: Plan, x: np.ndarray, open_: np.ndarray, moves: list[list[float]]) -> _Round:
    out = _Round.empty()
    for c, (_, feats, _) in enumerate(plan.criterion_index):
        for j in feats:
            for code in moves[j]:
                ok, steps = _eligible(plan.kinds[j], x[:, j], code)
                out.add(x, open_[:, c] & ok, c, ((j, code),), steps)
    return out


def _pairs(plan: Plan, x: np.ndarray, open_: np.ndarray, moves: list[list[float]]) -> _Round:
    out = _Round.empty()
    for c, (_, feats, _) in enumerate(plan.criterion_index):
        if not open_[:, c].any():
            continue
        movable = [j for j in feats if moves[j]]
        for j1, j2 in combinations(movable, 2):
            for v1 in moves[j1]:
                ok1, s1 = _eligible(plan.kinds[j1], x[:, j1], v1)
                for v2 in moves[j2]:
                    ok2, s2 = _eligible(plan.kinds[j2], x[:, j2], v2)
                    out.add(x, open_[:, c] & ok1 & ok2, c, ((j1, v1), (j2, v2)), s1 + s2)
    return out


# -- choosing ------------------------------------------------------------------------------------
def _ranks(model: LeadModel, p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Grade ranks of probabilities ``p`` of leads like ``x``'s rows (their segments' bands)."""
    letters = model.grades(p, x)
    return np.fromiter((_RANK[g] for g in letters), dtype=np.int64, count=len(letters))


def _best(
    model: LeadModel, cands: _Round, p: np.ndarray, current: np.ndarray, x: np.ndarray
) -> list[tuple[int, int, tuple[tuple[int, float], ...], float]]:
    """Per (lead, criterion), the winning candidate among those that raise the grade:
    (lead, criterion, change, probability). ``x``: the leads' rows (a change never moves a
    lead to another segment: the segment is who they are)."""
    leads, crits = cands.cat("leads"), cands.cat("crits")
    steps, changes = cands.cat("steps"), cands.cat("changes")
    better = np.flatnonzero(_ranks(model, p, x[leads]) < current[leads])
    if not len(better):
        return []
    fields = np.array([len(cands.change_list[k]) for k in changes[better]])
    order = better[np.lexsort((-p[better], steps[better], fields, crits[better], leads[better]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (np.diff(leads[order]) != 0) | (np.diff(crits[order]) != 0)
    won = order[first]
    return [
        (lead, c, cands.change_list[k], q)
        for lead, c, k, q in zip(
            leads[won].tolist(),
            crits[won].tolist(),
            changes[won].tolist(),
            p[won].tolist(),
            strict=True,
        )
    ]


def _step(
    model: LeadModel,
    plan: Plan,
    c: int,
    change: tuple[tuple[int, float], ...],
    p: float,
    row: np.ndarray,
) -> NextStep:
    raw: dict[str, Any] = {}
    for j, code in change:
        name = plan.names[j]
        raw[name] = True if plan.kinds[j] == "boolean" else model.encoder.levels[name][int(code)]
    label = model.bands_for(row).label_one(p)
    return NextStep(plan.criterion_index[c][0], raw, p, int(label["score"]), str(label["grade"]))


# -- public API ----------------------------------------------------------------------------------
def next_steps(
    model: LeadModel,
    x: np.ndarray,
    met: Sequence[Mapping[str, bool | None]],
    framework: str = "bant",
    num_threads: int = 0,
) -> list[list[NextStep]]:
    """Per lead (rows of the encoded matrix ``x``, ``met`` from their explanations of the same
    framework), the grade-raising change for each criterion not met, best score first; a lead
    already in grade A gets none."""
    plan = plan_for(model, framework)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(plan.names):
        raise ValueError(f"expected a matrix with {len(plan.names)} columns, got {x.shape}")
    if len(met) != len(x):
        raise ValueError(f"{len(x)} leads but {len(met)} criteria verdicts")
    n = len(x)
    if n == 0:
        return []
    names = [name for name, _, _ in plan.criterion_index]
    open_ = np.array([[m.get(name) is not True for name in names] for m in met], dtype=bool)
    open_ = open_.reshape(n, len(names))
    moves = _moves(model, plan)

    singles = _singles(plan, x, open_, moves)
    p = model.predict_proba(np.vstack([x, *singles.rows]), num_threads=num_threads)
    current = _ranks(model, p[:n], x)
    open_ &= (current > 0)[:, np.newaxis]
    won = _best(model, singles, p[n:], current, x)
    for lead, c, _, _ in won:
        open_[lead, c] = False
    pairs = _pairs(plan, x, open_, moves)
    if pairs.rows:
        q = model.predict_proba(np.vstack(pairs.rows), num_threads=num_threads)
        won += _best(model, pairs, q, current, x)

    out: list[list[NextStep]] = [[] for _ in range(n)]
    for lead, c, change, prob in won:  # a lead in grade A has nothing better to reach
        out[lead].append(_step(model, plan, c, change, prob, x[lead]))
    for steps in out:
        steps.sort(key=lambda s: (-s.score, -s.probability))
    return out


def next_steps_one(
    model: LeadModel, row: np.ndarray, met: Mapping[str, bool | None], framework: str = "bant"
) -> list[NextStep]:
    """One lead's next steps on one thread (the serving path): ``row`` as ``encode_row`` made
    it, ``met`` from ``explain_lead`` (see :func:`criteria_met`)."""
    x = np.asarray(row, dtype=np.float64).reshape(1, -1)
    return next_steps(model, x, [met], framework, num_threads=1)[0]


def next_steps_column(model: LeadModel, steps: Sequence[Sequence[NextStep]]) -> list[str]:
    """One CSV cell per lead: its steps' texts joined with " | " (empty when none)."""
    return [REASON_SEPARATOR.join(step.text(model) for step in lead) for lead in steps]
