"""The after-deployment rules as library calls: what a retrain decides, what converted means,
and what a gate keeps as evidence. No training: the rules alone."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from leadml.data.target import CONVERTED, NOT_CONVERTED, OPEN, outcome_codes
from leadml.history.outcomes import Outcome
from leadml.lifecycle.outcome_table import (
    HISTORY_POSITIVE,
    history_labelled,
    outcome_of,
    posted_outcome,
    table_outcomes,
)
from leadml.lifecycle.retrain import Challenger, Decision, decide
from leadml.modeling.promotion import GateResult
from leadml.schema import bundled_schema

FIGURES = {"roc_auc": 0.73, "ece": 0.02, "log_loss": 0.45, "brier": 0.14}


def challenger(version: str, reasons: list[str] | None = None) -> Challenger:
    gate = GateResult(1000, FIGURES, FIGURES, reasons or [], period="Nov 2026")
    return Challenger(SimpleNamespace(version=version), gate)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("version", "old", "reasons", "promote", "decision"),
    [
        ("2", "1", [], True, Decision.PROMOTED),
        ("2", "1", [], False, Decision.PASSED),
        ("2", "1", ["worse"], True, Decision.KEPT),
        ("1", None, [], False, Decision.FIRST),
        ("2", "2", [], False, Decision.FIRST),  # the registry crowned it on its own
        ("1", None, ["loses to its baselines"], True, Decision.REFUSED),
    ],
)
def test_a_retrain_decides_from_the_gate_and_the_champion(
    version: str, old: str | None, reasons: list[str], promote: bool, decision: Decision
) -> None:
    assert decide(challenger(version, reasons), old, promote) is decision


def test_the_retrain_exit_codes_are_those_cron_reads() -> None:
    from leadml.cli.retrain import EXIT_CODES

    assert {d: EXIT_CODES[d] for d in Decision} == {
        Decision.PROMOTED: 0,
        Decision.PASSED: 0,
        Decision.FIRST: 0,
        Decision.KEPT: 3,
        Decision.REFUSED: 3,
    }


def test_one_rule_says_what_converted_is() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    assert outcome_of("a", CONVERTED, at) == Outcome("a", True, at)
    assert outcome_of("a", NOT_CONVERTED) == Outcome("a", False, None)
    assert outcome_of("a", OPEN) is None  # no outcome yet: nothing recorded
    with pytest.raises(ValueError, match="no outcome code"):
        outcome_of("a", 7)
    # the API's JSON true/false read as the same codes
    assert posted_outcome("a", True, at) == outcome_of("a", CONVERTED, at)
    assert posted_outcome("a", False) == outcome_of("a", NOT_CONVERTED)
    # leads labelled from stored outcomes hold those codes; the schema reads them so
    schema = history_labelled(bundled_schema().model_copy(update={"positive": "won"}))
    assert schema.positive == HISTORY_POSITIVE
    labels = pd.Series([int(True), int(False)], name=schema.target)  # as history.labels writes
    assert outcome_codes(labels, schema).tolist() == [CONVERTED, NOT_CONVERTED]


def test_an_export_is_read_with_the_same_rule() -> None:
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "status": ["Closed Won", "lost", "Working", "won"]})
    found = table_outcomes(frame, "id", "status", None, None)
    assert found == [Outcome("1", True), Outcome("2", False), Outcome("4", True)]


def evidence(gate: GateResult) -> dict[str, Any]:
    return gate.evidence()


def test_one_gate_type_keeps_each_verbs_evidence() -> None:
    promote = GateResult(4000, FIGURES, FIGURES)
    assert list(evidence(promote)) == ["challenger", "champion", "rows", "tolerances"]
    assert promote.judged_on == "4,000 held-out leads" and promote.passed
    assert promote.refusal("1").endswith("champion stays v1")
    retrain = GateResult(1000, FIGURES, None, ["worse"], period="Nov 2026", champion_saw=12)
    assert evidence(retrain) == {
        "judged_on": "the newest 1,000 leads (Nov 2026)",
        "rows": 1000,
        "challenger": FIGURES,
        "champion": None,
        "champion_learned_from": 12,
        "tolerances": {"roc_auc": -0.005, "ece": 0.01},
        "passed": False,
        "reasons": ["worse"],
    }
