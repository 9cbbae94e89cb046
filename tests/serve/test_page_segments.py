"""The page for a model with a segment column, in a real headless Chromium driven by Playwright.

One cheap training with ``segment = "region"`` on a generated history where APAC converts by
its own rule (so specialists can ship), one real uvicorn server, and leads from every region
scored through the page: the segment column shows each lead's region and marks the leads a
specialist scored, the segment filter leaves only the chosen region's rows (and the export
follows it), the segments panel lists each segment's model, ROC AUC and SQL cut-off as
``GET /v1/model`` gives them, and the recently scored list names each lead's region. The
screenshot goes to the test's folder and to tests/artifacts (``docs/img/page-segments.png`` is a
copy of it: tests never write into the docs).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from leadml.data.synthetic import generate_leads
from leadml.modeling.train import train_leads
from leadml.schema.spec import LeadSchema, bundled_schema
from tests.support.browser import VIEWPORT, blocked_by_csp
from tests.support.paths import ARTIFACTS
from tests.support.servers import LiveServer, lead_payloads, serve_settings
from tests.support.training import cheap_settings

pytestmark = pytest.mark.browser

COLUMN = "region"
PER_REGION = 10
#: A seed whose cheap training ships specialists (APAC and EMEA): the mark has leads to mark.
TRAIN_SEED = 3


@dataclass
class Segmented:
    server: LiveServer
    http: httpx.Client
    info: dict[str, Any]  # GET /v1/model
    leads: pd.DataFrame  # PER_REGION leads of each region, as a CRM exports them


@pytest.fixture(scope="module")
def segmented(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Segmented]:
    home = tmp_path_factory.mktemp("segments")
    schema = LeadSchema.from_dict({**bundled_schema().to_dict(), "segment": COLUMN})
    history = generate_leads(4000, seed=TRAIN_SEED, segments="different")
    trained = train_leads(history, schema, cheap_settings(home), out=home / "bundle")
    assert trained.bundle is not None
    new = generate_leads(200, seed=29, segments="different").drop(columns=[schema.target])
    leads = new.groupby(COLUMN, sort=True).head(PER_REGION).reset_index(drop=True)
    assert leads[COLUMN].nunique() >= 2
    server = LiveServer(serve_settings(home / "serve", trained.bundle)).start()
    with server.client() as http:
        yield Segmented(server, http, http.get("/v1/model").json(), leads)
    server.stop()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


#: Per drawn row: lead id, the segment cell's value and model, and whether it bears the mark.
ROWS_JS = """() => [...document.querySelectorAll('#rows tr[data-index]')].map((tr) => {
    const td = tr.querySelector('td.segment');
    return {id: tr.dataset.leadId, value: td.dataset.value, model: td.dataset.model,
            text: td.querySelector('.segment-value').textContent,
            marked: !!td.querySelector('.specialist-mark')};
})"""


def js_round(x: float) -> int:
    """JavaScript's Math.round: halves up."""
    return math.floor(x + 0.5)


def test_the_segment_column_filter_and_panel(segmented: Segmented, page: Page, tmp_path) -> None:
    info, leads = segmented.info, segmented.leads
    segments = info["segments"]["segments"]
    assert info["segments"]["column"] == COLUMN
    region_of = dict(zip(leads["lead_id"], leads[COLUMN], strict=True))
    refused = blocked_by_csp(page)
    page.goto(segmented.server.url + "/")

    # The panel: one line per segment, as GET /v1/model gives it.
    panel = page.locator("#segments-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#segments-column")).to_have_text(COLUMN)
    lines = panel.locator("li.segment-line")
    expect(lines).to_have_count(len(segments))
    for line, seg in zip(lines.all(), segments, strict=True):
        expect(line.locator(".segment-value")).to_have_text(seg["value"])
        expect(line).to_have_attribute("data-model", seg["model"])
        kind = "global model" if seg["model"] == "global" else "specialist"
        cut = seg["sql_cutoff"] if seg["sql_cutoff"] is not None else seg["grades"]["A"]
        expect(line.locator(".segment-facts")).to_contain_text(
            f" · {kind} · ROC AUC {seg['roc_auc']:.3f} · SQL from score {js_round(cut * 100)}"
        )
        expect(line).to_have_attribute("title", seg["note"])

    # Scored through the page: the column shows each lead's region, the mark the specialists.
    page.fill("#paste", leads.to_csv(index=False))
    with page.expect_response(lambda r: "/v1/score" in r.url) as answered:
        page.click("#score-button")
    expect(page.locator("#status")).to_contain_text(f"Scored {len(leads)} leads")
    answers = {a["lead_id"]: a for a in answered.value.json()["scores"]}
    header = page.locator('#scores th[data-sort="segment"]')
    expect(header).to_have_text(re.compile(f"^{COLUMN}$", re.IGNORECASE))
    expect(page.locator("#scores thead th").nth(1)).to_have_attribute("data-sort", "segment")
    rows = page.evaluate(ROWS_JS)
    assert len(rows) == len(leads)
    for row in rows:
        assert row["value"] == row["text"] == region_of[row["id"]]
        assert row["model"] == answers[row["id"]]["model"]
        assert row["marked"] == (answers[row["id"]]["model"] != "global")
    specialists = {s["value"] for s in segments if s["model"] != "global"}
    assert {r["value"] for r in rows if r["marked"]} == {r["value"] for r in rows} & specialists
    assert specialists, "this seed's training ships at least one specialist"

    # The filter: its options are the model's segments; one region leaves only its rows.
    options = page.locator("#filter-segment option").all_inner_texts()
    assert options == ["all segments", *(s["value"] for s in segments)]
    chosen = sorted(specialists)[0]
    page.select_option("#filter-segment", chosen)
    expect(page.locator("#shown-count")).to_have_text(f"{PER_REGION} of {len(leads)} leads shown")
    assert {r["value"] for r in page.evaluate(ROWS_JS)} == {chosen}
    exported = list(csv.DictReader(io.StringIO(page.evaluate("() => Table.exportRows()"))))
    assert {(r[COLUMN], r["model"]) for r in exported} == {(chosen, f"segment:{chosen}")}
    page.click("#clear-filters")
    expect(page.locator("#filter-segment")).to_have_value("")
    expect(page.locator("#shown-count")).to_have_text(f"{len(leads)} of {len(leads)} leads shown")

    # The file's names and emails stay out of the picture (the page never sent them anyway).
    page.fill("#paste", "")
    shot = tmp_path / "page-segments.png"
    page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1280, "height": 760})
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / shot.name).write_bytes(shot.read_bytes())
    print(f"screenshot: {shot}")
    assert refused == []


def test_the_recent_list_names_each_leads_segment(segmented: Segmented, page: Page) -> None:
    leads = segmented.leads.head(PER_REGION + 2).assign(lead_id=lambda f: "R-" + f["lead_id"])
    keep = ["lead_id", *(f["name"] for f in segmented.info["features"])]
    done = segmented.http.post("/v1/score", json={"leads": lead_payloads(leads[keep])})
    assert done.status_code == 200, done.text
    history = segmented.http.get("/v1/history", params={"limit": 30}).json()["leads"]
    stored = {row["lead_id"]: row for row in history if row["lead_id"].startswith("R-")}
    assert len(stored) == len(leads)
    refused = blocked_by_csp(page)
    page.goto(segmented.server.url + "/")
    for lead_id, region in zip(leads["lead_id"], leads[COLUMN], strict=True):
        button = page.locator(f'#recent button[data-lead-id="{lead_id}"]')
        expect(button).to_contain_text(f" · {region}")
        marked = stored[lead_id]["scored_by"] != "global"
        expect(button.locator(".specialist-mark")).to_have_count(1 if marked else 0)
    assert refused == []


def test_a_model_without_segments_shows_none_of_it(
    api: LiveServer, new_leads: pd.DataFrame, page: Page
) -> None:
    """The session's model has no segment column: no panel, filter, column or export field."""
    with api.client() as http:
        assert "segments" not in http.get("/v1/model").json()
    refused = blocked_by_csp(page)
    page.goto(api.url + "/")
    with page.expect_response(lambda r: "/v1/model" in r.url):
        page.fill("#paste", new_leads.head(5).to_csv(index=False))
        page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("Scored 5 leads")
    expect(page.locator("#segments-panel")).to_be_hidden()
    expect(page.locator("#segment-filter")).to_be_hidden()
    expect(page.locator("#scores th[data-sort='segment'], #rows td.segment")).to_have_count(0)
    header = page.evaluate("() => Table.exportRows()").splitlines()[0].split(",")
    assert header[:5] == ["lead_id", "score", "grade", "stage", "budget"]
    assert refused == []
