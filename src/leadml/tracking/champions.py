"""Who has been champion, and moving the alias forward (promote) or back (rollback).

Every move of ``champion`` is recorded twice in the MLflow registry: on the version it now
points to (``leadml.promoted_*`` tags, as before) and as one entry of the registered model's
log, a tag per move (``leadml.champion_move.000007``: who, when, from, to, why, kind). A tag per
move, not one growing tag, so the log never reaches MLflow's length limit on a tag value.

Rollback undoes promotions, not rollbacks: it goes back to the champion that the current one
replaced when it was *promoted*. Rolling back twice after v1 → v2 → v3 gives v2, then v1, not
v3 again; a version that became champion on its own (the first one registered) has nothing
before it, and rollback says so and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from leadml.errors import LeadMLError
from leadml.tracking.registry import CHAMPION, alias_version

MOVE_TAG = "leadml.champion_move."


@dataclass(frozen=True)
class ChampionMove:
    """One move of the champion alias."""

    kind: str  # "promotion" or "rollback"
    at: str
    by: str
    from_version: str | None
    to_version: str
    why: str


def champion_log(client: MlflowClient, name: str) -> list[ChampionMove]:
    """Every recorded move of ``name``'s champion, oldest first."""
    tags = client.get_registered_model(name).tags
    moves = []
    for key in sorted(k for k in tags if k.startswith(MOVE_TAG)):
        try:
            moves.append(ChampionMove(**json.loads(tags[key])))
        except (ValueError, TypeError):
            continue  # a tag someone edited by hand is no move
    return moves


def move_champion(
    client: MlflowClient,
    name: str,
    new: str,
    *,
    who: str,
    why: str,
    kind: str = "promotion",
    evidence: dict[str, Any] | None = None,
) -> ChampionMove:
    """Point ``champion`` at version ``new`` and record the move (see the module docstring)."""
    old = alias_version(client, name, CHAMPION)
    move = ChampionMove(
        kind=kind,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        by=who,
        from_version=old,
        to_version=new,
        why=why,
    )
    client.set_registered_model_alias(name, CHAMPION, new)
    prefix = "leadml.promoted" if kind == "promotion" else "leadml.rolled_back"
    tags = {
        f"{prefix}_by": who,
        f"{prefix}_at": move.at,
        f"{prefix}_from": old or "none",
        f"{prefix}_to": new,
        f"{prefix}_why": why,
    }
    if evidence is not None:
        tags["leadml.promotion_evidence"] = str(evidence)
    for key, value in tags.items():
        client.set_model_version_tag(name, new, key, value)
    sequence = len([k for k in client.get_registered_model(name).tags if k.startswith(MOVE_TAG)])
    client.set_registered_model_tag(name, f"{MOVE_TAG}{sequence:06d}", json.dumps(asdict(move)))
    client.set_registered_model_tag(
        name, "leadml.last_promotion", f"{move.at} {who}: v{old or '-'} → v{new} ({kind})"
    )
    return move


def previous_champion(client: MlflowClient, name: str, current: str) -> str | None:
    """The champion that ``current`` replaced when it was last promoted (None: it never was).

    Models promoted before the log existed carry only their version tags: those are read too.
    """
    for move in reversed(champion_log(client, name)):
        if move.kind == "promotion" and move.to_version == current:
            return move.from_version
    tags = client.get_model_version(name, current).tags
    before = tags.get("leadml.promoted_from")
    return before if before and before != "none" else None


def rollback_target(client: MlflowClient, name: str, to: str | None) -> tuple[str, str]:
    """(current champion, version to go back to), or a one-line error that changes nothing."""
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise LeadMLError(f"{name} has no champion: nothing to roll back")
    if to is None:
        target = previous_champion(client, name, current)
        if target is None:
            raise LeadMLError(
                f"{name} v{current} became champion without a promotion (it was the first): "
                "nothing to roll back to; name a version with --to N"
            )
    else:
        target = to.removeprefix("v")
        try:
            client.get_model_version(name, target)
        except MlflowException:
            raise LeadMLError(f"{name} has no version {to}: see `leadml versions`") from None
    if target == current:
        raise LeadMLError(f"{name} v{current} is already the champion: nothing changed")
    return current, target
