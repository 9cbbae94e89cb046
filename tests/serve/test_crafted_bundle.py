"""The issue's crafted bundle against real ``leadml serve`` processes, over real HTTP.

One categorical split of ``model.txt`` is edited to read category set 2,000,000,000 (the tree
has five): a lead with that field missing goes right without reading it, so an empty test lead
scores and explains; any real category reads 8 GB past the array, and the process dies
(SIGSEGV). The checksum is recomputed, as whoever can write the folder can. Before, the reload
answered 200 (same version label) and the first real lead killed the server; as ``--shadow``
it killed it too. Each server here is a process of its own, so a crash is a test failure,
not the end of the test run.

Also refused by reload, each in one line: a bundle whose interval cut-off is text (500 on
every ``?detail=full`` before) and one whose version label is longer than the history's
column (every score refused by PostgreSQL before).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from leadml.bundle.files import MODEL_FILE
from leadml.history.tables import lead_scores
from leadml.modeling.finish import TrainResult
from tests.support.bundles import tamper
from tests.support.crafted import out_of_bounds_category
from tests.support.processes import ServeProcess
from tests.support.servers import lead_payloads

ADMIN_KEY = "crafted-bundle-admin-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
#: A refused start ends at once; a start that was not refused (before) is given this long.
START_S = 120


@pytest.fixture()
def root(tmp_path: Path, bundle: Path) -> Path:
    """The models root: the served bundle and the crafted one beside it."""
    folder = tmp_path / "models"
    shutil.copytree(bundle, folder / "served")
    crafted = Path(shutil.copytree(bundle, folder / "crafted"))
    text, _, _ = out_of_bounds_category((crafted / MODEL_FILE).read_text())
    tamper(crafted, model_text=text)
    return folder


@pytest.fixture()
def real_leads(new_leads: pd.DataFrame) -> list[dict[str, Any]]:
    """Leads as a CRM sends them, every categorical field answered in some."""
    return lead_payloads(new_leads.head(20))


@pytest.fixture()
def processes() -> Iterator[list[ServeProcess]]:
    started: list[ServeProcess] = []
    yield started
    for process in started:
        process.stop()


def start(
    processes: list[ServeProcess], home: Path, model: Path, *args: str, **env: str
) -> ServeProcess:
    process = ServeProcess(home, model, env, *args)
    processes.append(process)
    return process


def ended(process: ServeProcess) -> int | None:
    """The exit status once the process ends within ``START_S`` (None: it is still up)."""
    try:
        return process.process.wait(START_S)
    except Exception:
        return None


def test_reload_refuses_the_crafted_bundle_and_keeps_scoring(
    root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    processes: list[ServeProcess],
    real_leads: list[dict[str, Any]],
    trained: TrainResult,
) -> None:
    version = trained.model.version
    server = start(
        processes,
        tmp_path_factory.mktemp("serve-process"),
        root / "served",
        LEADML_ADMIN_KEYS=f"ops:{ADMIN_KEY}",
        LEADML_MODELS_ROOT=str(root),
    ).wait_ready()
    with server.client() as client:
        started = time.perf_counter()
        answer = client.post(
            "/v1/admin/reload", json={"model": str(root / "crafted")}, headers=ADMIN, timeout=60
        )
        took = time.perf_counter() - started
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert "\n" not in detail
        assert f"{root / 'crafted'}: corrupt bundle: {MODEL_FILE} tree " in detail, detail
        assert "reads category set 2000000000" in detail
        assert answer.json()["serving"] == version
        print(f"\nreload of the crafted bundle: {answer.status_code} in {took:.2f} s: {detail}")

        scored = client.post("/v1/score", json={"leads": real_leads})
        assert scored.status_code == 200, scored.text
        assert scored.json()["model_version"] == version
        assert len(scored.json()["scores"]) == len(real_leads)
        full = client.post("/v1/score?detail=full", json={"leads": real_leads[:3]})
        assert full.status_code == 200, full.text
        assert server.process.poll() is None  # alive

        # Metadata every request reads: refused by reload, one line each, never served.
        limit = lead_scores.c.model_version.type.length
        bad = {
            "interval": (
                lambda m: m["meta"]["interval"].__setitem__("convert_from", "0.4"),
                "meta.interval.convert_from must be a probability",
            ),
            "label": (
                lambda m: m["meta"].__setitem__("version", "v" * (limit + 1)),
                f"meta.version must be text of at most {limit} characters",
            ),
            "cutoffs": (
                lambda m: m["bands"].__setitem__("cutoffs", [3e-9, 2e-9, 1e-9]),
                "grade cut-off A 3e-09 puts",
            ),
        }
        for name, (edit, said) in bad.items():
            folder = Path(shutil.copytree(root / "served", root / name))
            tamper(folder, edit)
            answer = client.post(
                "/v1/admin/reload", json={"model": str(folder)}, headers=ADMIN, timeout=60
            )
            assert answer.status_code == 422, (name, answer.text)
            assert said in answer.json()["detail"], (name, answer.json()["detail"])
        assert client.post("/v1/score", json={"leads": real_leads}).json()["model_version"] == (
            version
        )


def test_the_crafted_bundle_as_shadow_stops_the_start_with_one_line(
    root: Path, tmp_path_factory: pytest.TempPathFactory, processes: list[ServeProcess],
    real_leads: list[dict[str, Any]],
) -> None:  # fmt: skip
    """A challenger goes through the child check before it is loaded; refused, the server does
    not start (``--shadow`` was asked for): one line saying which and why, no crash."""
    home = tmp_path_factory.mktemp("serve-process")
    server = start(processes, home, root / "served", "--shadow", str(root / "crafted"))
    code = ended(server)
    if code is None:  # it started with the crafted challenger: the first real lead ends it
        with server.client() as client, pytest.raises(httpx.TransportError):
            for _ in range(5):
                client.post("/v1/score", json={"leads": real_leads})
                time.sleep(1)
        pytest.fail(f"served with the crafted shadow (now ended: {server.process.poll()})")
    log = server.text()
    assert code > 0, log  # an exit with an error, not a signal
    assert "shadow model: " in log and f"{MODEL_FILE} tree " in log, log
    assert "reads category set 2000000000" in log
    assert "Traceback" not in log


def test_the_crafted_bundle_as_the_model_stops_the_start_with_one_line(
    root: Path, tmp_path_factory: pytest.TempPathFactory, processes: list[ServeProcess]
) -> None:
    server = start(processes, tmp_path_factory.mktemp("serve-process"), root / "crafted")
    code = ended(server)
    assert code is not None, "served the crafted model"
    log = server.text()
    assert code > 0, log
    assert f"corrupt bundle: {MODEL_FILE} tree " in log and "category set 2000000000" in log, log
    assert "Traceback" not in log
