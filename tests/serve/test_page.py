"""The sales-ops page and /docs in a real headless Chromium (Debian's), driven by Playwright.

Both run under the server's Content-Security-Policy: any script, style or request the policy
blocks shows up as a console message, and the tests fail on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

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


def blocked_by_csp(page: Page) -> list[str]:
    """Console messages about what the Content-Security-Policy refused (filled as they come)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: refused.append(str(e)))
    return refused


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
    refused = blocked_by_csp(page)
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
    assert refused == []


def test_paste_json_and_see_errors(start_server, page: Page) -> None:
    server = start_server(api_keys="page-key")
    refused = blocked_by_csp(page)
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
    assert refused == []


def test_docs_work_offline_under_their_csp(start_server, page: Page) -> None:
    """Swagger UI from the server's own files: nothing else is fetched, nothing is refused,
    and Authorize offers both keys."""
    server = start_server(api_keys="docs-key", admin_keys="ops:docs-admin")
    refused = blocked_by_csp(page)
    outside: list[str] = []

    def only_this_server(route: Route) -> None:
        if route.request.url.startswith(server.url + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("leadml")
    expect(page.locator('.opblock-summary-path[data-path="/v1/score"]')).to_have_count(1)
    page.click("button.authorize")
    expect(page.locator(".modal-ux .auth-container")).to_have_count(2)
    expect(page.locator(".modal-ux")).to_contain_text("ScoringKey")
    expect(page.locator(".modal-ux")).to_contain_text("AdminKey")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_docs.png"), full_page=False)
    assert outside == [] and refused == []
