"""The promotion gate: a challenger becomes champion only if it is not worse on the same leads.

Both models are scored on the same held-out labelled leads (given, or the challenger's own
test slice) and compared within stated tolerances: a challenger may lose a little ROC AUC to
noise, never much, and its probabilities may not get noticeably less honest. The gate only
judges; :mod:`leadml.lifecycle.promotion` moves the alias on its verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.data.read import read_table
from leadml.errors import LeadMLError, ModelLoadError
from leadml.modeling.evaluate import evaluate_model

#: The challenger may lose at most this much ROC AUC to the champion ...
AUC_TOLERANCE = 0.005
#: ... and its expected calibration error may rise at most this much.
ECE_TOLERANCE = 0.01


class Figure(NamedTuple):
    """A figure both models are judged on: its name for people, which way is better, and the
    change the gate lets pass in the worse direction (None: shown, not gated)."""

    label: str
    higher_is_better: bool
    tolerance: float | None


#: What a promotion message compares, in the order it says them.
FIGURES = {
    "roc_auc": Figure("ROC AUC", True, AUC_TOLERANCE),
    "ece": Figure("calibration error (ECE)", False, ECE_TOLERANCE),
    "log_loss": Figure("log loss", False, None),
    "brier": Figure("Brier score", False, None),
}


def promotion_verdict(
    champion: dict[str, Any], challenger: dict[str, Any]
) -> tuple[bool, list[str]]:
    """Not worse than the champion on the same held-out data, within stated tolerances."""
    reasons = []
    if challenger["roc_auc"] < champion["roc_auc"] - AUC_TOLERANCE:
        reasons.append(
            f"ROC AUC {challenger['roc_auc']:.4f} is below the champion's "
            f"{champion['roc_auc']:.4f} by more than {AUC_TOLERANCE}"
        )
    if challenger["ece"] > champion["ece"] + ECE_TOLERANCE:
        reasons.append(
            f"calibration error {challenger['ece']:.4f} exceeds the champion's "
            f"{champion['ece']:.4f} by more than {ECE_TOLERANCE}"
        )
    return not reasons, reasons


def _signed(value: float, places: int = 4) -> str:
    return f"{value:+.{places}f}".replace("-", "\u2212")


def gate_comparison(challenger: Mapping[str, float], champion: Mapping[str, float]) -> str:
    """Each figure of the challenger against the champion's, the change, and the tolerance it
    was judged with: ``ROC AUC 0.7120 vs champion 0.7310 (−0.0190, within the tolerance
    −0.0050)``. A gate that passes a worse model must say by how much and why."""
    parts = []
    for key, figure in FIGURES.items():
        if key not in challenger or key not in champion:
            continue
        new, old = float(challenger[key]), float(champion[key])
        delta = new - old
        if figure.tolerance is None:
            judged = "not gated"
        else:
            allowed = -figure.tolerance if figure.higher_is_better else figure.tolerance
            worse_by = -delta if figure.higher_is_better else delta
            inside = worse_by <= figure.tolerance + 1e-12
            judged = f"{'within' if inside else 'beyond'} the tolerance {_signed(allowed)}"
        parts.append(f"{figure.label} {new:.4f} vs champion {old:.4f} ({_signed(delta)}, {judged})")
    return "; ".join(parts)


def worse_on_every_figure(challenger: Mapping[str, float], champion: Mapping[str, float]) -> bool:
    """The challenger is worse than the champion on every figure both have (ties are not)."""
    shared = [k for k in FIGURES if k in challenger and k in champion]
    return bool(shared) and all(
        (challenger[k] < champion[k])
        if FIGURES[k].higher_is_better
        else (challenger[k] > champion[k])
        for k in shared
    )


def promotion_summary(
    version: str, challenger: Mapping[str, float], champion: Mapping[str, float] | None
) -> str:
    """One line for a challenger that passed: the figures compared and, when it is worse on
    all of them, that it passed only because the tolerances allow it."""
    if champion is None:
        return f"challenger v{version} promoted: there was no champion to compare with"
    line = f"challenger v{version} promoted: {gate_comparison(challenger, champion)}"
    if worse_on_every_figure(challenger, champion):
        line += ". Worse on every metric, within tolerance"
    return line


@dataclass
class GateResult:
    """The evidence for (or against) a promotion: both models' figures on the same labelled
    leads, and the reasons the challenger may not serve (none: it passed).

    ``leadml promote`` judges on leads the user holds out; ``leadml retrain`` on the newest
    leads of its backtest (``period`` says when they came in, ``champion_saw`` how many of
    them the champion learned from). One type for both, so a gate is read, logged and
    printed the same way whichever verb ran it.
    """

    rows: int
    challenger: dict[str, float]
    champion: dict[str, float] | None = None
    reasons: list[str] = field(default_factory=list)
    period: str | None = None
    champion_saw: int = 0

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def judged_on(self) -> str:
        """Which leads judged, for a title: the newest (retrain) or the held-out (promote)."""
        if self.period is None:
            return f"{self.rows:,} held-out leads"
        return f"the newest {self.rows:,} leads ({self.period})"

    def evidence(self) -> dict[str, Any]:
        """What is kept with the version (and, for a retrain, logged on its run): the figures,
        the tolerances and, for a retrain, which leads judged and the verdict."""
        tolerances = {"roc_auc": -AUC_TOLERANCE, "ece": ECE_TOLERANCE}
        if self.period is None:
            return {
                "challenger": self.challenger,
                "champion": self.champion,
                "rows": self.rows,
                "tolerances": tolerances,
            }
        return {
            "judged_on": self.judged_on,
            "rows": self.rows,
            "challenger": self.challenger,
            "champion": self.champion,
            "champion_learned_from": self.champion_saw,
            "tolerances": tolerances,
            "passed": self.passed,
            "reasons": self.reasons,
        }

    def refusal(self, champion_version: str | None) -> str:
        """Why the challenger does not serve, in one line, and what serves instead."""
        stays = f"champion stays v{champion_version}" if champion_version else "no champion was set"
        return (
            f"promotion refused: {'; '.join(self.reasons)} (tolerances: ROC AUC "
            f"-{AUC_TOLERANCE}, ECE +{ECE_TOLERANCE}); {stays}"
        )


def held_out_leads(data: str | Path | None) -> pd.DataFrame:
    """The labelled leads to judge on. They must be given: a shipped model learns from every
    lead of its training file, so no part of that file is held out from it any more, and
    judging it there would favour it over the champion."""
    if data is None:
        raise LeadMLError(
            "give --data FILE: labelled leads neither model learned from (newer than the "
            "challenger's training data); the challenger learned from every lead of its own file"
        )
    return read_table(data)


def promotion_gate(
    challenger: LeadModel,
    champion: LeadModel | None,
    frame: pd.DataFrame,
) -> GateResult:
    """Judge ``challenger`` against ``champion`` (None: there is none) on ``frame``."""
    name = challenger.meta.get("registered_model")
    version = str(challenger.meta.get("registry_version") or "")
    if not name or not version:
        raise ModelLoadError("the challenger is not a registered model version; give models:/...")
    new = evaluate_model(challenger, frame)
    result = GateResult(rows=int(new.pop("rows")), challenger=new)
    if champion is not None:
        old = evaluate_model(champion, frame)
        old.pop("rows")
        result.champion = old
        result.reasons = promotion_verdict(old, new)[1]
    result.reasons += baseline_reasons(challenger)
    return result


def baseline_reasons(model: LeadModel) -> list[str]:
    """A model that lost to its own baselines in its backtest is not promoted
    (:mod:`leadml.modeling.verdict`)."""
    verdict = model.meta.get("verdict") or {}
    if not verdict.get("loses"):
        return []
    return ["it does not beat its own baselines in its backtest: " + "; ".join(verdict["reasons"])]


def default_challenger(settings: Settings) -> str:
    """``models:/<name>@challenger`` for the store's only registered model; with several, the
    user must say which."""
    from mlflow.tracking import MlflowClient

    from leadml.tracking.aliases import CHALLENGER
    from leadml.tracking.registry import registered_names

    names = registered_names(MlflowClient())
    if len(names) == 1:
        return f"models:/{names[0]}@{CHALLENGER}"
    shown = ", ".join(names) if names else "none"
    raise LeadMLError(
        f"say which model to promote with --model models:/<name>@challenger; registered models "
        f"in {settings.tracking_uri}: {shown}"
    )
