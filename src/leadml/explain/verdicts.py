"""Whether a lead is qualified under the chosen framework, and what a rep should ask next.

**Qualified.** The classic BANT rule is "three of the four criteria met"; every framework here
reads it the same way: at least three quarters of its criteria met (3 of 4; 4 of FAINT's 5).
A criterion whose fields are all missing is *unknown*, and the verdict is

* ``True`` when enough criteria are met whatever the unknown ones turn out to be,
* ``False`` when even all the unknown ones met would not be enough,
* ``None`` (*cannot judge yet*) otherwise: a lead with nothing answered is not "not qualified".

**Questions.** A missing answer is never a reason for or against a lead: it is something to
ask, which is what qualification frameworks are for. A criterion gets a question when it is
unknown ("Ask about budget: not stated"), when it has no field at all (GPCT's goals without a
``goals`` tag: "no field records it"), or when one of its *answers* is missing although other
evidence judged it ("Ask about timing: purchase timeline not stated"; "Ask about need: not
stated" when the answer is the criterion's own, "Stated need"). Answers are the fields a
rep can ask for: ordinal form answers and the schema's ``qualification`` group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from leadml.schema.frameworks import criterion_label
from leadml.schema.lexicon import name_words

#: Share of a framework's criteria that must be met: 3 of BANT's 4.
QUALIFIED_SHARE = 0.75
#: Groups whose fields are answers to a qualification question.
ANSWER_GROUPS = frozenset({"qualification"})
#: Joins question texts in one CSV cell (as reasons are joined).
QUESTION_SEPARATOR = " | "


def needed(criteria: int) -> int:
    """Criteria that must be met to qualify: 3 of 4, 4 of 5 (at least one)."""
    return max(1, math.ceil(QUALIFIED_SHARE * criteria))


def qualified(met: int, unknown: int, criteria: int) -> bool | None:
    """The rule in the module's docstring; ``None`` when the unknown criteria could decide."""
    need = needed(criteria)
    if met >= need:
        return True
    if met + unknown < need:
        return False
    return None


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


def _lower_first(label: str) -> str:
    """ "Purchase timeline" → "purchase timeline", but "CRM source" stays as written."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _joined(labels: list[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels)
    return f"{', '.join(labels[:-1])} and {labels[-1]}"


def question_text(criterion: str, missing_labels: list[str] | None, has_fields: bool) -> str:
    """Words for a question: ``missing_labels`` None means the whole criterion is unknown."""
    about = f"Ask about {_lower_first(criterion_label(criterion))}"
    if not has_fields:
        return f"{about}: no field records it"
    named = set(name_words(criterion_label(criterion)))
    if missing_labels is None or any(named <= set(name_words(x)) for x in missing_labels):
        # "Ask about need: not stated", never "Ask about need: stated need not stated"
        return f"{about}: not stated"
    return f"{about}: {_joined([_lower_first(label) for label in missing_labels])} not stated"
