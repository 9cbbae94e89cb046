"""The page, the API and the CLI say the same thing about the same lead, and "not answered" is a
state the model learned, not a gap.

One small model is trained on a web-form export where "Select" (the lead saw the question and
skipped it) converts at about 40 % and blank (never sent) at about 14 %. The same 300 leads,
written as one CSV, are scored three ways: posted to ``/v1/score`` as the file writes them,
by ``leadml score --data``, and uploaded to the page in Debian's chromium, whose export is
read back. Their warnings must be identical lead by lead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser
from typer.testing import CliRunner

from leadml.cli.app import app
from leadml.config import Settings
from leadml.data.values import NOT_ANSWERED
from leadml.explain.reasons import reason_text
from leadml.modeling.finish import TrainResult
from leadml.modeling.train import train_leads
from tests.support.browser import VIEWPORT
from tests.support.forms import form_export, form_schema
from tests.support.servers import LiveServer, serve_settings

LEADS = 300


def _train(home: Path, unanswered: list[str] | None) -> TrainResult:
    frame = form_export(3000, seed=1)
    settings = Settings(home=home, num_threads=1)
    return train_leads(frame, form_schema(unanswered), settings, out=home / "m", track=False)


@pytest.fixture(scope="module")
def trained_forms(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return _train(tmp_path_factory.mktemp("forms"), ["Select", "Selecione"])


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 new leads as an export writes them: blanks, "Select" and "N/A", other spellings of
    a form default, answers never seen in training, counts beyond training, personal data,
    and one of the model's fields missing from the file altogether."""
    leads = form_export(LEADS, seed=9).drop(columns=["converted", "do_not_email"])
    leads["visits"] = leads["visits"].astype(object)
    leads.loc[0:9, "specialization"] = "Astrology"
    leads.loc[10:14, "country"] = "Atlantis"
    leads.loc[15:19, "visits"] = 500
    leads.loc[20:24, "specialization"] = "-- Select --"
    leads.loc[25:29, "budget"] = "Please choose"
    leads.loc[30:34, "visits"] = "N/A"
    path = tmp_path_factory.mktemp("upload") / "leads.csv"
    leads.to_csv(path, index=False)
    return path


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def by_api(server: LiveServer, upload: Path) -> dict[str, str]:
    """Each lead posted as the file writes it (all text, blanks as "")."""
    leads = _rows(upload.read_text(encoding="utf-8"))
    with server.client() as http:
        answer = http.post("/v1/score", json={"leads": leads})
    assert answer.status_code == 200, answer.text
    return {
        s["lead_id"]: " | ".join(w["message"] for w in s["warnings"])
        for s in answer.json()["scores"]
    }


def by_cli(bundle: Path, upload: Path, home: Path) -> dict[str, str]:
    out = home / "scored.csv"
    done = CliRunner().invoke(
        app,
        ["score", "--model", str(bundle), "--data", str(upload), "--out", str(out)],
        env={"LEADML_HOME": str(home), "COLUMNS": "200"},
    )
    assert done.exit_code == 0, done.output
    assert "not in the table, scored as unknown: do_not_email" in " ".join(done.output.split())
    scored = pd.read_csv(out, keep_default_na=False, dtype=str)
    return dict(zip(scored["lead_id"], scored["warnings"], strict=True))


def by_page(browser: Browser, server: LiveServer, upload: Path) -> dict[str, str]:
    """Uploaded to the page, scored, and the table exported: its warnings column."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        page.set_input_files("#csv-file", str(upload))
        page.click("#score-button")
        status = page.locator("#status")
        status.filter(has_text=f"Scored {LEADS} leads").wait_for(timeout=60_000)
        with page.expect_download() as info:
            page.click("#export")
        text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    finally:
        context.close()
    return {row["lead_id"]: row["warnings"] for row in _rows(text)}


@pytest.fixture(scope="module")
def server(trained_forms: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    assert trained_forms.bundle is not None
    live = LiveServer(serve_settings(tmp_path_factory.mktemp("serve"), trained_forms.bundle))
    live.start()
    yield live
    live.stop()


@pytest.mark.browser
def test_page_api_and_cli_give_each_lead_the_same_warnings(
    trained_forms: TrainResult,
    server: LiveServer,
    upload: Path,
    tmp_path: Path,
    browser: Browser,
) -> None:
    assert trained_forms.bundle is not None
    api = by_api(server, upload)
    cli = by_cli(trained_forms.bundle, upload, tmp_path)
    page = by_page(browser, server, upload)
    assert len(api) == len(cli) == len(page) == LEADS
    for lead_id, said in api.items():
        assert cli[lead_id] == said, (lead_id, said, cli[lead_id])
        assert page[lead_id] == said, (lead_id, said, page[lead_id])

    leads = pd.read_csv(upload, keep_default_na=False, dtype=str).set_index("lead_id")
    # Every lead misses the field the file does not have; blanks and "N/A" join it.
    assert all(w.startswith("Not sent, scored as unknown: ") for w in api.values())
    not_sent = {i: w.split(" | ")[0] for i, w in api.items()}
    blank = leads.index[leads["specialization"] == ""]
    assert len(blank) > 20
    assert all("specialization" in not_sent[i] for i in blank)
    assert all("visits" in not_sent[i] for i in leads.index[leads["visits"] == "N/A"])
    # "Select" (any spelling) is an answer the model knows: never a warning.
    skipped = leads.index[leads["specialization"].isin(["Select", "-- Select --"])]
    assert len(skipped) > 50
    assert not any("specialization" in api[i] for i in skipped)
    assert not any(
        "budget" in api[i]
        for i in leads.index[leads["budget"].isin(["Selecione", "Please choose"])]
    )
    # Unseen answers and numbers beyond training are said, on all three.
    unseen = "Specialization 'Astrology' was never seen in training: scored as unknown"
    assert [i for i, w in api.items() if unseen in w] == list(leads.index[:10])
    assert all("'Atlantis' was never seen" in api[i] for i in leads.index[10:15])
    assert all("above anything seen in training" in api[i] for i in leads.index[15:20])


def test_the_signal_in_not_answering_is_kept(
    trained_forms: TrainResult, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Skipped (40 %) and never sent (14 %) score apart; an older schema cannot tell them."""
    model = trained_forms.model
    base = {"budget": "R$ 1.000 – 5.000", "visits": 4, "do_not_email": "No", "country": "India"}

    def chance(lead: dict, on: TrainResult = trained_forms) -> float:
        return on.model.score_one(lead)["probability"]

    skipped = chance({**base, "specialization": "Select"})
    never = chance({**base, "specialization": None})
    answered = chance({**base, "specialization": "Finance"})
    assert skipped - never > 0.12, (skipped, never)
    assert never < answered < skipped
    # Wherever the state came from: another spelling of the form's default is the same answer.
    assert chance({**base, "specialization": "-- Select --"}) == skipped
    # A reason a rep reads: the state, in words.
    spec = model.schema.feature("specialization")
    assert reason_text(spec, spec.name, "categorical", NOT_ANSWERED) == (
        "Specialization: not answered"
    )

    old = _train(tmp_path_factory.mktemp("forms-old"), None)
    assert chance({**base, "specialization": "Select"}, old) == chance(
        {**base, "specialization": None}, old
    )
