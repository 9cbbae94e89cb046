"""Retrain and promote as library calls: what ``leadml retrain`` does, without the printing.

The steps, each a call, so a caller can say what happens between them (the CLI prints the
gate before anything moves):

1. ``retrain_basis``: the champion, and the schema and horizon the challenger must share with
   it (its probabilities must mean what the champion's do to be compared);
2. ``label_leads``: leads without a target column labelled by the outcomes posted to the score
   history, of one tenant unless pooled on purpose;
3. ``train_challenger``: trained, registered and judged on the newest leads
   (:mod:`leadml.modeling.retrain`), the gate's figures logged on its run and version;
4. ``decide``, then ``carry_out``: promoted, passed but not promoted, kept, or first champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadml.errors import LeadMLError
from leadml.lifecycle.champion import Champion, find_champion

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from mlflow.tracking import MlflowClient

    from leadml.config import Settings
    from leadml.modeling.finish import Progress, TrainResult
    from leadml.modeling.promotion import GateResult
    from leadml.schema.spec import LeadSchema
    from leadml.tracking.champions import BundleFolder


class Decision(StrEnum):
    """What a retrain did with its challenger."""

    PROMOTED = "promoted"  # passed, and made champion (``promote``)
    PASSED = "passed"  # passed; the champion stays until someone promotes it
    KEPT = "kept"  # worse on the newest leads: the champion stays
    FIRST = "first champion"  # there was no champion: it is the first
    REFUSED = "refused"  # there was no champion, and it loses to its own baselines


@dataclass(frozen=True)
class RetrainBasis:
    """What a challenger is trained and judged with: the project, its champion, the settings
    (with the champion's horizon) and the schema (given, else the champion's)."""

    project: str
    champion: Champion
    settings: Settings
    schema: LeadSchema


@dataclass(frozen=True)
class Challenger:
    """A trained, registered challenger and its gate against the champion."""

    result: TrainResult
    gate: GateResult

    @property
    def version(self) -> str:
        return str(self.result.version)


def retrain_basis(
    client: MlflowClient, settings: Settings, project: str, schema_file: Path | None = None
) -> RetrainBasis:
    """The champion of ``project`` and what the challenger must share with it."""
    from leadml.schema.spec import LeadSchema

    champion = find_champion(client, settings, project)
    model = champion.model
    if model is not None and model.horizon_days:
        # the challenger's probabilities must mean what the champion's do to be compared
        settings = settings.model_copy(update={"horizon": str(model.horizon_days)})
    if schema_file is not None:
        schema = LeadSchema.load(schema_file)
    elif model is not None:
        schema = model.schema
    else:
        raise LeadMLError(f"{project} has no champion to take the schema from: give --schema")
    return RetrainBasis(project, champion, settings, schema)


def label_leads(
    frame: pd.DataFrame,
    basis: RetrainBasis,
    target: str | None,
    positive: Any,
    *,
    outcomes_given: bool = False,
    tenant: str | None = None,
    tenants: str | None = None,
    all_tenants: bool = False,
) -> tuple[pd.DataFrame, LeadSchema, str | None]:
    """The leads to learn from, the schema that reads their target, and (when the score
    history labelled them) a line saying whose outcomes did.

    ``target`` and ``positive`` are those the data was read with (a second table of outcomes
    brings its own). Without a target column the chosen tenants' posted outcomes label the
    leads by id: one tenant unless pooled on purpose, so that the gate judges on labels of the
    leads' own CRM."""
    schema = basis.schema
    if target != schema.target:
        schema = schema.model_copy(update={"target": target, "positive": positive})
    if outcomes_given or schema.target in frame.columns:
        return frame, schema, None
    from leadml.history.labels import label_from_store, stored_outcomes
    from leadml.history.tenants import tenants_at
    from leadml.lifecycle.outcome_table import history_labelled

    url = basis.settings.history_database
    if url is None or not schema.id:
        raise LeadMLError(
            f"the data has no target column '{schema.target}': give --outcomes FILE "
            "--on KEY, or post outcomes to the score history"
        )
    why = "one CRM's outcomes label its own leads"
    chosen = tenants_at(url, tenant, tenants, all_tenants, why=why)
    labelled, note = label_from_store(
        frame, schema.id, schema.target, stored_outcomes(url, chosen), chosen.describe()
    )
    return labelled, history_labelled(schema), note


def train_challenger(
    client: MlflowClient,
    frame: pd.DataFrame,
    schema: LeadSchema,
    basis: RetrainBasis,
    *,
    since: str | None = None,
    source: str | None = None,
    progress: Progress | None = None,
) -> Challenger:
    """Train, register and judge a challenger on the leads created since ``since``; the gate's
    figures are logged on its run and version, so the MLflow UI shows why it was or was not
    promoted."""
    from leadml.modeling.retrain import retrain_leads, since_filter

    frame = since_filter(frame, schema, since)
    result, gate = retrain_leads(
        frame,
        schema,
        basis.settings,
        basis.champion.model,
        name=basis.project,
        out=basis.settings.models_dir / f"{basis.project}-challenger",
        progress=progress,
        source=source,
    )
    challenger = Challenger(result, gate)
    _log_evidence(client, basis.project, challenger.version, result.run_id, gate.evidence())
    return challenger


def decide(challenger: Challenger, champion_version: str | None, promote: bool) -> Decision:
    """What becomes of the challenger (nothing moves yet: see ``carry_out``)."""
    gate, old = challenger.gate, champion_version
    if old is None and not gate.passed:
        return Decision.REFUSED
    if old is None or old == challenger.version:
        return Decision.FIRST
    if not gate.passed:
        return Decision.KEPT
    return Decision.PROMOTED if promote else Decision.PASSED


def carry_out(
    client: MlflowClient,
    decision: Decision,
    basis: RetrainBasis,
    challenger: Challenger,
    folder: BundleFolder,
    who: str,
) -> None:
    """Do what ``decision`` says: a first champion's bundle into ``folder``; a promotion moved
    and recorded (who, when, the gate's evidence), its bundle into ``folder``; else nothing."""
    from leadml.tracking.champions import record_promotion, write_champion_folder

    new = challenger.version
    if decision is Decision.FIRST:
        write_champion_folder(client, basis.project, new, folder)
    elif decision is Decision.PROMOTED:
        old, evidence = basis.champion.version, challenger.gate.evidence()
        record_promotion(client, basis.project, old, new, who, evidence, folder)


def _log_evidence(
    client: MlflowClient, name: str, version: str, run_id: str | None, evidence: dict[str, Any]
) -> None:
    """The gate's figures on the challenger's run (``gate_*`` metrics) and version (a tag)."""
    if run_id:
        for who in ("challenger", "champion"):
            for key, value in (evidence.get(who) or {}).items():
                if isinstance(value, float):
                    client.log_metric(run_id, f"gate_{who}_{key}", value)
    client.set_model_version_tag(name, version, "leadml.retrain_gate", str(evidence))
