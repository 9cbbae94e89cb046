"""No bundle can crash or fool the server, and reloads are safe, against a real server over HTTP.

A reload names only the served model's registry entries or a folder under the models root,
refused before any connection; a candidate is proved in a child process, so one that crashes
LightGBM costs the candidate; with a bundle key only signed bundles load; a slow registry holds
one reload (409 for the others) and never scoring; nothing is left in the temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from leadml.bundle.files import MODEL_FILE
from leadml.bundle.signing import sign_bundle
from leadml.config import Settings
from leadml.errors import ModelLoadError
from leadml.modeling.finish import TrainResult
from serve.app import create_app
from tests.support.bundles import KEY, OTHER_KEY, rename_feature, tamper
from tests.support.servers import LiveServer, lead_payloads, serve_settings

ADMIN_KEY = "reload-guard-admin-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


class SlowHost(socketserver.ThreadingTCPServer):
    """An HTTP host that answers every request one byte at a time, for ever: no read ever
    times out, so only a deadline ends a download from it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.connections = 0
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), self._Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    class _Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            host: SlowHost = self.server  # type: ignore[assignment]
            host.connections += 1
            self.request.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            try:
                self.request.sendall(head + b"Content-Length: 1000000\r\n\r\n")
                while not host.stopping.wait(0.2):
                    self.request.sendall(b" ")
            except OSError:
                pass  # the client gave up (or was killed): what the deadline is for


@pytest.fixture()
def slow_host() -> Iterator[SlowHost]:
    host = SlowHost()
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    yield host
    host.stopping.set()
    host.shutdown()
    host.server_close()


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """The models root a reload may name folders under."""
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def served_copy(bundle: Path, root: Path, name: str = "served", key: Any = None) -> Path:
    target = Path(shutil.copytree(bundle, root / name))
    if key is not None:
        sign_bundle(target, key)
    return target


def reload(server: LiveServer, model: str | None = None, timeout: float = 30) -> httpx.Response:
    body = {"model": model} if model is not None else None
    with server.client() as client:
        return client.post("/v1/admin/reload", json=body, headers=ADMIN, timeout=timeout)


def assert_still_serving(server: LiveServer, version: str) -> None:
    with server.client() as client:
        assert client.get("/v1/model").json()["model_version"] == version
        scored = client.post("/v1/score?explain=true", json={"leads": [{}]})
        assert scored.status_code == 200 and scored.json()["model_version"] == version


def test_references_beyond_the_served_model_are_refused_before_any_connection(
    start_server, bundle: Path, root: Path, tmp_path: Path, trained: TrainResult
) -> None:
    name = trained.model.meta["registered_model"]
    outside = Path(shutil.copytree(bundle, tmp_path / "outside"))
    (root / "escape").symlink_to(outside, target_is_directory=True)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = start_server(
        served_copy(bundle, root), admin_keys=f"ops:{ADMIN_KEY}", models_root=root
    )
    refused = {
        f"http://127.0.0.1:{port}/bundle": "'http:' references are not allowed",
        f"https://127.0.0.1:{port}/bundle": "'https:' references are not allowed",
        f"mlflow-artifacts://127.0.0.1:{port}/x": "'mlflow-artifacts:' references",
        "s3://bucket/bundle": "'s3:' references are not allowed",
        f"file://{outside}": "'file:' references are not allowed",
        "runs:/0123456789abcdef/model": "'runs:' references are not allowed",
        "models:/someone-else@champion": "not the served model's own registry entry",
        f"models:/{name}@champion/../../x": "not the served model's own registry entry",
        str(outside): "is not a folder under the models root",
        str(root / "escape"): "is not a folder under the models root",  # a link inside
        str(root / ".." / "outside"): "is not a folder under the models root",
        "../outside": "is not a folder under the models root",
        str(root): "is not a folder under the models root",
    }
    for ref, why in refused.items():
        answer = reload(server, ref, timeout=10)
        assert answer.status_code == 400, (ref, answer.text)
        detail = answer.json()["detail"]
        assert detail.startswith("reload refused: ") and why in detail, (ref, detail)
        assert f"models:/{name}@<alias>" in detail and str(root) in detail
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):  # nobody knocked: the server fetched nothing
        listener.accept()
    listener.close()
    assert server.app.state.holder.reloads == 0
    assert_still_serving(server, trained.model.version)
    assert reload(server, str(root / "served")).status_code == 200  # under the root: fine


def test_a_bundle_that_crashes_lightgbm_costs_the_candidate_not_the_server(
    start_server, bundle: Path, root: Path, trained: TrainResult
) -> None:
    """Half a model.txt, its checksum recomputed and the bundle re-signed with the key: every
    check passes, and LightGBM kills the process that parses it (SIGSEGV)."""
    crasher = served_copy(bundle, root, "crasher")
    text = (crasher / MODEL_FILE).read_text()
    tamper(crasher, model_text=text[: len(text) // 2], key=KEY)
    server = start_server(
        served_copy(bundle, root, key=KEY),
        admin_keys=f"ops:{ADMIN_KEY}",
        models_root=root,
        bundle_key=KEY,
    )
    answer = reload(server, str(crasher))
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    # Refused in the child: now by the tree check, before LightGBM is given the cut file
    # (its tree_sizes point past the end); by the crash, were that check absent.
    crashed = "candidate crashed the check process (signal" in detail
    assert crashed or f"corrupt bundle: {MODEL_FILE} tree_sizes puts tree" in detail, detail
    assert answer.json()["serving"] == trained.model.version
    assert_still_serving(server, trained.model.version)
    again = reload(server)  # the start-up model, through the same child check
    assert again.status_code == 200, again.text
    assert server.app.state.holder.reloads == 1


def test_with_a_bundle_key_only_signed_and_sound_bundles_load(
    start_server,
    bundle: Path,
    root: Path,
    trained: TrainResult,
    trained_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # every temporary folder lands here
    name = trained.model.meta["registered_model"]
    candidates = {
        "unsigned bundle: this process holds a bundle key": served_copy(bundle, root, "unsigned"),
        "bundle signature does not match": tamper(
            served_copy(bundle, root, "other-key"), key=OTHER_KEY
        ),
        "model_sha256 is missing": tamper(
            served_copy(bundle, root, "no-checksum"),
            lambda meta: meta.pop("model_sha256"),
            key=KEY,  # a key holder cannot skip the checksum either
        ),
        "grade cut-offs must be three finite numbers": tamper(
            served_copy(bundle, root, "nan-cut-offs"),
            lambda meta: meta["bands"].update(cutoffs=[float("nan"), 0.2, 0.1]),
            key=KEY,
        ),
        "encoder features differ from the schema's": tamper(
            served_copy(bundle, root, "renamed"),
            lambda meta: rename_feature(meta, "budget_range", "budget_2026", schema=False),
            key=KEY,
        ),
    }
    server = start_server(
        served_copy(bundle, root, key=KEY),
        admin_keys=f"ops:{ADMIN_KEY}",
        models_root=root,
        bundle_key=KEY,
        mlflow_tracking_uri=trained_settings.tracking_uri,
    )
    for why, folder in candidates.items():
        answer = reload(server, str(folder))
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert why in detail and str(folder) in detail and "\n" not in detail, detail
        assert "leadml-reload-" not in detail  # names the folder given, not the private copy
    # The registry's champion was trained without the key: downloaded, refused, and the
    # download removed with the rest of the private folder.
    answer = reload(server, f"models:/{name}@champion")
    assert answer.status_code == 422 and "unsigned bundle" in answer.json()["detail"]
    assert list(scratch.iterdir()) == []
    assert_still_serving(server, trained.model.version)
    good = tamper(
        served_copy(bundle, root, "good"),
        lambda meta: meta["meta"].update(version="signed-v2"),
        key=KEY,
    )
    answer = reload(server, str(good))
    assert answer.status_code == 200 and answer.json()["model_version"] == "signed-v2"
    assert list(scratch.iterdir()) == []


def test_a_server_with_a_bundle_key_will_not_start_on_an_unsigned_bundle(
    bundle: Path, tmp_path: Path
) -> None:
    settings = serve_settings(tmp_path, bundle, bundle_key=KEY)
    with pytest.raises(ModelLoadError, match="unsigned bundle"):
        create_app(settings)


def _timed_reload(client: httpx.Client, model: str) -> tuple[httpx.Response, float, float]:
    """The answer, how long it took, and when it came."""
    started = time.monotonic()
    answer = client.post("/v1/admin/reload", json={"model": model}, headers=ADMIN)
    ended = time.monotonic()
    return answer, ended - started, ended


def test_a_slow_registry_holds_one_reload_and_never_scoring(
    start_server,
    bundle: Path,
    root: Path,
    trained: TrainResult,
    slow_host: SlowHost,
    new_leads: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: 45 reloads against a slow host took every worker thread and scoring timed out
    for 25 s. Now the first reload runs in its own thread until the deadline, the others are
    answered 409 at once, and scoring (explanations go through worker threads) stays quick."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    name = trained.model.meta["registered_model"]
    server = start_server(
        served_copy(bundle, root),
        admin_keys=f"ops:{ADMIN_KEY}",
        models_root=root,
        mlflow_tracking_uri=slow_host.url,
        reload_timeout_s=8,
    )
    leads = {"leads": lead_payloads(new_leads.head(3))}
    ref = f"models:/{name}@champion"
    latencies: list[float] = []
    admin = server.client(limits=httpx.Limits(max_connections=60))
    with ThreadPoolExecutor(max_workers=50) as pool, admin, server.client() as client:
        slow = pool.submit(_timed_reload, admin, ref)
        deadline = time.monotonic() + 15
        while slow_host.connections == 0:  # the check process is now stuck on the slow host
            assert time.monotonic() < deadline and not slow.done(), "never reached the host"
            time.sleep(0.05)
        others = [pool.submit(_timed_reload, admin, ref) for _ in range(45)]
        while not slow.done():
            began = time.monotonic()
            scored = client.post("/v1/score?explain=true", json=leads)
            latencies.append(time.monotonic() - began)
            assert scored.status_code == 200
            assert scored.json()["model_version"] == trained.model.version
        busy = [future.result() for future in others]
        answer, seconds, ended = slow.result()
    assert answer.status_code == 504, answer.text
    assert "not fetched and checked within 8 s" in answer.json()["detail"]
    assert seconds < 8 + 3
    assert max(when for *_, when in busy) < ended  # all 45 came while the first one ran
    assert [a.status_code for a, *_ in busy] == [409] * 45
    assert "another reload is running" in busy[0][0].json()["detail"]
    print(f"\n45 reloads during a stuck one: 409 within {max(s for _, s, _ in busy):.3f} s")
    assert max(s for _, s, _ in busy) < 2.0
    print(f"\nscoring during a stuck reload: {len(latencies)} calls, max {max(latencies):.3f} s")
    assert len(latencies) >= 10 and max(latencies) < 1.0
    assert server.app.state.holder.reloads == 0
    assert list(scratch.iterdir()) == []  # the killed download's folder is gone too


def test_a_start_removes_reload_copies_left_by_killed_servers(start_server) -> None:
    """``kill -9`` during a reload leaves its private copy behind (its ``finally`` never runs):
    the next start removes copies whose server is gone, and leaves a running one's alone."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    temp = Path(tempfile.gettempdir())
    left = Path(tempfile.mkdtemp(prefix=f"leadml-reload-{ended.pid}-", dir=temp))
    (left / "model.txt").write_text("a killed reload's copy")
    live = Path(tempfile.mkdtemp(prefix=f"leadml-reload-{os.getpid()}-", dir=temp))
    try:
        start_server()
        assert not left.exists()
        assert live.is_dir()
    finally:
        shutil.rmtree(left, ignore_errors=True)
        shutil.rmtree(live, ignore_errors=True)
