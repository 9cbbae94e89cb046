"""Who has been champion, and moving the alias forward (promote) or back (rollback).

Every move of ``champion`` is recorded twice in the MLflow registry: on the version it now
points to (``leadml.promoted_*`` tags, as before) and as one entry of the registered model's
log, a tag per move (``leadml.champion_move.000007``: who, when, from, to, why, kind). A tag per
move, not one growing tag, so the log never reaches MLflow's length limit on a tag value.

Rollback undoes promotions, not rollbacks: it goes back to the champion that the current one
replaced when it was *promoted*. Rolling back twice after v1 → v2 → v3 gives v2, then v1, not
v3 again; a version that became champion on its own (the first one registered) has nothing
before it, and rollback says so and changes nothing.

The project's bundle folder (``models/<name>/``, what a Docker container or ``--model
models/<name>`` serves) follows every move: the new champion's bundle is downloaded and checked
*before* the alias moves, then swapped in whole (a temporary folder beside it, renamed over
it), so the folder is the champion's and a failed download changes nothing. The previous
bundle is replaced, not kept beside it: it stays in the registry, and ``leadml rollback``
writes it back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from leadml.errors import LeadMLError
from leadml.tracking.aliases import CHAMPION, alias_version

if TYPE_CHECKING:
    from leadml.bundle.signing import Key
    from leadml.config import Settings

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


@dataclass(frozen=True)
class BundleFolder:
    """Where a project's champion bundle lives on disk, and the key its bundles are signed with."""

    path: Path
    key: Key | None = None

    @classmethod
    def of(cls, settings: Settings, name: str) -> BundleFolder:
        """``models/<name>/`` in the project home: where ``leadml train`` writes it too."""
        return cls(settings.models_dir / name, settings.bundle_key)


def stage_bundle(client: MlflowClient, name: str, version: str, folder: BundleFolder) -> Path:
    """Version ``version``'s bundle, checked, in a new folder beside ``folder.path``, with its
    registry name, version and run in its metadata (as ``leadml train`` writes them), signed
    when a key is held. A bundle signed with a key not held here is copied as it is (its
    signature stays valid); the caller swaps the folder in (``swap_in``) or removes it."""
    from leadml.bundle.files import copy_bundle
    from leadml.bundle.model import LeadModel
    from leadml.bundle.signing import SIGNATURE_FILE, sign_bundle
    from leadml.tracking.references import download_bundle

    target = folder.path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leadml-champion-") as work:
        bundle, identity = download_bundle(f"models:/{name}/{version}", Path(work))
        model = LeadModel.load(bundle, key=folder.key)
        if folder.key is not None or not (bundle / SIGNATURE_FILE).exists():
            run_id = client.get_model_version(name, version).run_id
            model.meta.update(identity | ({"run_id": run_id} if run_id else {}))
            model.write_files(bundle)
            if folder.key is not None:
                sign_bundle(bundle, folder.key)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        shutil.rmtree(staging)
        try:
            return copy_bundle(bundle, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def write_champion_folder(
    client: MlflowClient, name: str, version: str, folder: BundleFolder
) -> Path:
    """Put version ``version``'s bundle in ``folder`` (staged, then swapped in whole): for a
    champion the registry crowned on its own, the first one, which no move recorded."""
    from leadml.bundle.files import swap_in

    staging = stage_bundle(client, name, version, folder)
    try:
        swap_in(staging, folder.path.resolve())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder.path


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
    folder: BundleFolder | None = None,
) -> ChampionMove:
    """Point ``champion`` at version ``new``, record the move, and put its bundle in
    ``folder`` (see the module docstring)."""
    from leadml.bundle.files import swap_in

    staging = stage_bundle(client, name, new, folder) if folder is not None else None
    try:
        move = _move_alias(client, name, new, who=who, why=why, kind=kind, evidence=evidence)
        if staging is not None and folder is not None:
            swap_in(staging, folder.path.resolve())
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return move


def record_promotion(
    client: MlflowClient,
    name: str,
    old: str | None,
    new: str,
    who: str,
    numbers: dict[str, Any],
    folder: BundleFolder | None = None,
) -> None:
    """Move the champion alias to ``new`` on the gate's evidence, record who, when, from and
    to, and put its bundle in ``folder`` (``move_champion``);
    ``old`` is the champion judged."""
    why = f"passed the promotion gate against v{old}" if old else "first champion"
    move_champion(
        client, name, new, who=who, why=why, kind="promotion", evidence=numbers, folder=folder
    )


def _move_alias(
    client: MlflowClient,
    name: str,
    new: str,
    *,
    who: str,
    why: str,
    kind: str,
    evidence: dict[str, Any] | None,
) -> ChampionMove:
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
