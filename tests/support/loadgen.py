"""Closed-loop load on loopback with model swaps in the middle: what CRMs see while models change.

``clients`` asyncio tasks, each with its own keep-alive connection (as separate CRM workers
would have), send ``POST /v1/score`` back to back until the time or request budget is spent;
a conductor task posts ``/v1/admin/reload`` at fixed points of the run. Every reply is kept
with its start and end times, so afterwards each answer's model version can be checked
against the swap timeline, and its probabilities against what that version computes offline.

Used by ``bench/bench_load.py`` (30 s) and ``tests/serve/test_load_faults.py`` (a few seconds):
the same scenario and the same checks, only the duration differs.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd

from leadml.bundle.files import MODEL_FILE
from leadml.bundle.model import LeadModel
from serve.settings import is_loopback

#: Leads per request, cycled: mostly single leads (a CRM form), now and then a page of them.
BATCH_SIZES = (1, 1, 1, 10)
#: A hard stop, whatever the duration: the generator must end by itself.
MAX_REQUESTS = 500_000
SETTLE_S = 30.0


@dataclass(frozen=True)
class Swap:
    """Reload ``ref`` at ``at`` (a fraction of the run); ``ok``: whether it should succeed."""

    at: float
    ref: str
    ok: bool


@dataclass(frozen=True)
class Reply:
    client: int
    started: float  # seconds since the run began
    ended: float
    status: int | None  # None: no HTTP answer at all (connection error, timeout)
    version: str | None
    versions_in_body: frozenset[str]
    probabilities: tuple[float, ...]
    leads: tuple[int, ...]  # indexes into the lead pool
    error: str | None = None

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass(frozen=True)
class SwapResult:
    swap: Swap
    started: float
    ended: float
    status: int
    body: dict[str, Any]


@dataclass
class LoadRun:
    initial_version: str
    duration: float
    replies: list[Reply] = field(default_factory=list)
    swaps: list[SwapResult] = field(default_factory=list)

    @property
    def failed(self) -> list[Reply]:
        return [r for r in self.replies if r.status != 200]

    def summary(self) -> dict[str, Any]:
        """Requests served, failures, latency percentiles and throughput."""
        ok = np.array([r.ms for r in self.replies if r.status == 200])
        p50, p99 = np.percentile(ok, [50, 99]) if ok.size else (math.nan, math.nan)
        return {
            "clients": len({r.client for r in self.replies}),
            "seconds": round(self.duration, 1),
            "requests": len(self.replies),
            "leads": sum(len(r.leads) for r in self.replies if r.status == 200),
            "errors": len(self.failed),
            "p50_ms": round(float(p50), 2),
            "p99_ms": round(float(p99), 2),
            "req_per_s": round(len(self.replies) / self.duration, 1) if self.duration else 0.0,
            "swaps_ok": sum(1 for s in self.swaps if s.status == 200),
            "swaps_refused": sum(1 for s in self.swaps if s.status != 200),
            "versions": len({r.version for r in self.replies if r.version}),
        }

    def versions_in_force(self) -> list[tuple[str, float, float]]:
        """(version, earliest start, latest end) of each model's possible time in service.

        A swap happens at some instant inside its request's window; a version may have been
        serving from the start of the swap that brought it to the end of the swap that ended it.
        """
        spans: list[tuple[str, float, float]] = []
        version, since = self.initial_version, -math.inf
        for s in self.swaps:
            if s.status != 200:
                continue
            spans.append((version, since, s.ended))
            version, since = s.body["model_version"], s.started
        spans.append((version, since, math.inf))
        return spans


def check_run(run: LoadRun, expected: Mapping[str, Sequence[float]]) -> list[str]:
    """Every way ``run`` broke the promise; empty when it held.

    The promise: no failed request; each reply names one model version, which was in service
    while the request was in flight and whose offline probabilities match the reply's; each
    swap did what its scenario said, and a refused swap left the previous model serving.
    """
    problems = [f"client {r.client}: {r.status} {r.error or ''}".strip() for r in run.failed]
    spans = run.versions_in_force()
    for r in run.replies:
        if r.status != 200:
            continue
        if r.versions_in_body != {r.version}:
            problems.append(f"one reply names several versions: {sorted(r.versions_in_body)}")
            continue
        possible = {v for v, since, until in spans if since <= r.ended and r.started < until}
        if r.version not in possible:
            problems.append(
                f"reply from {r.started:.3f}s to {r.ended:.3f}s names {r.version}, "
                f"but only {sorted(possible)} were in service"
            )
        want = expected.get(r.version or "")
        if want is None:
            problems.append(f"reply names unknown version {r.version}")
        elif any(abs(p - want[i]) > 1e-9 for p, i in zip(r.probabilities, r.leads, strict=True)):
            problems.append(f"reply named {r.version} but its probabilities are another model's")
    serving = run.initial_version
    for s in run.swaps:
        if s.swap.ok and s.status != 200:
            problems.append(f"swap to {s.swap.ref} failed: {s.status} {s.body}")
        elif not s.swap.ok and (s.status != 422 or s.body.get("serving") != serving):
            problems.append(f"bad swap to {s.swap.ref} not refused cleanly: {s.status} {s.body}")
        if s.status == 200:
            serving = s.body["model_version"]
    return problems


def check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname or ""
    if not is_loopback(host):
        raise ValueError(f"load is only generated against loopback, not {host!r}")


async def _client(
    index: int,
    base_url: str,
    pool: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str],
    clock: _Clock,
    replies: list[Reply],
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=dict(headers), limits=limits, timeout=10.0
    ) as client:
        n = 0
        while clock.running():
            size = BATCH_SIZES[n % len(BATCH_SIZES)]
            start = (index * 7919 + n * 11) % len(pool)
            picked = tuple((start + k) % len(pool) for k in range(size))
            explain = "true" if (n + index) % 2 == 0 else "false"
            body = {"leads": [pool[i] for i in picked]}
            began = clock.now()
            try:
                response = await client.post(f"/v1/score?explain={explain}", json=body)
            except httpx.HTTPError as exc:
                replies.append(
                    Reply(index, began, clock.now(), None, None, frozenset(), (), picked, repr(exc))
                )
                n += 1
                continue
            ended = clock.now()
            if response.status_code == 200:
                data = response.json()
                scores = data["scores"]
                replies.append(
                    Reply(
                        index,
                        began,
                        ended,
                        200,
                        data["model_version"],
                        frozenset({data["model_version"], *(s["model_version"] for s in scores)}),
                        tuple(s["probability"] for s in scores),
                        picked,
                    )
                )
            else:
                replies.append(
                    Reply(
                        index, began, ended, response.status_code, None, frozenset(), (), picked,
                        response.text[:300],
                    )
                )  # fmt: skip
            n += 1


async def _conductor(
    base_url: str,
    swaps: Sequence[Swap],
    headers: Mapping[str, str],
    clock: _Clock,
    results: list[SwapResult],
) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=dict(headers), timeout=60.0) as admin:
        for swap in sorted(swaps, key=lambda s: s.at):
            await asyncio.sleep(max(0.0, swap.at * clock.duration - clock.now()))
            began = clock.now()
            response = await admin.post("/v1/admin/reload", json={"model": swap.ref})
            results.append(
                SwapResult(swap, began, clock.now(), response.status_code, response.json())
            )


class _Clock:
    def __init__(self, duration: float, max_requests: int, replies: list[Reply]) -> None:
        self.duration = duration
        self.t0 = time.perf_counter()
        self._max = max_requests
        self._replies = replies

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def running(self) -> bool:
        return self.now() < self.duration and len(self._replies) < self._max


async def run_load(
    base_url: str,
    pool: Sequence[Mapping[str, Any]],
    *,
    clients: int = 4,
    duration: float = 30.0,
    swaps: Sequence[Swap] = (),
    headers: Mapping[str, str] | None = None,
    admin_headers: Mapping[str, str] | None = None,
    max_requests: int = MAX_REQUESTS,
) -> LoadRun:
    """Run the scenario against the server at ``base_url`` (loopback only); the swaps are sent
    with ``admin_headers`` (an admin key: only those may reload), default ``headers``."""
    check_loopback(base_url)
    headers = headers or {}
    async with httpx.AsyncClient(base_url=base_url, headers=dict(headers), timeout=10) as probe:
        initial = (await probe.get("/v1/model")).json()["model_version"]
    run = LoadRun(initial_version=initial, duration=duration)
    clock = _Clock(duration, max_requests, run.replies)
    tasks = [_client(i, base_url, pool, headers, clock, run.replies) for i in range(clients)]
    tasks.append(_conductor(base_url, swaps, admin_headers or headers, clock, run.swaps))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + SETTLE_S)
    run.duration = clock.now()
    return run


# -- the scenario's models ------------------------------------------------------------------------
def json_leads(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Leads as a CRM sends them: missing cells left out, plain Python values."""
    return [
        {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        for row in frame.to_dict(orient="records")
    ]


def variant_bundle(source: Path, target: Path, leads: pd.DataFrame, version: str) -> LeadModel:
    """A valid, different model: the source's trees refitted on other leads (LightGBM ``refit``).

    What a refresh on new data produces: the same trees with new leaf values, so the same inputs
    and the same cost per request as the source, but other probabilities and another version,
    so a reply's model can be told from its numbers. ``leads`` carry the schema's outcome.
    """
    model = LeadModel.load(source)
    outcome = leads[model.schema.target].astype(str).str.lower() == model.schema.positive.lower()
    x = model.matrix(leads)
    model.booster = model.booster.refit(x, outcome.to_numpy(dtype=np.int32), decay_rate=0.5)
    model.meta = {**model.meta, "model_id": version, "version": version}
    model.save(target)
    return LeadModel.load(target)


def corrupt_bundle(source: Path, target: Path) -> Path:
    """A copy of ``source`` whose model.txt was cut in half, as by a failed copy or full disk."""
    shutil.copytree(source, target)
    model_file = target / MODEL_FILE
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    return target


def expected_probabilities(
    models: Sequence[LeadModel], pool: Sequence[Mapping[str, Any]]
) -> dict[str, list[float]]:
    """Each version's probability for every lead of the pool, computed offline."""
    return {m.version: [m.score_one(lead)["probability"] for lead in pool] for m in models}


def standard_swaps(second: str, broken: str, third: str) -> list[Swap]:
    """The scenario: a swap at 1/4 of the run, a corrupt bundle at 1/2, another swap at 3/4."""
    return [Swap(0.25, second, True), Swap(0.5, broken, False), Swap(0.75, third, True)]
