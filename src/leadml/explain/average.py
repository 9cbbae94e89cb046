"""The average lead in the base rate's terms, so a card never shows two unexplained numbers
for "the average".

Points start from the *average lead's score*: the calibrated probability of the training
leads' average raw log-odds (TreeSHAP's base value). That is not the share of leads that
convert. On a probability curve, averaging log-odds and then turning the average into a
probability gives less than averaging the probabilities whenever most leads are unlikely and a
few are near-certain (and more in the mirror case): the few lift the share, not the typical
lead. On an export where 18 % of leads convert, the average lead can score 9. Both numbers are
right; :func:`average_lead_words` says them together, in a sentence a rep reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

#: Within this many points the two numbers read as one and need no explanation.
SAME_POINTS = 1.0


def conversion_rate(model: LeadModel) -> float | None:
    """The share of the leads the model learned from that converted (within its horizon when
    it has one), from the label's counts; the test split's when those are not recorded."""
    counts = (model.meta.get("label") or {}).get("counts") or {}
    converted, lost = counts.get("converted"), counts.get("not_converted")
    if converted is not None and lost is not None and converted + lost > 0:
        return converted / (converted + lost)
    rate = model.metrics.get("test_positive_rate")
    return None if rate is None else float(rate)


def average_lead_words(base_score: float, rate: float | None) -> str:
    """Where a lead's points start, with the base rate beside it and why they differ:
    "the average lead's 9 (18 % of leads convert: a few far likelier leads lift that share)"."""
    start = f"the average lead's {base_score:.0f}"
    if rate is None:
        return start
    share = f"{100 * rate:.0f} % of leads convert"
    if abs(100 * rate - base_score) < SAME_POINTS:
        return f"{start} ({share})"
    if 100 * rate > base_score:
        why = "a few far likelier leads lift that share above the average lead's score"
    else:
        why = "a few far less likely leads pull that share below the average lead's score"
    return f"{start} ({share}: {why})"
