"""``leadml promote`` as library calls: the challenger a reference names, against its champion.

The pair is found first (``promotion_pair``): the challenger loaded and checked to be a
registered version, the champion looked up (:mod:`leadml.lifecycle.champion`) and loaded only
when it is another version. ``judge_pair`` runs the gate on leads neither model learned from
(:mod:`leadml.modeling.promotion`); the caller shows it, and moves the alias on a pass
(:func:`leadml.tracking.champions.record_promotion`), so nothing moves before the evidence is
on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadml.errors import LeadMLError
from leadml.lifecycle.champion import find_champion, version_model

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.modeling.promotion import GateResult


@dataclass(frozen=True)
class PromotionPair:
    """A registered challenger and the champion it would replace (None: there is none)."""

    name: str
    new: str
    old: str | None
    challenger: LeadModel
    champion: LeadModel | None

    @property
    def already_champion(self) -> bool:
        return self.old == self.new


def promotion_pair(client: MlflowClient, settings: Settings, ref: str | None) -> PromotionPair:
    """The challenger ``ref`` names (default: the store's only model's challenger) and its
    champion."""
    from leadml.modeling.promotion import default_challenger
    from leadml.tracking.references import load_model

    ref = ref or default_challenger(settings)
    challenger = load_model(ref, settings.tracking_uri, settings.bundle_key)
    name = challenger.meta.get("registered_model")
    new = str(challenger.meta.get("registry_version") or "")
    if not name or not new:
        raise LeadMLError(f"{ref} is not a registered model version; give models:/...")
    old = find_champion(client, settings, name, load=False).version
    if old is None or old == new:
        return PromotionPair(name, new, old, challenger, None)
    return PromotionPair(name, new, old, challenger, version_model(settings, name, old))


def judge_pair(pair: PromotionPair, data: str | Path | None) -> GateResult:
    """The gate on ``data``: labelled leads neither model learned from (required)."""
    from leadml.modeling.promotion import held_out_leads, promotion_gate

    return promotion_gate(pair.challenger, pair.champion, held_out_leads(data))
