"""The sales-ops page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from leadml.modeling.finish import TrainResult

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: make system-deps"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="module")
def export(new_leads: pd.DataFrame, tmp_path_factory) -> Path:
    """A CRM export as sales ops would upload it: PII, the time column and all."""
    path = tmp_path_factory.mktemp("upload") / "new_leads.csv"
    new_leads.head(12).assign(converted=0).to_csv(path, index=False)
    return path


def test_upload_a_csv_and_read_the_scores(
    start_server, page: Page, export: Path, trained: TrainResult, new_leads: pd.DataFrame
) -> None:
    server = start_server()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    page.goto(server.url + "/")
    expect(page.locator("#model-version")).to_have_text(trained.model.version)
    page.set_input_files("#csv-file", str(export))
    page.click("#score-button")
    cards = page.locator("#results .card")
    expect(cards).to_have_count(12)
    status = page.locator("#status").inner_text()
    assert "Scored 12 leads" in status
    for ignored in ("converted", "full_name", "email", "created_at"):
        assert ignored in status

    # The highest-scoring lead comes first, with the library's own probability and grade.
    expected = trained.model.score_frame(new_leads.head(12)).assign(
        lead_id=new_leads.head(12)["lead_id"].to_numpy()
    )
    top = expected.sort_values("probability", ascending=False).iloc[0]
    first = cards.first
    assert first.get_attribute("data-lead-id") == top["lead_id"]
    assert first.locator(".prob").inner_text() == f"{top['probability'] * 100:.1f}%"
    assert first.locator(".grade").inner_text() == top["grade"]
    # One bar per BANT criterion on every card, and reasons in words.
    for criterion in ("budget", "authority", "need", "timing"):
        expect(page.locator(f'.track[data-criterion="{criterion}"]')).to_have_count(12)
    assert first.locator("ul.reasons li").count() >= 1
    assert first.locator(".bar").count() == 4

    # Personal data never left the browser.
    emails = new_leads.head(12)["email"].tolist()
    posted = "".join(sent)
    assert posted and not any(e in posted for e in emails)
    assert json.loads(sent[0])["leads"][0]["lead_id"] == new_leads["lead_id"].iloc[0]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_page.png"), full_page=False)

    # Recently scored leads appear; picking one explains it again.
    assert server.history.flush()
    page.click("#refresh-recent")
    recent = page.locator("#recent button")
    expect(recent).to_have_count(12)
    recent.filter(has_text=top["lead_id"]).click()
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".lead-id")).to_have_text(top["lead_id"])
    assert cards.first.locator(".prob").inner_text() == f"{top['probability'] * 100:.1f}%"
    expect(page.locator("#status")).to_contain_text("explained by")


def test_paste_json_and_see_errors(start_server, page: Page) -> None:
    server = start_server(api_keys="page-key")
    page.goto(server.url + "/")
    leads = [
        {"lead_id": "P1", "budget_range": "> 250k", "purchase_timeline": "< 3 months"},
        {"lead_id": "P2", "budget_range": "< 10k", "purchase_timeline": "Just researching"},
    ]
    page.fill("#paste", json.dumps(leads))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("missing API key")
    page.fill("#api-key", "page-key")
    page.click("#score-button")
    expect(page.locator("#results .card")).to_have_count(2)
    expect(page.locator("#results .card").first).to_have_attribute("data-lead-id", "P1")
    page.fill("#paste", json.dumps([{"budget_range": "enormous"}]))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("leads[0].budget_range")
    expect(page.locator("#status")).to_have_class("error")
