"""Whether a lead is qualified under the chosen framework, and what a rep should ask next.

**Recorded criteria.** A criterion no feature of the model feeds (an export with no timing
field; GPCT's goals without a ``goals`` tag) is *unrecorded*: it is the same for every lead,
so it is said once per model ("This export records no timing field.", in the report,
``/v1/model``, the page's header and the card), never asked on every lead, and the verdict
is over the criteria the export records.

**Qualified** (the rule a sales team signs). The classic BANT rule is "three of the four
criteria met"; every framework here reads it the same way, over the criteria the export
records: at least **three quarters of the recorded criteria, rounded up**, met (3 of BANT's 4;
4 of FAINT's 5; 3 of 3 when timing is not recorded; 2 of 2). With fewer than **two** recorded
criteria no lead is judged at all: one criterion is a field, not a qualification ("cannot
judge: this export records only authority", said once per model). An unrecorded criterion
is neither met nor open: counting it "unknown forever" would leave every lead two criteria
short "cannot judge yet" for good. With every criterion recorded the rule is exactly the
classic one. A recorded criterion whose fields are all missing for a lead is *unknown*, and
the verdict is

* ``True`` when enough criteria are met whatever the unknown ones turn out to be,
* ``False`` when even all the unknown ones met would not be enough,
* ``None`` (*cannot judge yet*) otherwise: a lead with nothing answered is not "not qualified".

:class:`QualifiedRule` is that rule for one model and framework, for one lead (the API) and
for a matrix of leads (``score --explain``, the report) alike.

**Questions.** A missing answer is never a reason for or against a lead: it is something to
ask, which is what qualification frameworks are for. A recorded criterion gets a question
when it is unknown ("Ask about budget: not stated"), or when one of its *answers* is missing
although other evidence judged it ("Ask about timing: purchase timeline not stated"; "Ask
about need: not stated" when the answer is the criterion's own, "Stated need"). Answers are
the fields a rep can ask for: ordinal form answers and the schema's ``qualification`` group.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.schema.frameworks import Rollup, criterion_label
from leadml.schema.lexicon import name_words

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

#: Share of the recorded criteria that must be met: 3 of BANT's 4.
QUALIFIED_SHARE = 0.75
#: Fewer recorded criteria than this and no lead is judged: one criterion is not a framework.
MIN_RECORDED = 2
#: Groups whose fields are answers to a qualification question.
ANSWER_GROUPS = frozenset({"qualification"})
#: Joins question texts in one CSV cell (as reasons are joined).
QUESTION_SEPARATOR = " | "


def needed(criteria: int) -> int:
    """Criteria that must be met to qualify: 3 of 4, 4 of 5, 3 of 3, 2 of 2 (at least one)."""
    return max(1, math.ceil(QUALIFIED_SHARE * criteria))


def qualified(met: int, unknown: int, criteria: int) -> bool | None:
    """The rule in the module's docstring over ``criteria`` recorded criteria (``met`` and
    ``unknown`` counted among them); ``None`` when the unknown ones could decide, or when
    fewer than :data:`MIN_RECORDED` are recorded."""
    if criteria < MIN_RECORDED:
        return None
    need = needed(criteria)
    if met >= need:
        return True
    if met + unknown < need:
        return False
    return None


def _lower_first(label: str) -> str:
    """ "Purchase timeline" → "purchase timeline", but "CRM source" stays as written."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _listed(labels: Sequence[str], last: str = "and") -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} {last} {labels[-1]}"


def _words(criteria: Sequence[str]) -> list[str]:
    return [_lower_first(criterion_label(name)) for name in criteria]


@dataclass(frozen=True)
class QualifiedRule:
    """The verdict rule of one model under one framework: which criteria it records, how
    many must be met, and the once-per-model sentences that say so."""

    framework: str
    #: The framework's criteria, in its order.
    criteria: tuple[str, ...]
    #: Those no feature of the model feeds.
    unrecorded: tuple[str, ...] = ()

    @classmethod
    def of(cls, rollup: Rollup) -> QualifiedRule:
        return cls(rollup.framework, tuple(rollup.criteria), rollup.unrecorded)

    @property
    def recorded(self) -> tuple[str, ...]:
        return tuple(name for name in self.criteria if name not in self.unrecorded)

    @property
    def judges(self) -> bool:
        """Whether any lead can be judged (at least :data:`MIN_RECORDED` recorded criteria)."""
        return len(self.recorded) >= MIN_RECORDED

    @property
    def need(self) -> int | None:
        """Recorded criteria that must be met (None: no lead is judged)."""
        return needed(len(self.recorded)) if self.judges else None

    def judge(self, met: Mapping[str, bool | None]) -> bool | None:
        """One lead: ``met`` per criterion of the framework (None: unknown)."""
        verdicts = [met[name] for name in self.recorded]
        yes = sum(1 for v in verdicts if v)
        unknown = sum(1 for v in verdicts if v is None)
        return qualified(yes, unknown, len(verdicts))

    def codes(self, own: np.ndarray) -> np.ndarray:
        """Many leads: ``own`` is (n, criteria) of 1 met / 0 not / -1 unknown, in the order
        of ``criteria``; returns (n,) int8 of 1 qualified / 0 not / -1 cannot judge, the same
        answers as :meth:`judge` lead by lead."""
        n = len(own)
        need = self.need
        if need is None:
            return np.full(n, -1, dtype=np.int8)
        keep = [c for c, name in enumerate(self.criteria) if name not in self.unrecorded]
        judged = np.asarray(own).reshape(n, len(self.criteria))[:, keep]
        met, unknown = (judged == 1).sum(axis=1), (judged == -1).sum(axis=1)
        return np.where(
            met >= need, np.int8(1), np.where(met + unknown < need, np.int8(0), np.int8(-1))
        ).astype(np.int8)

    @property
    def unrecorded_sentence(self) -> str | None:
        """ "This export records no timing field." (None: every criterion is recorded)."""
        if not self.unrecorded:
            return None
        return f"This export records no {_listed(_words(self.unrecorded), 'or')} field."

    @property
    def text(self) -> str:
        """The rule in words: "at least 3 of its 4 criteria met" when every criterion is
        recorded, else over the recorded ones ("budget, authority and need all met"), or why
        no lead is judged ("cannot judge: this export records only authority")."""
        recorded = self.recorded
        if not self.judges:
            if not recorded:
                return "cannot judge: this export records none of its criteria"
            return f"cannot judge: this export records only {_listed(_words(recorded))}"
        if not self.unrecorded:
            return f"at least {self.need} of its {len(recorded)} criteria met"
        listed = _listed(_words(recorded))
        if self.need == len(recorded):  # "authority and need both met", "..., need all met"
            return f"{listed} {'both' if len(recorded) == 2 else 'all'} met"
        return f"at least {self.need} of {listed} met"

    @property
    def sentence(self) -> str | None:
        """What the page's header, the card and the report say once per model (None: every
        criterion is recorded, nothing to say)."""
        if not self.unrecorded:
            return None
        name = self.framework.upper()
        if not self.judges:
            return f"{self.unrecorded_sentence} {name} {self.text}."
        return f"{self.unrecorded_sentence} {name} qualified: {self.text}."

    def to_dict(self) -> dict[str, Any]:
        """The fields ``GET /v1/model`` adds: what is unrecorded, and the rule in words."""
        return {
            "unrecorded_criteria": list(self.unrecorded),
            "unrecorded_sentence": self.unrecorded_sentence,
            "qualified_rule": self.text,
        }


def qualified_rule(model: LeadModel, framework: str = "bant") -> QualifiedRule:
    """The verdict rule of ``model`` under ``framework`` (what it records decides it)."""
    return QualifiedRule.of(model.rollup(framework))


def is_answer(kind: str, group: str) -> bool:
    """A field a rep can ask the lead about (a form answer), not a trait or a count."""
    return kind == "ordinal" or group in ANSWER_GROUPS


@dataclass(frozen=True)
class Question:
    """One thing to ask the lead, and the fields whose answers it would fill."""

    criterion: str
    text: str
    fields: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "text": self.text, "fields": list(self.fields)}


def question_text(criterion: str, missing_labels: list[str] | None) -> str:
    """Words for a question about a recorded criterion: ``missing_labels`` None means the
    whole criterion is unknown for this lead."""
    about = f"Ask about {_lower_first(criterion_label(criterion))}"
    named = set(name_words(criterion_label(criterion)))
    if missing_labels is None or any(named <= set(name_words(x)) for x in missing_labels):
        # "Ask about need: not stated", never "Ask about need: stated need not stated"
        return f"{about}: not stated"
    return f"{about}: {_listed([_lower_first(label) for label in missing_labels])} not stated"
