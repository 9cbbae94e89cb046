"""Shadow scoring (``leadml serve --shadow``): the challenger never changes an answer, its scores
reach the history marked shadow and no served read, a challenger that could not score the
API's leads stops the start, and a full queue or a failing challenger costs shadow scores only.

Real uvicorn servers over HTTP. The challengers are genuinely different boosters, fitted in a
second each on encodings derived from the shared model's (a full training run would cost ten
times that): one whose input the shadow reads off the champion's matrix, one it must encode.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from leadml.bundle.files import META_FILE
from leadml.bundle.model import LeadModel
from leadml.cli import app as cli_app
from leadml.data.target import CONVERTED, outcome_codes
from leadml.errors import ModelLoadError
from leadml.modeling.finish import TrainResult
from serve.app import create_app
from serve.model.shadow_input import matrix_translation
from tests.support.servers import lead_payloads, serve_settings

CHALLENGER_VERSION = "challenger-1"


def fit_challenger(
    champion: LeadModel,
    frame: pd.DataFrame,
    names: list[str],
    levels: dict[str, list[str]],
    version: str,
    folder: Path,
) -> LeadModel:
    """A small booster of its own on features ``names`` (in that order) and category ``levels``,
    with the champion's calibration and bands, saved as a bundle."""
    specs = {f.name: f for f in champion.schema.features}
    schema = champion.schema.model_copy(update={"features": [specs[n] for n in names]})
    encoder = champion.encoder.select(names)
    encoder = dataclasses.replace(encoder, levels={**encoder.levels, **levels})
    data = lgb.Dataset(
        encoder.transform(encoder.parse(frame)),
        (outcome_codes(frame[schema.target], schema) == CONVERTED).astype(int),
        feature_name=encoder.names,
        categorical_feature=encoder.categorical_indices,
    )
    params = {"objective": "binary", "num_leaves": 7, "seed": 13, "num_threads": 1, "verbose": -1}
    booster = lgb.train(params, data, num_boost_round=40)
    meta = {**champion.meta, "version": version, "model_id": version}
    model = dataclasses.replace(
        champion, booster=booster, encoder=encoder, schema=schema, meta=meta
    )
    model.meta["bundle"] = str(model.save(folder))
    return model


def first_categorical(model: LeadModel) -> str:
    encoder = model.encoder
    return next(n for n in encoder.names if n in encoder.levels and len(encoder.levels[n]) > 2)


@pytest.fixture(scope="module")
def challenger(trained: TrainResult, leads: pd.DataFrame, tmp_path_factory) -> LeadModel:
    """Fewer features, in another order, and one category fewer (the commonest, so the probe
    meets it): its input is read off the champion's matrix, columns picked, codes renumbered."""
    champion = trained.model
    names = list(reversed(champion.encoder.names[:-2]))
    category = first_categorical(champion)
    levels = champion.encoder.levels[category]
    common = next(v for v in leads[category].value_counts().index if v in levels)
    fewer = {category: [level for level in levels if level != common]}
    folder = tmp_path_factory.mktemp("challenger") / "bundle"
    return fit_challenger(
        champion, leads.sample(4000, random_state=5), names, fewer, CHALLENGER_VERSION, folder
    )


@pytest.fixture(scope="module")
def encoding_challenger(trained: TrainResult, leads: pd.DataFrame, tmp_path_factory) -> LeadModel:
    """A category the champion does not know: the shadow encodes the leads itself."""
    champion = trained.model
    category = first_categorical(champion)
    more = {category: [*champion.encoder.levels[category], "Only the challenger knows"]}
    folder = tmp_path_factory.mktemp("encoding-challenger") / "bundle"
    return fit_challenger(
        champion, leads.sample(4000, random_state=6), champion.encoder.names, more,
        "challenger-2", folder,
    )  # fmt: skip


@pytest.fixture(scope="module")
def probe(new_leads: pd.DataFrame) -> list[dict[str, Any]]:
    """60 leads as CRMs send them, with ids (the first two sent again: trends)."""
    return lead_payloads(new_leads.head(60))


def shadow_status(client: httpx.Client) -> dict[str, Any]:
    return client.get("/ready").json()["shadow"]


def settle(client: httpx.Client, scored: int, seconds: float = 20) -> dict[str, Any]:
    """The shadow's status once it has scored ``scored`` leads and holds nothing back."""
    deadline = time.monotonic() + seconds
    while True:
        status = shadow_status(client)
        if status["scored"] + status["dropped"] >= scored and status["pending"] == 0:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def stored(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = (
                "SELECT lead_id, model_version, probability, score, shadow FROM lead_scores "
                "ORDER BY id"
            )
            return [dict(r._mapping) for r in conn.execute(sa.text(query))]
    finally:
        engine.dispose()


def calls(probe: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every shape of scoring request: one lead (the event loop's path) and batches (worker
    threads), with and without explanations, leads with and without ids, leads sent again."""
    anonymous = {k: v for k, v in probe[3].items() if k != "lead_id"}
    out = []
    for explain in ("true", "false"):
        path = f"/v1/score?explain={explain}"
        out += [
            (path, {"leads": [probe[0]]}),
            (path, {"leads": [anonymous]}),
            (path, {"leads": probe[:50]}),
            (path, {"leads": probe[:2] + probe[50:]}),
            (path, {"leads": [probe[0]]}),
        ]
    return out


def test_answers_are_byte_for_byte_the_same_with_a_shadow(
    start_server, trained: TrainResult, challenger: LeadModel, probe
) -> None:
    plain = start_server()
    shadowed = start_server(shadow_ref=challenger.meta["bundle"])
    sent = 0
    with plain.client() as a, shadowed.client() as b:
        assert shadow_status(a) is None
        for path, body in calls(probe):
            first, second = a.post(path, json=body), b.post(path, json=body)
            assert (first.status_code, second.status_code) == (200, 200), second.text
            assert first.content == second.content  # no timing field, nothing to leave out
            answer = second.json()
            assert {answer["model_version"]} | {s["model_version"] for s in answer["scores"]} == {
                trained.model.version
            }
            sent += len(body["leads"])
        status = settle(b, sent)
    assert status["model_version"] == CHALLENGER_VERSION
    assert (status["scored"], status["dropped"], status["error"]) == (sent, 0, None)
    assert status["recorded"] == sent - 2  # the anonymous lead, twice, has no row


@pytest.mark.parametrize(
    ("database", "which"),
    [("sqlite", "challenger"), ("postgresql", "challenger"), ("sqlite", "encoding_challenger")],
)
def test_shadow_scores_are_kept_apart_and_never_served(
    database: str, which: str, start_server, request, tmp_path, trained: TrainResult, probe
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if database == "postgresql"
        else f"sqlite:///{tmp_path / 'history.db'}"
    )
    challenger: LeadModel = request.getfixturevalue(which)
    champion = trained.model
    # a lead the two models score apart: a trend read from a shadow row would show it
    lead = next(
        p
        for p in probe[20:]
        if abs(champion.score_one(p)["score"] - challenger.score_one(p)["score"]) >= 3
    )
    server = start_server(history_url=url, shadow_ref=challenger.meta["bundle"])
    with server.client() as client:
        first = client.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
        settle(client, 1)
        assert server.history.flush()
        second = client.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
        batch = client.post("/v1/score?explain=false", json={"leads": probe[:20]})
        assert batch.status_code == 200
        shadow_input = shadow_status(client)["input"]
    server.stop()  # no waiting: the stop scores what is queued, then the history writes it
    lead_id = lead["lead_id"]
    assert second["previous_score"] == first["score"] and second["trend"] == "steady"

    rows = stored(url)
    shadow = [r for r in rows if r["shadow"]]
    served = [r for r in rows if not r["shadow"]]
    assert {r["model_version"] for r in shadow} == {challenger.version}
    assert shadow_input == ("encoded" if which == "encoding_challenger" else "champion's matrix")
    assert {r["model_version"] for r in served} == {champion.version}
    assert sorted(r["lead_id"] for r in shadow) == sorted(r["lead_id"] for r in served)
    by_id = {p["lead_id"]: p for p in probe}
    for row in shadow:  # what the challenger itself answers for that lead, to the last bit
        alone = challenger.score_one(by_id[row["lead_id"]])
        assert (row["probability"], row["score"]) == (alone["probability"], alone["score"])
    assert [r["lead_id"] for r in shadow].count(lead_id) == 2

    # A restarted server knows the lead only from the database: still the champion's score.
    again = start_server(history_url=url)
    with again.client() as client:
        third = client.post("/v1/score", json={"leads": [lead]}).json()["scores"][0]
        assert third["previous_score"] == second["score"]
        timeline = client.get(f"/v1/history/{lead_id}").json()["scores"]
        assert [r["model_version"] for r in timeline] == [champion.version] * 3
        recent = client.get("/v1/history", params={"limit": 500}).json()["leads"]
        assert recent and {r["model_version"] for r in recent} == {champion.version}


def test_the_challengers_input_is_read_off_the_champions_matrix_exactly(
    trained: TrainResult, challenger: LeadModel, encoding_challenger: LeadModel, probe
) -> None:
    champion = trained.model.encoder
    x = np.vstack([champion.encode_row(lead) for lead in probe])
    translate = matrix_translation(champion, challenger.encoder)
    assert translate is not None
    want = np.vstack([challenger.encoder.encode_row(lead) for lead in probe])
    np.testing.assert_array_equal(translate(x), want)  # NaN where NaN, codes renumbered
    category = first_categorical(trained.model)
    (dropped,) = set(champion.levels[category]) - set(challenger.encoder.levels[category])
    assert any(lead.get(category) == dropped for lead in probe), "the probe must meet it"

    same = matrix_translation(champion, champion)
    assert same is not None and same(x) is x
    assert matrix_translation(champion, encoding_challenger.encoder) is None
    other_words = dataclasses.replace(champion, missing_values=frozenset({"n/a"}))
    assert matrix_translation(champion, other_words) is None
    assert matrix_translation(challenger.encoder, champion) is None  # features it lacks


def incompatible_copy(bundle: Path, target: Path) -> Path:
    """A sound bundle that reads 'seniority' as a number, where the API sends its answers."""
    other = Path(shutil.copytree(bundle, target))
    meta = json.loads((other / META_FILE).read_text())
    meta["schema"]["features"]["seniority"].update(kind="numeric", levels=None)
    index = meta["encoder"]["names"].index("seniority")
    meta["encoder"]["kinds"][index] = "numeric"
    del meta["encoder"]["levels"]["seniority"]
    (other / META_FILE).write_text(json.dumps(meta))
    LeadModel.load(other)  # passes every bundle check on its own
    return other


def test_a_challenger_with_other_inputs_stops_the_start(bundle: Path, tmp_path: Path) -> None:
    other = incompatible_copy(bundle, tmp_path / "other")
    settings = serve_settings(tmp_path, bundle, shadow_ref=str(other))
    with pytest.raises(ModelLoadError, match=r"shadow model .* takes different inputs") as err:
        create_app(settings)
    assert "'seniority'" in str(err.value) and "\n" not in str(err.value)

    for shadow, says in ((other, "takes different inputs"), (tmp_path / "none", "not a leadml")):
        result = CliRunner().invoke(
            cli_app, ["serve", "--model", str(bundle), "--shadow", str(shadow), "--port", "1"]
        )
        assert result.exit_code == 2, result.output
        assert "Error: shadow model" in result.output and says in result.output
        assert "Traceback" not in result.output


def test_a_full_queue_drops_shadow_work_never_an_answer(
    start_server, challenger: LeadModel, probe
) -> None:
    server = start_server(shadow_ref=challenger.meta["bundle"], shadow_queue=5)
    with server.client() as client:
        big = client.post("/v1/score?explain=false", json={"leads": probe[:10]})
        assert big.status_code == 200 and len(big.json()["scores"]) == 10
        status = settle(client, 10)
        assert (status["dropped"], status["scored"]) == (10, 0)  # 10 leads never fit in 5
        for lead in probe[:30]:
            assert client.post("/v1/score", json={"leads": [lead]}).status_code == 200
        status = settle(client, 40)
        assert status["scored"] + status["dropped"] == 40 and status["scored"] >= 5
        assert client.get("/ready").json()["status"] == "ready"  # shadow drops are no outage


def test_a_failing_challenger_costs_only_its_own_scores(
    start_server, challenger: LeadModel, probe
) -> None:
    server = start_server(shadow_ref=challenger.meta["bundle"])
    model = server.app.state.shadow.loaded.model

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the challenger's booster failed")

    model.predict_proba = broken  # the instance's own method: only the shadow's copy breaks
    with server.client() as client:
        for explain in ("true", "false"):
            r = client.post(f"/v1/score?explain={explain}", json={"leads": probe[:5]})
            assert r.status_code == 200 and len(r.json()["scores"]) == 5
        status = settle(client, 10)
    assert status["scored"] == 0 and status["dropped"] == 10
    assert "booster failed" in status["error"]
    assert server.history.flush()
    assert {r["shadow"] for r in stored(server.history.url)} == {False}


def test_without_a_history_the_challenger_scores_and_counts(
    start_server, challenger: LeadModel, probe
) -> None:
    server = start_server(history_url="none", shadow_ref=challenger.meta["bundle"])
    with server.client() as client:
        assert client.post("/v1/score", json={"leads": probe[:7]}).status_code == 200
        status = settle(client, 7)
    assert (status["scored"], status["recorded"], status["stored"]) == (7, 0, False)


def test_a_reload_of_the_champion_keeps_the_shadow(
    start_server, copied_bundle: Path, challenger: LeadModel, tmp_path: Path
) -> None:
    admin = {"Authorization": "Bearer shadow-admin-0123456789"}
    server = start_server(
        copied_bundle,
        admin_keys="ops:shadow-admin-0123456789",
        models_root=tmp_path,
        shadow_ref=challenger.meta["bundle"],
    )
    with server.client(headers=admin) as client:
        target = shutil.copytree(challenger.meta["bundle"], tmp_path / "next")
        r = client.post("/v1/admin/reload", json={"model": str(target)})
        assert r.status_code == 200 and r.json()["model_version"] == CHALLENGER_VERSION
        assert shadow_status(client)["ref"] == challenger.meta["bundle"]
        assert server.app.state.shadow.loaded.ref == challenger.meta["bundle"]
