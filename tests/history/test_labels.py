"""Posted outcomes as labels for retraining: by lead id within the chosen tenants, leads without
one left out; which tenants are read is one rule (``history.tenants``): one tenant unless the
operator pools them, and pooled tenants that disagree about an id are refused, not guessed."""

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
from leadml.history.tenants import Tenants, choose_tenants, tenants_at

NOW = datetime.now(UTC)
WHY = "one CRM's outcomes label its own leads"


@pytest.fixture()
def url(db_url: str) -> str:
    """Three tenants on SQLite and on PostgreSQL: crm-a and crm-b number their leads alike and
    disagree about L1; crm-c agrees with crm-a where they share an id."""
    url = db_url
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(
        [ScoreRecord(t, i, "v1", 0.5, 50, "B", NOW) for t, i in
         [("crm-a", "L1"), ("crm-a", "L2"), ("crm-a", "L3"), ("crm-b", "L1"), ("crm-b", "L2"),
          ("crm-c", "L3")]]
    )  # fmt: skip
    assert keeper.flush()
    keeper.close()
    engine = make_engine(url)
    record_outcomes(engine, "crm-a", [Outcome("L1", True), Outcome("L2", False)])
    record_outcomes(engine, "crm-b", [Outcome("L1", False)])  # disagrees with crm-a on L1
    record_outcomes(engine, "crm-c", [Outcome("L3", True)])
    engine.dispose()
    return url


def test_leads_are_labelled_by_id_and_those_without_an_outcome_left_out(url: str) -> None:
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "employees": [10, 20, 30]})
    chosen = tenants_at(url, "crm-a", why=WHY)
    labelled, note = label_from_store(
        leads, "lead_id", "converted", stored_outcomes(url, chosen), chosen.describe()
    )
    assert labelled["lead_id"].tolist() == ["L1", "L2"]
    assert labelled["converted"].tolist() == [1, 0]
    assert note == (
        "2 of 3 leads labelled from the outcomes of tenant crm-a; 1 without an outcome yet are "
        "left out"
    )


def test_without_a_choice_several_tenants_are_a_one_line_error(url: str) -> None:
    with pytest.raises(LeadMLError) as error:
        tenants_at(url, why=WHY)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        "the score history holds the leads of 3 tenants (crm-a, crm-b, crm-c)"
    )
    assert "--tenant NAME (one), --tenants A,B (pooled) or --all-tenants (pooled)" in message
    assert message.endswith(WHY)


def test_pooled_tenants_that_disagree_about_an_id_are_refused_naming_it(url: str) -> None:
    with pytest.raises(LeadMLError, match="lead id 'L1' has opposite outcomes under tenants "
                       "crm-a, crm-b: whose lead it is cannot be told"):  # fmt: skip
        stored_outcomes(url, tenants_at(url, tenants="crm-a,crm-b", why=WHY))
    with pytest.raises(LeadMLError, match="lead id 'L1' has opposite outcomes"):
        stored_outcomes(url, tenants_at(url, all_tenants=True, why=WHY))
    assert stored_outcomes(url, tenants_at(url, "crm-b", why=WHY))["converted"].tolist() == [0]


def test_pooled_tenants_that_agree_label_and_the_note_says_whose(url: str) -> None:
    chosen = tenants_at(url, tenants="crm-a, crm-c", why=WHY)
    assert chosen == Tenants(("crm-a", "crm-c"), pooled=True)
    leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"]})
    labelled, note = label_from_store(
        leads, "lead_id", "converted", stored_outcomes(url, chosen), chosen.describe()
    )
    assert labelled["converted"].tolist() == [1, 0, 1]
    assert note == (
        "3 of 4 leads labelled from the outcomes of tenants crm-a, crm-c (pooled) (2 of crm-a's, "
        "1 of crm-c's); 1 without an outcome yet are left out"
    )


def test_the_choice_rule(url: str) -> None:
    assert choose_tenants(["a"], why=WHY) == Tenants(("a",))  # the only tenant
    assert choose_tenants([], why=WHY) == Tenants(())  # an empty history: nothing to choose
    assert choose_tenants([], why=WHY, write=True) == Tenants(("default",))
    assert choose_tenants(["a", "b"], all_tenants=True, why=WHY).describe() == (
        "every tenant (a, b; pooled)"
    )
    assert choose_tenants(["a", "b"], tenants="b", why=WHY) == Tenants(("b",))
    with pytest.raises(LeadMLError, match="name one with --tenant NAME; why"):
        choose_tenants(["a", "b"], why="why", write=True)
    with pytest.raises(LeadMLError, match=r"tenant 'c' has no scores or outcomes .* holds a, b"):
        choose_tenants(["a", "b"], tenants="a,c", why=WHY)
    with pytest.raises(LeadMLError, match="--tenant and --all-tenants cannot go together"):
        choose_tenants(["a", "b"], "a", all_tenants=True, why=WHY)
    with pytest.raises(LeadMLError, match="--tenants needs names"):
        choose_tenants(["a", "b"], tenants=" , ", why=WHY)


def test_no_history_and_no_outcome_at_all_are_one_line_errors(url: str, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'missing.db'}"
    with pytest.raises(LeadMLError, match="no score history at"):
        stored_outcomes(missing, tenants_at(missing, why=WHY))
    assert not (tmp_path / "missing.db").exists()  # asking whose created nothing
    leads = pd.DataFrame({"lead_id": ["Z9"]})
    chosen = tenants_at(url, "crm-a", why=WHY)
    with pytest.raises(LeadMLError, match="none of the 1 leads has an outcome of tenant crm-a"):
        label_from_store(
            leads, "lead_id", "converted", stored_outcomes(url, chosen), "tenant crm-a"
        )
