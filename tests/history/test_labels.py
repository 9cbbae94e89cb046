"""Posted outcomes as labels for retraining: by lead id, leads without one left out, one
tenant's or every tenant's (an id under two tenants is refused, not guessed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from leadml.errors import LeadMLError
from leadml.history.engine import make_engine
from leadml.history.labels import label_from_store, stored_outcomes
from leadml.history.outcomes import Outcome, record_outcomes
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory

NOW = datetime.now(UTC)


@pytest.fixture()
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(
        [ScoreRecord(t, i, "v1", 0.5, 50, "B", NOW) for t, i in
         [("crm-a", "L1"), ("crm-a", "L2"), ("crm-a", "L3"), ("crm-b", "L1")]]
    )  # fmt: skip
    assert keeper.flush()
    keeper.close()
    engine = make_engine(url)
    record_outcomes(engine, "crm-a", [Outcome("L1", True), Outcome("L2", False)])
    record_outcomes(engine, "crm-b", [Outcome("L1", False)])
    engine.dispose()
    return url


def test_leads_are_labelled_by_id_and_those_without_an_outcome_left_out(url: str) -> None:
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "employees": [10, 20, 30]})
    labelled, note = label_from_store(leads, "lead_id", "converted", stored_outcomes(url, "crm-a"))
    assert labelled["lead_id"].tolist() == ["L1", "L2"]
    assert labelled["converted"].tolist() == [1, 0]
    assert "2 of 3 leads labelled" in note and "1 without an outcome yet" in note


def test_an_id_under_two_tenants_must_name_the_tenant(url: str) -> None:
    with pytest.raises(LeadMLError, match="several tenants: say which with --tenant"):
        stored_outcomes(url)
    assert stored_outcomes(url, "crm-b")["converted"].tolist() == [0]


def test_no_history_and_no_outcome_at_all_are_one_line_errors(url: str, tmp_path: Path) -> None:
    with pytest.raises(LeadMLError, match="no score history at"):
        stored_outcomes(f"sqlite:///{tmp_path / 'missing.db'}")
    leads = pd.DataFrame({"lead_id": ["Z9"]})
    with pytest.raises(LeadMLError, match="none of the 1 leads has an outcome"):
        label_from_store(leads, "lead_id", "converted", stored_outcomes(url, "crm-a"))
