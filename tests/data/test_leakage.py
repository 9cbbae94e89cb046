"""The leakage guard: each kind of evidence, --allow, and what it must never flag."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from leadml.bundle.model import LeadModel
from leadml.cli import app
from leadml.data.leakage import LeakageAudit, audit_leakage, single_column_auc
from leadml.data.outcomes import attach_outcomes
from leadml.data.read import read_table
from leadml.data.suggest import suggest_schema
from leadml.data.validate import Validated, validate
from leadml.errors import DataError, SchemaError
from leadml.features.encoder import FeatureEncoder
from leadml.schema import LeadSchema
from leadml.schema.spec import FeatureSpec

N = 2000


def honest_frame(seed: int = 0) -> pd.DataFrame:
    """Leads whose conversion depends on visits and industry: nothing here leaks."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, N)
    industry = rng.choice(["Retail", "Software", "Banking", "Health"], N)
    logit = -2 + 0.35 * visits + (industry == "Software") * 0.8
    converted = (rng.random(N) < 1 / (1 + np.exp(-logit))).astype(int)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 400, N)), "D")
    return pd.DataFrame(
        {
            "created_at": created.strftime("%Y-%m-%d"),
            "visits": visits,
            "industry": industry,
            "account_ref": rng.choice([f"A{i}" for i in range(600)], N),  # many random levels
            "poutcome": rng.choice(["success", "failure", "unknown"], N),  # not "outcome"
            "converted": converted,
        }
    )


def run_audit(checked: Validated, **kwargs) -> LeakageAudit:
    """The audit as training runs it on its training rows (here: every row), with the matrix
    of an encoder fitted on them."""
    encoder = FeatureEncoder.fit(checked.schema, checked.frame)
    matrix = encoder.transform(checked.frame)
    return audit_leakage(
        checked.frame, matrix, checked.y, checked.schema, converted=checked.converted, **kwargs
    )


def audit(frame: pd.DataFrame, **kwargs):
    schema = suggest_schema(frame, "converted").schema
    checked = validate(frame, schema)
    return run_audit(checked, **kwargs), checked.schema


def test_honest_columns_are_not_flagged() -> None:
    found, schema = audit(honest_frame())
    assert found.flagged == {} and found.dropped == [] and found.warnings == []
    # 600 random levels cannot fake a signal: the AUC is measured out of fold.
    assert found.single_column_auc["account_ref"] < 0.6
    assert set(found.single_column_auc) == set(schema.feature_names)


def test_the_synthetic_crm_history_is_clean(leads: pd.DataFrame, schema: LeadSchema) -> None:
    checked = validate(leads, schema)
    found = run_audit(checked)
    assert found.flagged == {}


@pytest.mark.parametrize(
    "name", ["call_duration", "lead_status", "Etapa", "dealStage", "Tags", "closed", "Resultado"]
)
def test_outcome_names_are_flagged_in_several_languages(name: str) -> None:
    frame = honest_frame().assign(**{name: np.random.default_rng(1).normal(size=N)})
    found, _ = audit(frame)
    assert list(found.flagged) == [name]
    assert "its name means an outcome" in found.flagged[name][0]
    assert found.dropped == [name]
    assert f"--allow {name}" in found.warnings[0] and "LEAKAGE" in found.warnings[0]


def test_a_column_that_alone_separates_the_classes() -> None:
    frame = honest_frame()
    rng = np.random.default_rng(2)
    # (not named after a rep: a staff column is left out before the audit)
    frame["fit_score"] = frame["converted"] * 3 + rng.normal(size=N)  # AUC ~0.98
    frame["call_note"] = np.where(frame["converted"] == 1, "call back", "no answer")
    found, _ = audit(frame)
    assert set(found.flagged) == {"fit_score", "call_note"}
    assert any(
        "alone it separates the classes: ROC AUC 0.9" in e for e in found.flagged["fit_score"]
    )
    assert found.single_column_auc["call_note"] == 1.0


def test_a_column_filled_for_one_class_only() -> None:
    frame = honest_frame()
    rng = np.random.default_rng(3)
    won = frame["converted"] == 1
    # Random values, so only *whether* it is filled gives the outcome away.
    frame["contract_pages"] = np.where(won & (rng.random(N) < 0.3), rng.integers(1, 9, N), np.nan)
    frame["survey"] = np.where(rng.random(N) < np.where(won, 0.6, 0.04), "done", None)
    frame["newsletter"] = np.where(rng.random(N) < np.where(won, 0.5, 0.45), "yes", None)
    found, _ = audit(frame)
    assert set(found.flagged) == {"contract_pages", "survey"}
    assert found.flagged["contract_pages"][0].endswith("of converted leads but 0% of the others")
    assert re.fullmatch(
        r"filled for 5\d% of converted leads but [345]% of the others", found.flagged["survey"][0]
    )


def test_dates_after_the_lead_came_in() -> None:
    frame = honest_frame()
    created = pd.to_datetime(frame["created_at"])
    rng = np.random.default_rng(4)
    frame["followed_up"] = (created + pd.to_timedelta(rng.integers(1, 60, N), "D")).dt.strftime(
        "%Y-%m-%d"
    )
    frame["company_founded"] = (
        created - pd.to_timedelta(rng.integers(400, 9000, N), "D")
    ).dt.strftime("%Y-%m-%d")
    found, _ = audit(frame)
    assert list(found.flagged) == ["followed_up_age_days"]
    assert (
        "later than the lead's 'created_at' in 100% of rows"
        in found.flagged["followed_up_age_days"][-1]
    )
    assert "company_founded_age_days" in found.single_column_auc  # audited, not flagged


def test_dates_on_or_after_an_outcome_date() -> None:
    frame = honest_frame().drop(columns="created_at")
    rng = np.random.default_rng(5)
    won = pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 300, N), "D")
    frame["won_date"] = won.strftime("%Y-%m-%d")
    frame["invoice_sent"] = (won + pd.to_timedelta(rng.integers(0, 5, N), "D")).strftime("%Y-%m-%d")
    schema = LeadSchema.from_dict(
        {
            "target": "converted",
            "features": {
                "visits": {"kind": "numeric"},
                "invoice_sent_age": {"kind": "age_days", "source": "invoice_sent"},
            },
        }
    )
    checked = validate(frame, schema)
    found = run_audit(checked)
    assert "on or after 'won_date' in 100% of rows" in found.flagged["invoice_sent_age"][-1]


def test_a_sequential_lead_number_is_an_identifier_not_a_feature() -> None:
    frame = honest_frame()
    # a CRM's lead number: unique per lead, rising with time, no word of "id" in its name
    frame["counter"] = 579_533 + np.cumsum(np.random.default_rng(3).integers(1, 40, N))
    # a unique whole number in random order, named like one
    frame["Lead Number"] = np.random.default_rng(4).permutation(N) + 10_000
    # unique whole numbers that neither rise with time nor are named like numbers: kept
    frame["balance"] = np.random.default_rng(5).permutation(N) * 7
    suggested = suggest_schema(frame, "converted").schema
    # a hand-written schema that lists every column as a feature, as a user might
    features = [f for f in suggested.features if f.name not in ("counter", "Lead Number")]
    extra = [
        FeatureSpec(name="counter", kind="numeric"),
        FeatureSpec(name="Lead Number", kind="numeric"),
    ]
    schema = suggested.model_copy(
        update={"features": [*features, *extra], "id": None, "exclude": []}
    )
    found = run_audit(validate(frame, schema))
    assert set(found.dropped) == {"counter", "Lead Number"}
    assert found.flagged["counter"] == [
        "an identifier: a different whole number for every lead, rising with time (Spearman 1.00)"
    ]
    assert found.flagged["Lead Number"] == [
        "an identifier: a different whole number for every lead (2,000)"
    ]
    assert "balance" not in found.flagged


def test_sales_judgement_after_contact_is_flagged_with_evidence_and_allow_keeps_it() -> None:
    frame = honest_frame()
    rng = np.random.default_rng(6)
    # a rep's rating: not separating on its own, but set after contact
    frame["Lead Quality"] = rng.choice(["High in Relevance", "Might be", "Not Sure", "Worst"], N)
    levels = ["Email Opened", "SMS Sent", "Had a Phone Conversation", "Page Visited on Website"]
    frame["Last Activity"] = rng.choice(levels, N)
    frame["first_activity"] = rng.choice(levels, N)  # not a "last" field: kept
    found, _ = audit(frame)
    assert set(found.flagged) == {"Lead Quality", "Last Activity"}
    assert "sales' own judgement of the lead after contact (quality)" in " ".join(
        found.flagged["Lead Quality"]
    )
    last = " ".join(found.flagged["Last Activity"])
    assert "levels record contact already made (1 of 4 levels" in last
    assert "Phone" not in json.dumps(found.to_dict())  # counted, never quoted
    kept, _ = audit(frame, allow=["Lead Quality"])
    assert kept.dropped == ["Last Activity"] and kept.allowed == ["Lead Quality"]


def test_hints_paste_into_a_shell_and_name_the_column_as_the_file_spells_it() -> None:
    frame = honest_frame()
    created = pd.to_datetime(frame["created_at"])
    frame["Lead Status"] = np.random.default_rng(7).normal(size=N)
    frame["follow-up's date"] = (created + pd.to_timedelta(7, "D")).dt.strftime("%Y-%m-%d")
    found, schema = audit(frame)
    date_feature = next(f for f in schema.features if f.source == "follow-up's date")
    assert set(found.dropped) == {"Lead Status", date_feature.name}
    hints = {}
    for warning in found.warnings:
        assert warning.count("--allow") == 1
        command = shlex.split(warning.split("keep it with ")[1])
        assert command[0] == "--allow" and len(command) == 2, warning
        hints[command[1]] = warning
    assert set(hints) == {"Lead Status", "follow-up's date"}
    assert (
        f"'follow-up's date' (as '{date_feature.name}') was left out" in (hints["follow-up's date"])
    )
    kept, _ = audit(frame, allow=list(hints))  # what the hints offer is accepted, and keeps
    assert kept.dropped == [] and set(kept.allowed) == set(found.dropped)


def test_bank_marketing_keeps_the_previous_outcome_and_leaves_out_the_call_duration(
    shared_data: Path,
) -> None:
    """On the real bank export: ``duration`` (known after the call) is a leak; ``poutcome``
    (the previous campaign's outcome, answered for 36% of converted leads and 16% of the
    others) and the contact history are known before the call."""
    frame = read_table(shared_data / "bank-marketing" / "bank-full.csv")
    schema = suggest_schema(frame, "y", positive="yes").schema
    found = run_audit(validate(frame, schema))
    assert "duration" in found.dropped
    assert not {"poutcome", "pdays", "previous", "contact", "campaign"} & set(found.flagged)


def test_allow_keeps_a_flagged_column_and_says_so() -> None:
    frame = honest_frame().assign(lead_status=np.random.default_rng(6).normal(size=N))
    found, _ = audit(frame, allow=["lead_status"])
    assert found.dropped == [] and found.allowed == ["lead_status"]
    assert "kept because you allowed it" in found.warnings[0]
    with pytest.raises(SchemaError, match="--allow names 'lead_stat'"):
        audit(frame, allow=["lead_stat"])


def test_every_feature_flagged_is_an_error() -> None:
    frame = honest_frame()[["converted"]].assign(deal_stage=np.arange(N) % 5)
    with pytest.raises(DataError, match=r"every feature was flagged.*--allow"):
        audit(frame)


def test_the_audit_names_columns_never_values() -> None:
    frame = honest_frame().assign(lead_status=np.where(np.arange(N) % 2, "Zebra-Wombat", "Qx"))
    found, _ = audit(frame)
    text = json.dumps(found.to_dict()) + " ".join(found.warnings)
    assert "lead_status" in text
    assert "Zebra-Wombat" not in text and "Qx" not in text
    assert set(found.to_dict()) == {"flagged", "dropped", "allowed", "single_column_auc", "rules"}


def test_single_column_auc_directions_and_missing() -> None:
    y = np.array([0, 1] * 200)
    assert single_column_auc(-y.astype(float), "numeric", y) == 1.0  # either direction
    filled_when_won = np.where(y == 1, 5.0, np.nan)
    assert single_column_auc(filled_when_won, "numeric", y) == 1.0  # missingness counts
    assert single_column_auc(np.full(400, np.nan), "numeric", y) == 0.5


def test_olist_deal_columns_cannot_leak_even_when_merged_in(shared_data: Path) -> None:
    """Had a user joined the closed-deals table onto the leads, the guard catches every column."""
    folder = shared_data / "olist-marketing-funnel"
    leads = read_table(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = read_table(folder / "olist_closed_deals_dataset.csv")
    labelled, _ = attach_outcomes(leads, deals, "mql_id")
    merged = labelled.merge(deals, on="mql_id", how="left")
    schema = suggest_schema(merged, "converted").schema
    checked = validate(merged, schema)
    found = run_audit(checked)
    kept = {f.column for f in checked.schema.features if f.name not in found.dropped}
    assert kept <= {"origin", "landing_page_id", "first_contact_date"}
    deal_features = {
        f.name for f in checked.schema.features if f.column in set(deals.columns) - {"mql_id"}
    }
    assert len(deal_features) >= 9
    # The SDR and sales rep ids name who worked the lead: left out before the guard looks.
    assert {"sdr_id", "sr_id"} <= set(schema.exclude)
    assert deal_features <= set(found.dropped)
    assert all(any("filled for" in e for e in found.flagged[f]) for f in deal_features), (
        found.flagged
    )


def test_cli_allow_keeps_a_column_and_the_audit_reaches_mlflow(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADML_NUM_THREADS", "1")  # a shared 2-core box (NOTES.md)
    frame = honest_frame(7)
    frame["deal_stage"] = np.where(
        np.random.default_rng(8).random(N) < 0.7, frame["converted"], 1 - frame["converted"]
    )
    frame.to_csv(home / "leads.csv", index=False)
    done = CliRunner().invoke(
        app,
        ["train", "--data", "leads.csv", "--target", "converted", "--allow", "deal_stage"],
    )
    assert done.exit_code == 0, done.output
    assert "'deal_stage' is kept because you allowed it" in done.output
    model = LeadModel.load(home / "models" / "leads")  # named after leads.csv
    assert "deal_stage" in model.feature_names
    assert model.schema.leakage_allowed == ["deal_stage"]
    assert model.meta["leakage"]["allowed"] == ["deal_stage"]
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    run = client.search_runs([client.get_experiment_by_name("leads").experiment_id])[0]
    logged = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/leakage_audit.json")
    assert "deal_stage" in logged["flagged"]
    assert logged["allowed"] == ["deal_stage"]
