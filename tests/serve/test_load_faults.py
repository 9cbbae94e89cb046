"""Load with faults, the short run: 4 clients, two model swaps and a corrupt bundle mid-run.

The same scenario and checks as ``bench/bench_load.py`` (which runs it for 30 s): zero failed
requests, every reply naming the model that produced it (checked against the swap timeline and
against that model's own probabilities), the corrupt bundle refused with a clear log line.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from tests.support.loadgen import (
    LoadRun,
    Reply,
    Swap,
    SwapResult,
    check_run,
    corrupt_bundle,
    expected_probabilities,
    json_leads,
    run_load,
    standard_swaps,
    variant_bundle,
)

#: Long enough for three reloads in turn: each proves its candidate in a child process first.
DURATION_S = 12.0
KEY = "load-test-key-1"
ADMIN_KEY = "load-test-admin-1"


@dataclass(frozen=True)
class Scenario:
    first: Path
    second: Path
    broken: Path
    third: Path
    models: tuple[LeadModel, ...]


@pytest.fixture(scope="module")
def scenario(
    bundle: Path, leads: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> Scenario:
    """The served model, two refreshes of it on other leads, and a corrupt copy."""
    root = tmp_path_factory.mktemp("load-bundles")
    first = LeadModel.load(bundle)
    fresh = leads.sample(6000, random_state=5)
    second = variant_bundle(bundle, root / "second", fresh[:3000], f"{first.version}-r1")
    third = variant_bundle(bundle, root / "third", fresh[3000:], f"{first.version}-r2")
    broken = corrupt_bundle(bundle, root / "broken")
    return Scenario(bundle, root / "second", broken, root / "third", (first, second, third))


def test_four_clients_through_two_swaps_and_a_corrupt_bundle(
    start_server, scenario: Scenario, new_leads: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="serve.model")
    server = start_server(
        scenario.first,
        api_keys=KEY,
        admin_keys=f"ops:{ADMIN_KEY}",
        models_root=scenario.second.parent,
    )
    pool = json_leads(new_leads.head(300))
    expected = expected_probabilities(scenario.models, pool)
    versions = [m.version for m in scenario.models]
    assert len(set(versions)) == 3
    assert all(expected[a] != expected[b] for a in versions for b in versions if a != b)

    swaps = standard_swaps(str(scenario.second), str(scenario.broken), str(scenario.third))
    load = run_load(
        server.url,
        pool,
        clients=4,
        duration=DURATION_S,
        swaps=swaps,
        headers={"Authorization": f"Bearer {KEY}"},
        admin_headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    # In a thread of its own: the session's browser (Playwright's sync API) keeps an event loop
    # running on the main thread once a page test has run, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as pool_thread:
        run = pool_thread.submit(asyncio.run, load).result()
    summary = run.summary()
    print("\nload with faults:", summary)

    assert check_run(run, expected) == []
    assert summary["errors"] == 0 and summary["clients"] == 4
    assert (summary["swaps_ok"], summary["swaps_refused"]) == (2, 1)
    assert [s.body.get("model_version") for s in run.swaps] == [versions[1], None, versions[2]]
    served = pd.Series([r.version for r in run.replies]).value_counts()
    assert set(served.index) == set(versions) and served.min() >= 5, served.to_dict()

    refusals = [r for r in caplog.records if r.name == "serve.model" and "refused" in r.message]
    assert len(refusals) == 1, [r.message for r in caplog.records]
    line = refusals[0].getMessage()
    assert str(scenario.broken) in line and "corrupt bundle" in line
    assert f"still serving {versions[1]}" in line
    assert "Traceback" not in caplog.text


def test_the_checks_catch_each_broken_promise() -> None:
    """The checker itself: a reply from a retired model, another model's numbers, a failure."""
    expected = {"v1": [0.1, 0.2], "v2": [0.3, 0.4]}
    run = LoadRun(initial_version="v1", duration=3.0)
    run.swaps.append(SwapResult(Swap(0.5, "b2", True), 1.0, 1.2, 200, {"model_version": "v2"}))
    run.swaps.append(
        SwapResult(Swap(0.8, "bad", False), 2.0, 2.1, 422, {"detail": "x", "serving": "v2"})
    )

    def reply(start: float, end: float, version: str, p: float, status: int = 200) -> Reply:
        return Reply(0, start, end, status, version, frozenset({version}), (p,), (0,))

    good = [reply(0.1, 0.2, "v1", 0.1), reply(1.1, 1.3, "v1", 0.1), reply(1.1, 1.3, "v2", 0.3)]
    run.replies.extend([*good, reply(1.5, 1.6, "v2", 0.3)])
    assert check_run(run, expected) == []
    run.replies.append(reply(1.5, 1.6, "v1", 0.1))  # the old model after the swap ended
    run.replies.append(reply(2.5, 2.6, "v2", 0.1))  # named v2, numbers of v1
    run.replies.append(reply(2.7, 2.8, "v2", 0.3, status=503))
    problems = check_run(run, expected)
    assert len(problems) == 3, problems
    assert "only ['v2'] were in service" in problems[1] and "another model's" in problems[2]
    run.swaps[1] = SwapResult(Swap(0.8, "bad", False), 2.0, 2.1, 200, {"model_version": "v3"})
    assert any("not refused cleanly" in p for p in check_run(run, expected))
