"""Swapping models under load: zero failed requests, no mixed answers, bad models refused.

Reloads need an admin key, and name bundle folders under the models root (here the test's own
folder): see test_reload_guard.py for everything a reload may not name.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from leadml.bundle.files import META_FILE
from leadml.bundle.model import LeadModel
from leadml.config import Settings
from leadml.modeling.finish import TrainResult
from leadml.modeling.train import train_leads
from leadml.schema import LeadSchema
from serve.model.holder import ModelHolder, incompatibilities
from tests.support.processes import free_port, start_process, stop_process
from tests.support.servers import lead_payloads
from tests.support.training import cheap_settings

ADMIN_KEY = "hot-swap-admin-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def second_model(leads: pd.DataFrame, schema: LeadSchema, tmp_path_factory) -> LeadModel:
    """A genuinely different model: other rows, other seed, so its scores differ."""
    home = tmp_path_factory.mktemp("second-model")
    result = train_leads(
        leads.sample(6000, random_state=3),
        schema,
        cheap_settings(home, seed=11, mlflow_tracking_uri=None),
        out=home / "bundle",
        track=False,
    )
    result.model.meta["bundle"] = str(home / "bundle")
    return result.model


@pytest.fixture(scope="module")
def probe(new_leads: pd.DataFrame) -> list[dict]:
    return lead_payloads(new_leads.head(20))


def expected(model: LeadModel, leads: list[dict]) -> list[float]:
    return [model.score_one(lead)["probability"] for lead in leads]


def test_hot_swap_under_concurrent_requests(
    start_server,
    copied_bundle: Path,
    trained: TrainResult,
    second_model: LeadModel,
    probe,
    tmp_path: Path,
) -> None:
    first = trained.model
    assert first.version != second_model.version
    want = {
        first.version: expected(first, probe),
        second_model.version: expected(second_model, probe),
    }
    assert want[first.version] != want[second_model.version]
    second = shutil.copytree(second_model.meta["bundle"], tmp_path / "second")
    server = start_server(copied_bundle, admin_keys=f"ops:{ADMIN_KEY}", models_root=tmp_path)
    stop = threading.Event()
    results: list[tuple[int, str | None, list[float] | None]] = []
    errors: list[str] = []

    def hammer(explain: bool) -> None:
        with server.client() as client:
            while not stop.is_set():
                try:
                    r = client.post(
                        f"/v1/score?explain={str(explain).lower()}", json={"leads": probe}
                    )
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                    continue
                if r.status_code != 200:
                    results.append((r.status_code, None, None))
                    continue
                body = r.json()
                versions = {s["model_version"] for s in body["scores"]} | {body["model_version"]}
                assert len(versions) == 1, "one request, one model"
                results.append(
                    (200, body["model_version"], [s["probability"] for s in body["scores"]])
                )

    workers = [threading.Thread(target=hammer, args=(i % 2 == 0,)) for i in range(4)]
    for w in workers:
        w.start()
    swaps = []
    try:
        with server.client(headers=ADMIN) as admin:
            for _ in range(2):  # each swap proves its candidate in a child process (~1.5 s)
                for target in (str(second), str(copied_bundle)):
                    time.sleep(0.15)
                    r = admin.post("/v1/admin/reload", json={"model": target})
                    swaps.append((r.status_code, r.json().get("model_version")))
    finally:
        time.sleep(0.15)
        stop.set()
        for w in workers:
            w.join(30)
    assert errors == []
    assert [code for code, *_ in results if code != 200] == []
    assert swaps == [(200, second_model.version), (200, first.version)] * 2
    seen = {version for _, version, _ in results}
    assert seen == {first.version, second_model.version}
    for _, version, probabilities in results:
        assert probabilities == pytest.approx(want[version], abs=1e-12)
    assert len(results) > 20


def test_a_bad_model_leaves_the_old_one_serving(
    start_server, copied_bundle: Path, tmp_path, trained_settings: Settings, trained: TrainResult
):
    server = start_server(
        copied_bundle,
        admin_keys=f"ops:{ADMIN_KEY}",
        models_root=tmp_path,
        mlflow_tracking_uri=trained_settings.tracking_uri,
    )
    broken = tmp_path / "broken"
    shutil.copytree(copied_bundle, broken)
    (broken / "model.txt").write_text("this is not a LightGBM model\n")
    name = trained.model.meta["registered_model"]
    with server.client(headers=ADMIN) as client:
        before = client.get("/v1/model").json()["model_version"]
        for target, status, reason in [
            (str(broken), 422, "corrupt bundle"),
            (str(tmp_path / "absent"), 422, "is not a leadml bundle"),
            (f"models:/{name}@no-such-alias", 422, "cannot resolve model"),
            ("models:/no-such-model@champion", 400, "reload refused"),
        ]:
            r = client.post("/v1/admin/reload", json={"model": target})
            assert r.status_code == status, r.text
            assert reason in r.json()["detail"] and r.json()["serving"] == before
            assert client.post("/v1/score", json={"leads": [{}]}).status_code == 200
        assert client.get("/v1/model").json()["model_version"] == before
        unknown = client.post("/v1/admin/reload", json={"modle": "x"})
        assert unknown.status_code == 422 and "'modle'" in unknown.json()["detail"]


def test_a_model_with_other_inputs_is_refused(trained: TrainResult, schema: LeadSchema) -> None:
    served = trained.model.schema
    assert incompatibilities(served, served) == []
    fewer = served.model_copy(update={"features": served.features[:-3]})
    assert incompatibilities(served, fewer) == []  # fewer inputs: old requests still fit
    renamed = [
        f.model_copy(update={"name": "budget_2026"}) if f.name == "budget_range" else f
        for f in served.features
    ]
    problems = incompatibilities(served, served.model_copy(update={"features": renamed}))
    assert problems == ["new input fields ['budget_2026']"]
    relevelled = [
        f.model_copy(update={"levels": ["low", "high"]}) if f.name == "budget_range" else f
        for f in served.features
    ]
    problems = incompatibilities(served, served.model_copy(update={"features": relevelled}))
    assert len(problems) == 1 and "budget_range" in problems[0]


def test_holder_refuses_an_incompatible_model(bundle: Path, tmp_path: Path) -> None:
    first = Path(shutil.copytree(bundle, tmp_path / "first"))
    other = Path(shutil.copytree(bundle, tmp_path / "other"))
    meta = json.loads((other / META_FILE).read_text())
    # seniority read as a number: a sound bundle, but the API's requests send its answers
    meta["schema"]["features"]["seniority"].update(kind="numeric", levels=None)
    index = meta["encoder"]["names"].index("seniority")
    meta["encoder"]["kinds"][index] = "numeric"
    del meta["encoder"]["levels"]["seniority"]
    (other / META_FILE).write_text(json.dumps(meta))
    LeadModel.load(other)  # passes every bundle check on its own

    holder = ModelHolder(str(first), models_root=tmp_path)
    before = holder.current
    with pytest.raises(Exception, match="restart the service"):
        holder.reload(str(other))
    assert holder.current is before and holder.reloads == 0
    old, new = holder.reload()
    assert old is before and new.ref == str(first) and holder.current is new


def test_sighup_reloads_through_the_cli(
    copied_bundle: Path, second_model: LeadModel, trained: TrainResult, tmp_path
) -> None:
    port = free_port()
    leadml = Path(sys.executable).with_name("leadml")
    # leads of a few fields: sparse leads allowed (their refusal is tested in test_crm_inputs)
    env = {
        **os.environ,
        "LEADML_HOME": str(tmp_path),
        "LEADML_API_KEYS": "",
        "LEADML_ALLOW_SPARSE": "true",
    }
    log_path = tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    args = [str(leadml), "serve", "--model", str(copied_bundle), "--port", str(port)]
    proc = start_process(args, env, f"{url}/ready", log_path)

    def version() -> str | None:
        try:
            return httpx.get(f"{url}/v1/model", timeout=2).json()["model_version"]
        except httpx.HTTPError:
            return None

    def wait_for(wanted: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while version() != wanted:
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"still {version()}: {log_path.read_text()}"
            time.sleep(0.1)

    try:
        wait_for(trained.model.version)
        for name in ("model.txt", "leadml.json", "metrics.json"):
            shutil.copy(Path(second_model.meta["bundle"]) / name, copied_bundle / name)
        proc.send_signal(signal.SIGHUP)
        wait_for(second_model.version)
        (copied_bundle / "model.txt").write_text("garbage\n")
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "refused" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert version() == second_model.version  # the bad bundle did not replace it
        assert httpx.post(f"{url}/v1/score", json={"leads": [{}]}).status_code == 200
    finally:
        stop_process(proc)
    text = log_path.read_text()
    assert "corrupt bundle" in text and "Traceback" not in text
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
    assert "Finished server process" in text
    assert proc.returncode == -signal.SIGTERM
