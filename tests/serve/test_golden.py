"""Answers identical to the recorded ones: speed-ups must not change a single field.

``data/golden/`` holds a bundle and the answers a real server gave for 35 fixed leads (30
synthetic, 5 odd ones: placeholders, unknown answers, an integer id, a blank id, no id),
recorded by ``record_golden.py`` before the latency work. Every field must match: text, bools
and integers exactly, floats to 1e-12, the same keys in the same order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
TOLERANCE = 1e-12


def differences(got: Any, want: Any, where: str = "") -> list[str]:
    """Every place ``got`` differs from ``want`` (an empty list: identical)."""
    if type(got) is not type(want):
        return [f"{where or 'body'}: {type(got).__name__} {got!r}, recorded {want!r}"]
    if isinstance(want, dict):
        if list(got) != list(want):
            return [f"{where or 'body'}: keys {list(got)}, recorded {list(want)}"]
        return [d for k in want for d in differences(got[k], want[k], f"{where}.{k}")]
    if isinstance(want, list):
        if len(got) != len(want):
            return [f"{where}: {len(got)} items, recorded {len(want)}"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in differences(g, w, f"{where}[{i}]")
        ]
    if isinstance(want, float):
        if not (math.isclose(got, want, rel_tol=0, abs_tol=TOLERANCE)):
            return [f"{where}: {got!r}, recorded {want!r} (off by {abs(got - want):.3g})"]
        return []
    return [] if got == want else [f"{where}: {got!r}, recorded {want!r}"]


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads((GOLDEN / "responses.json").read_text())


def test_the_comparison_sees_a_change() -> None:
    recorded = {"scores": [{"probability": 0.25, "grade": "B", "reasons": [], "met": None}]}
    same = json.loads(json.dumps(recorded))
    assert differences(same, recorded) == []
    nudged = json.loads(json.dumps(recorded))
    nudged["scores"][0]["probability"] += 1e-11
    assert differences(nudged, recorded) == [
        ".scores[0].probability: 0.25000000001, recorded 0.25 (off by 1e-11)"
    ]
    for change in ({"grade": "A"}, {"met": False}, {"reasons": ["x"]}, {"probability": 1}):
        other = json.loads(json.dumps(recorded))
        other["scores"][0].update(change)
        assert differences(other, recorded), change
    reordered = {"scores": [{k: recorded["scores"][0][k] for k in reversed(recorded["scores"][0])}]}
    assert differences(reordered, recorded)


def test_every_answer_is_the_recorded_one(start_server: Callable, golden: dict[str, Any]) -> None:
    server = start_server(GOLDEN / "model", history_url="none")
    leads = golden["leads"]
    problems: list[str] = []
    with server.client() as http:
        for i, lead in enumerate(leads):
            for key, path in (
                ("single", "/v1/score"),
                ("single_numbers", "/v1/score?explain=false"),
            ):
                got = http.post(path, json={"leads": [lead]})
                assert got.status_code == 200, got.text
                problems += differences(got.json(), golden[key][i], f"{key}[{i}]")
            got = http.post("/v1/explain", json=lead)
            assert got.status_code == 200, got.text
            problems += differences(got.json(), golden["explain"][i], f"explain[{i}]")
        for key, path in (("batch", "/v1/score"), ("batch_numbers", "/v1/score?explain=false")):
            got = http.post(path, json={"leads": leads})
            assert got.status_code == 200, got.text
            problems += differences(got.json(), golden[key], key)
    assert not problems, f"{len(problems)} fields differ:\n" + "\n".join(problems[:20])


def test_answers_with_the_history_on_are_the_recorded_ones(
    start_server: Callable, golden: dict[str, Any]
) -> None:
    """The default server keeps a history; a lead scored for the first time has no trend."""
    server = start_server(GOLDEN / "model")
    problems: list[str] = []
    with server.client() as http:
        for i, lead in enumerate(golden["leads"]):
            got = http.post("/v1/score", json={"leads": [lead]})
            assert got.status_code == 200, got.text
            problems += differences(got.json(), golden["single"][i], f"single[{i}]")
    assert not problems, f"{len(problems)} fields differ:\n" + "\n".join(problems[:20])
