"""Does the model beat what sales could do without it? If not, it says so and is not crowned.

A lead model earns its place only by beating its baselines on the leads it was judged on (the
backtest's headline fold): the base rate (every lead alike), a logistic regression and a BANT
points score, all fitted on the same leads. It loses when, on that fold:

* its log loss is worse than the base rate's: its probabilities are less honest than giving
  every lead the average;
* its ROC AUC's 95 % interval reaches 0.5 (or lies below it): it ranks leads no better
  than chance;
* a baseline's ROC AUC lies above the model's whole 95 % interval: a simpler model ranks
  leads better, beyond the noise of the fold.

A model that loses is still logged, registered and written (its figures are the evidence), but
gets neither the ``challenger`` alias nor, as a first version, ``champion``, unless the user
insists (``--force``); ``leadml promote`` refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Baselines as the sentence names them.
BASELINE_NAMES = {
    "base_rate": "the base rate",
    "logistic_regression": "a logistic regression",
    "bant_points": "the BANT points score",
}


@dataclass
class Verdict:
    """Whether the model beats its baselines, and the reasons it does not, each a clause."""

    loses: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        """One plain sentence for the output, the report and the run (empty when it wins)."""
        if not self.loses:
            return ""
        return (
            "This model does not beat its baselines on the newest leads: "
            + "; ".join(self.reasons)
            + ". It was not made challenger or champion (train with --force to make it so)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {"loses": self.loses, "reasons": self.reasons, "sentence": self.sentence}


def judge_against_baselines(metrics: dict[str, Any]) -> Verdict:
    """The verdict on the headline fold's figures (``metrics.json``'s top level)."""
    reasons: list[str] = []
    baselines = metrics.get("baselines", {})
    base = baselines.get("base_rate", {})
    if base and metrics["log_loss"] > base["log_loss"]:
        reasons.append(
            f"its log loss ({metrics['log_loss']:.4f}) is worse than the base rate's "
            f"({base['log_loss']:.4f}), so its probabilities are less honest than giving every "
            "lead the average"
        )
    lo, hi = metrics.get("intervals", {}).get("roc_auc", [float("nan")] * 2)
    if lo <= 0.5:
        reasons.append(
            f"its ROC AUC ({metrics['roc_auc']:.3f}, 95 % interval {lo:.3f}–{hi:.3f}) is no "
            "better than chance"
        )
    for key, name in BASELINE_NAMES.items():
        auc = baselines.get(key, {}).get("roc_auc", float("nan"))
        if key != "base_rate" and auc > hi:
            reasons.append(
                f"{name} ranks leads better (ROC AUC {auc:.3f} against {metrics['roc_auc']:.3f},"
                f" above its 95 % interval {lo:.3f}–{hi:.3f})"
            )
    return Verdict(bool(reasons), reasons)
