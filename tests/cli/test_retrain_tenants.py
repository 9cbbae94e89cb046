"""One CRM cannot poison another's model (issue 27, finding 1), over real HTTP.

A real server with two tenant keys: tenant ``a`` scores 3,000 of its leads and posts the true
outcomes of the 1,500 that closed; tenant ``b`` scores ``a``'s other 1,500 sequential ids with
made-up fields and posts the opposite of their true outcomes. Before, a default ``leadml
retrain`` on ``a``'s export (no target column) labelled all 3,000 leads from every tenant's
outcomes by id, 1,500 of them with ``b``'s answers, and judged the gate on them. Now every verb
that reads the history reads one tenant unless the operator pools them outright: without a
choice retrain, monitor and thresholds stop with one line and change nothing, and ``--tenant a``
labels exactly ``a``'s 1,500 outcomes, none of ``b``'s.

The tests run in file order and share one project (one champion trained, one retrain).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from leadml.data.synthetic import generate_leads
from leadml.history.labels import label_from_store, stored_outcomes
from leadml.history.tenants import tenants_at
from tests.support.cli import cli as run_cli
from tests.support.paths import SCHEMA
from tests.support.servers import LiveServer, lead_payloads, serve_settings

NAME = "synthetic-crm"
CHAMPION = f"models:/{NAME}@champion"
KEY_A, KEY_B = "tenant-a-key-0123456789abcdef", "tenant-b-key-0123456789abcdef"
LEADS, CLOSED = 3_000, 1_500


def cli(home: Path, *args: str) -> Any:
    env = {
        "LEADML_HISTORY_URL": f"sqlite:///{home / 'history.db'}",
        # small trainings: the labels are the point here, not the intervals
        "LEADML_BOOTSTRAP": "10",
        "LEADML_BACKTEST_FOLDS": "2",
        "LEADML_RECENCY": "none",
        "COLUMNS": "400",
    }
    return run_cli(home, *args, **env)


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if not line.startswith("Project home")]


def registry(home: Path) -> tuple[str, list[str]]:
    """The champion's version and every version registered."""
    uri = f"sqlite:///{home / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = sorted(v.version for v in client.search_model_versions(f"name='{NAME}'"))
    return str(client.get_model_version_by_alias(NAME, "champion").version), versions


def post(client: httpx.Client, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A champion, a server with keys for tenants a and b, and the poisoning done over HTTP."""
    home = tmp_path_factory.mktemp("tenant-poisoning")
    generate_leads(3_000, seed=5).to_csv(home / "train.csv", index=False)
    done = cli(home, "train", "--data", str(home / "train.csv"), "--schema", SCHEMA)
    assert done.exit_code == 0, done.output
    truth = generate_leads(LEADS, seed=6)  # tenant a's leads: ids L0000001 … L0003000
    truth.drop(columns=["converted"]).to_csv(home / "a-export.csv", index=False)
    settings = serve_settings(
        home,
        CHAMPION,
        api_keys=f"a:{KEY_A},b:{KEY_B}",
        mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
        history_url=f"sqlite:///{home / 'history.db'}",
    )
    server = LiveServer(settings).start()
    closed, open_ = truth.iloc[:CLOSED], truth.iloc[CLOSED:]
    with server.client() as client:
        payloads = lead_payloads(truth.drop(columns=["converted"]))
        for i in range(0, LEADS, 500):
            post(client, "/v1/score?explain=false", KEY_A, {"leads": payloads[i : i + 500]})
        # b scores a's still-open ids with fields it made up: its key makes them b's leads
        made_up = [{"lead_id": i, "employees": 7, "site_visits": 1} for i in open_["lead_id"]]
        for i in range(0, len(made_up), 500):
            post(client, "/v1/score?explain=false", KEY_B, {"leads": made_up[i : i + 500]})
        assert server.history.flush(30)
        true_ = [
            {"lead_id": i, "converted": bool(c)}
            for i, c in zip(closed["lead_id"], closed["converted"], strict=True)
        ]
        opposite = [
            {"lead_id": i, "converted": not c}
            for i, c in zip(open_["lead_id"], open_["converted"], strict=True)
        ]
        assert post(client, "/v1/outcomes", KEY_A, {"outcomes": true_})["recorded"] == CLOSED
        assert post(client, "/v1/outcomes", KEY_B, {"outcomes": opposite})["recorded"] == CLOSED
    server.stop()
    yield {"home": home, "truth": truth, "b_ids": set(open_["lead_id"])}


def test_retrain_without_a_tenant_choice_stops_and_changes_nothing(project) -> None:
    home = project["home"]
    before = registry(home)
    done = cli(home, "retrain", "--data", str(home / "a-export.csv"), "--promote")
    assert done.exit_code == 2, done.output
    lines = error_lines(done.output)
    assert len(lines) == 1, lines
    assert "the score history holds the leads of 2 tenants (a, b)" in lines[0]
    assert "--tenant NAME (one), --tenants A,B (pooled) or --all-tenants (pooled)" in lines[0]
    assert registry(home) == before  # no challenger registered, the champion alias unmoved


def test_retrain_for_tenant_a_learns_a_s_outcomes_and_never_b_s(project) -> None:
    home, truth = project["home"], project["truth"]
    before_champion, before_versions = registry(home)
    done = cli(home, "retrain", "--data", str(home / "a-export.csv"), "--tenant", "a")
    assert done.exit_code in (0, 3), done.output  # passed the gate or kept: judged, not failed
    assert (
        f"{CLOSED:,} of {LEADS:,} leads labelled from the outcomes of tenant a; "
        f"{LEADS - CLOSED:,} without an outcome yet are left out"
    ) in done.output
    champion, versions = registry(home)
    assert champion == before_champion  # no --promote: the alias stays
    assert len(versions) == len(before_versions) + 1  # the challenger, registered beside it
    # The labelled frame the challenger learned from, read as retrain reads it.
    url = f"sqlite:///{home / 'history.db'}"
    export = pd.read_csv(home / "a-export.csv")
    labelled, _ = label_from_store(
        export, "lead_id", "converted", stored_outcomes(url, tenants_at(url, "a", why="test"))
    )
    from_b = labelled["lead_id"].isin(project["b_ids"])
    assert int(from_b.sum()) == 0
    expected = truth.set_index("lead_id").loc[labelled["lead_id"], "converted"]
    assert len(labelled) == CLOSED
    assert labelled["converted"].tolist() == expected.astype(int).tolist()


def test_pooling_is_explicit_says_whose_and_refuses_ids_the_tenants_disagree_on(project) -> None:
    """Pooled on purpose, the note counts each tenant's labels; an id with opposite outcomes
    under two pooled tenants stops the retrain, naming it (whose lead it is cannot be told)."""
    home = project["home"]
    url = f"sqlite:///{home / 'history.db'}"
    export = pd.read_csv(home / "a-export.csv")
    pooled = tenants_at(url, tenants="a,b", why="test")
    labelled, note = label_from_store(
        export, "lead_id", "converted", stored_outcomes(url, pooled), pooled.describe()
    )
    assert len(labelled) == LEADS
    assert "from the outcomes of tenants a, b (pooled) (1,500 of a's, 1,500 of b's)" in note
    # b now answers for one of a's closed leads too, the opposite of a
    first = project["truth"].iloc[0]
    settings = serve_settings(
        home,
        CHAMPION,
        api_keys=f"b:{KEY_B}",
        mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
        history_url=url,
    )
    server = LiveServer(settings).start()
    try:
        with server.client() as client:
            post(client, "/v1/score?explain=false", KEY_B, {"leads": [{"lead_id": first.lead_id}]})
            assert server.history.flush(30)
            flipped = {"lead_id": first.lead_id, "converted": not first.converted}
            assert post(client, "/v1/outcomes", KEY_B, {"outcomes": [flipped]})["recorded"] == 1
    finally:
        server.stop()
    before = registry(home)
    for choice in (("--tenants", "a,b"), ("--all-tenants",)):
        done = cli(home, "retrain", "--data", str(home / "a-export.csv"), *choice)
        assert done.exit_code == 2, done.output
        lines = error_lines(done.output)
        assert len(lines) == 1, lines
        assert f"lead id '{first.lead_id}' has opposite outcomes under tenants a, b" in lines[0]
    assert registry(home) == before


def test_monitor_and_thresholds_refuse_to_pool_silently(project) -> None:
    home = project["home"]
    for verb in (("monitor",), ("thresholds", "--capacity", "50")):
        done = cli(home, *verb, "--model", CHAMPION, "--since", "1d")
        assert done.exit_code == 2, done.output
        lines = error_lines(done.output)
        assert len(lines) == 1 and "leads of 2 tenants (a, b)" in lines[0], lines
    monitor = cli(home, "monitor", "--model", CHAMPION, "--since", "1d", "--tenant", "a", "--json")
    assert monitor.exit_code == 0, monitor.output
    result = json.loads(monitor.output[monitor.output.index("{") :])
    assert result["labelled"] == CLOSED  # a's own outcomes only, none of b's
    plan = cli(home, "thresholds", "--model", CHAMPION, "--capacity", "50", "--since", "1d",
               "--tenant", "a", "--json")  # fmt: skip
    assert plan.exit_code == 0, plan.output
    result = json.loads(plan.stdout)
    assert result["plan"]["leads"] == LEADS and re.search(r"\(tenant a\)", result["source"])
