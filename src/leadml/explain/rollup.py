"""Which features feed which criterion, as index arrays built once per model and framework.

The framework's reading of the schema's tags (:mod:`leadml.schema.frameworks`) becomes 0/1
membership matrices, so that summing a batch of contributions per criterion is one matrix
product, and index tuples, so that one lead's sums are a few additions. The tables are kept in
the model's facts (:class:`leadml.features.facts.ModelFacts`), one plan per framework: the
serving path pays for them once, when a model is loaded (``prepare``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from leadml.data.values import NOT_ANSWERED
from leadml.explain.fit import side_indices
from leadml.explain.reasons import can_be_reason, reason_text
from leadml.explain.verdicts import QualifiedRule, Question, is_answer, question_text
from leadml.schema.frameworks import framework_criteria
from leadml.schema.spec import FeatureSpec

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel


@dataclass
class Plan:
    """Index arrays and templates for one (model, framework): nothing per lead is recomputed."""

    framework: str
    names: list[str]
    kinds: list[str]
    specs: list[FeatureSpec | None]
    buckets: dict[str, tuple[str, ...]]
    membership: np.ndarray  # (features, buckets) 0/1
    bucket_index: list[tuple[str, tuple[str, ...], tuple[int, ...]]]  # for one-lead sums
    #: The framework's own criteria: (name, all its features, the answers among them).
    criterion_index: list[tuple[str, tuple[int, ...], tuple[int, ...]]]
    #: Which criteria the model records, and the verdict over them.
    rule: QualifiedRule
    #: Features that may be worded as a reason (not id-like, not hundreds of levels).
    wordable: np.ndarray  # (features,) bool
    wordable_list: list[bool]
    #: Per feature, the code of "(not answered)" (NaN where the feature has no such state): a
    #: skipped form question is a state the model scores, but for the verdict and the questions
    #: it is as unknown as a blank: the rep still has to ask.
    skipped: np.ndarray = field(default_factory=lambda: np.zeros(0))
    skipped_list: list[float] = field(default_factory=list)
    #: Positions of the fit (who they are) and the engagement (what they did) features.
    sides: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
    texts: dict[tuple[int, float | None], str] = field(default_factory=dict)
    #: Questions already worded: (criterion, missing answers or None when unknown) → question.
    asked: dict[tuple[str, tuple[int, ...] | None], Question] = field(default_factory=dict)

    def question(self, name: str, missing: tuple[int, ...] | None) -> Question:
        """The question for recorded criterion ``name`` (``missing``: its unanswered answers,
        or None when the whole criterion is unknown), worded once per model and pattern. An
        unrecorded criterion is never asked (see ``asks``): the rule's sentence says it once."""
        key = (name, missing)
        found = self.asked.get(key)
        if found is None:
            if missing is None:
                found = Question(name, question_text(name, None), self.buckets[name])
            else:
                labels = [self.label(j) for j in missing]
                text = question_text(name, labels)
                found = Question(name, text, tuple(self.names[j] for j in missing))
            self.asked[key] = found
        return found

    def answered(self, x: np.ndarray) -> np.ndarray:
        """Cells of an encoded matrix that hold an answer: neither blank nor "(not answered)"."""
        return ~np.isnan(x) & (x != self.skipped)

    def answered_one(self, x: list[float], j: int) -> bool:
        """``answered`` for one cell of one lead, in plain floats (the API's path)."""
        return x[j] == x[j] and x[j] != self.skipped_list[j]  # NaN != NaN: a blank

    def asks(self, name: str) -> bool:
        """Whether a lead may be asked about criterion ``name``: only when the model records
        it (no lead can answer a field the export does not have)."""
        return name not in self.rule.unrecorded

    @property
    def own(self) -> np.ndarray:
        """Column positions of the framework's own criteria among the buckets."""
        names = list(self.buckets)
        return np.array([names.index(name) for name, _, _ in self.criterion_index], dtype=int)

    def label(self, j: int) -> str:
        spec = self.specs[j]
        return spec.label if spec is not None else self.names[j].replace("_", " ").capitalize()

    def text(self, model: LeadModel, j: int, code: float) -> str:
        """Reason wording for feature ``j`` at encoded value ``code`` (cached when discrete)."""
        missing = code != code
        key = (j, None if missing else float(code))
        cached = self.texts.get(key)
        if cached is not None:
            return cached
        kind = self.kinds[j]
        value = None if missing else model.encoder.decode_value(j, float(code))
        text = reason_text(self.specs[j], self.names[j], kind, value)
        if missing or kind not in ("numeric", "age_days"):  # a few values each: safe to keep
            self.texts[key] = text
        return text


def membership(names: list[str], buckets: Mapping[str, tuple[str, ...]]) -> np.ndarray:
    position = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(buckets)), dtype=np.float64)
    for col, feats in enumerate(buckets.values()):
        for name in feats:
            matrix[position[name], col] = 1.0
    return matrix


def _skipped_code(model: LeadModel, name: str) -> float:
    """The code feature ``name`` gives "(not answered)", or NaN where it has no such state."""
    if not model.encoder.knows_not_answered(name):
        return float("nan")
    code = model.encoder.code_of(name, NOT_ANSWERED)
    return float("nan") if code is None else float(code)


def plan_for(model: LeadModel, framework: str) -> Plan:
    """Kept in the model's facts, so the serving path pays for the roll-up tables only once."""
    plans = model.facts.plans
    plan = plans.get(framework)
    if plan is not None:
        return plan
    names = list(model.encoder.names)
    specs_by_name = {f.name: f for f in model.schema.features}
    rollup = model.rollup(framework)
    buckets = dict(rollup.buckets)
    strays = tuple(n for n in names if n not in specs_by_name)
    if strays:
        buckets["other"] = buckets.get("other", ()) + strays
    position = {n: j for j, n in enumerate(names)}
    specs = [specs_by_name.get(n) for n in names]
    kinds = list(model.encoder.kinds)
    answers = {
        j for j, spec in enumerate(specs) if spec is not None and is_answer(spec.kind, spec.group)
    }
    own = [
        (name, tuple(position[f] for f in buckets[name]))
        for name in framework_criteria(rollup.framework)
    ]
    plan = Plan(
        framework=rollup.framework,
        names=names,
        kinds=kinds,
        specs=specs,
        buckets=buckets,
        membership=membership(names, buckets),
        bucket_index=[
            (name, feats, tuple(position[f] for f in feats)) for name, feats in buckets.items()
        ],
        criterion_index=[(name, idx, tuple(j for j in idx if j in answers)) for name, idx in own],
        rule=QualifiedRule.of(rollup),
        wordable=np.array(
            [
                can_be_reason(n, k, model.encoder.levels.get(n), specs_by_name.get(n))
                for n, k in zip(names, kinds, strict=True)
            ],
            dtype=bool,
        ),
        wordable_list=[],
        skipped=np.array([_skipped_code(model, n) for n in names], dtype=np.float64),
        sides=side_indices(specs),
    )
    plan.wordable_list = plan.wordable.tolist()
    plan.skipped_list = plan.skipped.tolist()
    plans[framework] = plan
    return plan


def prepare(model: LeadModel, framework: str = "bant") -> None:
    """Build the roll-up tables now (call when a server loads a model), so the first lead
    explained is as fast as the rest."""
    plan_for(model, framework)
