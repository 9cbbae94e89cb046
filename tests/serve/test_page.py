"""The sales-ops page and /docs in a real headless Chromium (Debian's), driven by Playwright.

Both run under the server's Content-Security-Policy: any script, style or request the policy
blocks shows up as a console message, and the tests fail on it. One pipeline of 1,500 leads
(PII columns included) is scored through the page once; the table, filter, export and detail
tests read that one run.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, Response, Route, expect

from leadml.modeling.finish import TrainResult
from leadml.report.html import REPORT_FILE
from serve.routes import page as page_module
from tests.support.browser import VIEWPORT, blocked_by_csp
from tests.support.paths import ARTIFACTS
from tests.support.servers import LiveServer

BANT = ("budget", "authority", "need", "timing")
PII = ("full_name", "email", "phone", "created_at")
POINTS = re.compile(r"^[+−]\d+(\.\d)? pts|^0 pts")

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()


@dataclass
class Scored:
    """The page after scoring the whole pipeline, and what went over the wire."""

    page: Page
    server: LiveServer
    refused: list[str]
    sent: list[str]
    responses: list[Response] = field(default_factory=list)
    #: What the status line said once scoring ended (a later export rewrites it).
    status: str = ""

    def answers(self) -> list[dict[str, Any]]:
        """Every lead's score as /v1/score answered it, in the order sent."""
        return [s for r in self.responses for s in r.json()["scores"]]

    def reset(self) -> None:
        """No lead open, no filter, score descending: the table as scoring left it."""
        if self.page.locator("#detail").is_visible():
            self.page.click("#detail-close")
        self.page.click("#clear-filters")
        expect(self.page.locator("#shown-count")).to_have_attribute("data-shown", "1500")


@pytest.fixture(scope="module")
def scored(
    browser: Browser, api: LiveServer, new_leads: pd.DataFrame, tmp_path_factory
) -> Iterator[Scored]:
    """1,500 leads uploaded as a CRM exports them (PII, the time column and all), scored."""
    export = tmp_path_factory.mktemp("upload") / "new_leads.csv"
    new_leads.assign(converted=0).to_csv(export, index=False)
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    run = Scored(page, api, blocked_by_csp(page), [])
    page.on("request", lambda r: run.sent.append(r.post_data or "") if r.method == "POST" else None)
    page.on("response", lambda r: run.responses.append(r) if "/v1/score" in r.url else None)
    page.goto(api.url + "/")
    page.set_input_files("#csv-file", str(export))
    page.click("#score-button")
    expect(page.locator("#status")).to_contain_text("Scored 1,500 leads", timeout=60_000)
    run.status = page.locator("#status").inner_text()
    yield run
    context.close()


#: The rows drawn now: lead id, score, grade and each criterion's verdict.
ROWS_JS = """() => [...document.querySelectorAll('#rows tr[data-index]')].map((tr) => ({
    id: tr.dataset.leadId, score: Number(tr.querySelector('.score-value').textContent),
    grade: tr.querySelector('.grade').textContent,
    verdicts: Object.fromEntries([...tr.querySelectorAll('td[data-criterion]')]
        .map((td) => [td.dataset.criterion, td.dataset.verdict])),
}))"""


def table_rows(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(ROWS_JS)


def all_pages(page: Page) -> list[dict[str, Any]]:
    """Every row passing the filters, walking the pages with next."""
    rows = table_rows(page)
    number = 1
    while page.locator("#next-page").is_enabled():
        number += 1
        page.click("#next-page")
        expect(page.locator("#page-info")).to_contain_text(f"Page {number} of")
        rows += table_rows(page)
    return rows


def test_a_pipeline_is_scored_sorted_and_matches_the_library(
    scored: Scored, trained: TrainResult, new_leads: pd.DataFrame
) -> None:
    page = scored.page
    scored.reset()
    expect(page.locator("#model-version")).to_have_text(trained.model.version)
    for ignored in ("converted", *PII):
        assert ignored in scored.status
    expect(page.locator("#shown-count")).to_have_text("1,500 of 1,500 leads shown")
    expect(page.locator("#rows tr")).to_have_count(100)
    expect(page.locator("#page-info")).to_have_text("Page 1 of 15 (rows 1–100)")
    assert len(scored.responses) == 2  # batches of at most maxLeads (1,000)

    # Highest score first, lead for lead the library's own scores (ties in upload order).
    expected = trained.model.score_frame(new_leads).assign(lead_id=new_leads["lead_id"])
    expected = expected.sort_values("score", ascending=False, kind="stable")
    score_header = page.locator('#scores th[data-sort="score"]')
    expect(score_header).to_have_attribute("aria-sort", "descending")
    rows = table_rows(page)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert [(r["id"], r["score"], r["grade"]) for r in rows] == list(
        expected[["lead_id", "score", "grade"]].head(100).itertuples(index=False, name=None)
    )
    assert all(set(r["verdicts"]) == set(BANT) for r in rows)
    expect(page.locator("#unrecorded")).to_have_count(0)  # every criterion recorded
    # One label per idea: score, grade, stage; no percent, no tier.
    text = page.locator("#rows").inner_text()
    assert "%" not in text and not re.search(r"\b(hot|warm|cold)\b", text)

    score_header.locator("button").click()
    expect(score_header).to_have_attribute("aria-sort", "ascending")
    assert table_rows(page)[0]["score"] == expected["score"].min()
    score_header.locator("button").click()
    expect(score_header).to_have_attribute("aria-sort", "descending")
    assert table_rows(page)[0]["id"] == expected["lead_id"].iloc[0]
    page.click("#next-page")
    expect(page.locator("#page-info")).to_have_text("Page 2 of 15 (rows 101–200)")
    assert [r["id"] for r in table_rows(page)] == expected["lead_id"].iloc[100:200].tolist()
    page.click("#prev-page")

    # Personal data never left the browser.
    posted = "".join(scored.sent)
    assert posted and not any(e in posted for e in new_leads["email"])
    assert json.loads(scored.sent[0])["leads"][0]["lead_id"] == new_leads["lead_id"].iloc[0]

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#results-panel").evaluate("panel => panel.scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "serve_page.png"), full_page=False)
    assert scored.refused == []


def test_filter_authority_not_met_and_export_exactly_those_rows(scored: Scored) -> None:
    page, answers = scored.page, scored.answers()
    scored.reset()
    page.select_option("#filter-authority", "not-met")
    not_met = [a for a in answers if a["criteria"]["authority"]["met"] is False]
    assert 0 < len(not_met) < 1500
    expect(page.locator("#shown-count")).to_have_attribute("data-shown", str(len(not_met)))
    expect(page.locator("#shown-count")).to_contain_text(f"{len(not_met):,} of 1,500 leads shown")
    in_table = all_pages(page)
    assert len(in_table) == len(not_met)
    assert {r["verdicts"]["authority"] for r in in_table} == {"not-met"}
    assert [r["score"] for r in in_table] == sorted((r["score"] for r in in_table), reverse=True)

    with page.expect_download() as info:
        page.click("#export")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    columns = ["lead_id", "score", "grade", "stage"]
    columns += [c for name in BANT for c in (name, f"{name}_points")]
    columns += ["qualified", "reasons", "concerns", "questions", "warnings"]
    # The decisions, on by default ("with decisions"; tests/serve/test_page_decisions.py).
    columns += ["fit", "engagement", "next_steps", "certainty", "unfamiliar", "unfamiliar_reasons"]
    assert list(exported[0]) == columns
    assert len(exported) == len(not_met)  # == the "N of M leads shown" figure, checked above
    assert {row["authority"] for row in exported} == {"not met"}
    assert [row["lead_id"] for row in exported] == [r["id"] for r in in_table]
    assert [int(row["score"]) for row in exported] == [r["score"] for r in in_table]
    by_id = {a["lead_id"]: a for a in answers}
    for row in exported[:50]:
        answer, authority = by_id[row["lead_id"]], by_id[row["lead_id"]]["criteria"]["authority"]
        assert row["reasons"] == " | ".join(r["text"] for r in answer["reasons"])
        assert float(row["authority_points"]) == round(authority["points"], 1)
        verdict = {True: "yes", False: "no", None: "cannot judge yet"}[answer["qualified"]]
        assert row["qualified"] == verdict

    # Filters combine, and the search reads lead ids and every reason and concern.
    page.select_option("#filter-grade", "A")
    both = [a for a in not_met if a["grade"] == "A"]
    expect(page.locator("#shown-count")).to_have_attribute("data-shown", str(len(both)))
    page.select_option("#filter-grade", "")
    page.fill("#search", "demo")
    said = [" ".join(r["text"] for r in a["reasons"] + a["concerns"]) for a in not_met]
    demo = [a for a, text in zip(not_met, said, strict=True) if "demo" in text.lower()]
    expect(page.locator("#shown-count")).to_have_attribute("data-shown", str(len(demo)))
    page.fill("#search", not_met[0]["lead_id"])
    expect(page.locator("#rows tr[data-index]")).to_have_count(1)
    assert scored.refused == []


def test_the_detail_panel_explains_a_lead_and_charts_its_history(
    scored: Scored, http: httpx.Client, new_leads: pd.DataFrame, trained: TrainResult
) -> None:
    page, answers = scored.page, scored.answers()
    scored.reset()
    top = page.locator("#rows tr[data-index]").first
    lead_id = top.get_attribute("data-lead-id")
    answer = next(a for a in answers if a["lead_id"] == lead_id)
    top.click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text(lead_id)
    expect(detail.locator(".big-score")).to_have_text(str(answer["score"]))
    expect(detail.locator(".qualified")).to_contain_text("BANT")
    expect(detail.locator(".history-body")).to_have_text("no earlier scores")

    # The lead's values as sent: model fields only, placeholders as not given, no PII.
    raw = new_leads.set_index("lead_id").loc[lead_id]
    fields = detail.locator("table.field-values tr")
    expect(fields).to_have_count(len(trained.model.schema.features))
    budget = str(raw["budget_range"])
    budget = "not given" if budget in ("nan", "Select") else budget
    expect(detail.locator('tr[data-field="budget_range"] td')).to_have_text(budget)
    panel = detail.inner_text()
    assert raw["email"] not in panel and raw["full_name"] not in panel

    # One bar per criterion, in points of score; reasons (+) and concerns (−) in words.
    rows = detail.locator(".bar-row")
    expect(rows).to_have_count(4)
    for name in BANT:
        criterion = answer["criteria"][name]
        value = detail.locator(f'.bar-row[data-criterion="{name}"] .bar-value').inner_text()
        assert POINTS.match(value), value  # e.g. "+7 pts · met"
        assert value.endswith("unknown — ask" if criterion["met"] is None else "met")
        expect(detail.locator(f'.bar-row[data-criterion="{name}"] .bar')).to_have_count(1)
    reasons = detail.locator("ul.reasons li")
    expect(reasons.first).to_contain_text(answer["reasons"][0]["text"])
    assert reasons.count() == len(answer["reasons"]) + len(answer["concerns"])
    asks = detail.locator("ul.asks li:not(.none)").all_inner_texts()
    assert asks == [q["text"] for q in answer["questions"]]
    warnings = detail.locator("ul.warn-list li:not(.none)").all_inner_texts()
    assert warnings == [w["message"] for w in answer["warnings"]]

    # Scored again by a CRM, now only researching and without a demo: the panel charts both.
    lead = json.loads(next(s for s in scored.sent if f'"{lead_id}"' in s))["leads"]
    lead = next(x for x in lead if x["lead_id"] == lead_id)
    later = {**lead, "demo_requested": False, "purchase_timeline": "Just researching"}
    assert http.post("/v1/score", json={"leads": [later]}).is_success
    page.click("#detail-close")
    expect(detail).to_be_hidden()
    top.click()
    expect(detail.locator(".history-chart circle")).to_have_count(2)
    expect(detail.locator(".history-body")).to_contain_text("2 scores, oldest first")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_detail.png"), full_page=False)

    # Recently scored leads appear; picking one explains it again in the panel.
    page.click("#refresh-recent")
    page.locator("#recent button").filter(has_text=lead_id).first.click()
    expect(page.locator("#detail-title")).to_have_text(lead_id)
    expect(detail).to_contain_text("explained again by")
    assert scored.refused == []


def test_the_report_is_one_click_away_and_only_the_report(
    scored: Scored,
    page: Page,
    http: httpx.Client,
    start_server,
    partial: TrainResult,
    new_leads: pd.DataFrame,
    tmp_path: Path,
) -> None:
    assert page_module.REPORT_FILE == REPORT_FILE
    scored.reset()
    link = scored.page.locator("#report-link")
    expect(link).to_have_attribute("href", "/report")
    with scored.page.expect_popup() as popup:
        link.click()
    popup.value.wait_for_load_state()
    expect(popup.value).to_have_title(re.compile("Lead model report"))
    popup.value.close()

    # Styled under its own policy (its style blocks by hash, no script at all): nothing refused.
    refused = blocked_by_csp(page)
    answer = page.goto(scored.server.url + "/report")
    assert answer is not None and answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe" not in policy and "script-src" not in policy
    assert "default-src 'none'" in policy
    # The report's inline CSS applied (its body is at most 1080 px wide).
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1080px"
    assert refused == []

    # The client never names the file: any query is ignored, any other path is not found.
    report = http.get("/report").text
    assert report == (Path(scored.server.settings.model_ref) / REPORT_FILE).read_text("utf-8")
    for query in ("file=leadml.json", "path=../leadml.json", "name=model.txt"):
        assert http.get(f"/report?{query}").text == report
    for path in ("/report/leadml.json", "/report/model.txt", "/report%2F..%2Fleadml.json"):
        other = http.get(path)
        assert other.status_code == 404 and "model_sha256" not in other.text

    # A model without a report: a one-line 404, and the page says there is none. This one
    # (an export with no budget or timing field) also says so once, in /v1/model and the
    # page's header, and the table has no "? unknown" column for them.
    assert partial.bundle is not None
    bundle = Path(shutil.copytree(partial.bundle, tmp_path / "partial"))
    (bundle / REPORT_FILE).unlink()
    server = start_server(model_ref=bundle)
    with server.client() as client:
        missing = client.get("/report")
        info = client.get("/v1/model").json()
    assert missing.status_code == 404 and missing.text.strip().count("\n") == 0
    assert missing.text.strip().endswith(f"has no {REPORT_FILE}")
    sentence = "This export records no budget or timing field."
    assert info["unrecorded_criteria"] == ["budget", "timing"]
    assert info["unrecorded_sentence"] == sentence
    assert info["qualified_rule"] == "authority and need both met"
    assert info["criteria"] == list(BANT)  # what a score's ``criteria`` holds, unchanged
    refused = blocked_by_csp(page)
    page.goto(server.url + "/")
    expect(page.locator("#report-link-missing")).to_have_text("no model report")
    expect(page.locator("#report-link")).to_have_count(0)
    expect(page.locator("#unrecorded")).to_have_text(
        f"{sentence} BANT qualified: authority and need both met."
    )
    page.fill("#paste", new_leads.head(3).to_csv(index=False))
    with page.expect_response(lambda r: "/v1/score" in r.url) as scored_info:
        page.click("#score-button")
    answers = scored_info.value.json()["scores"]
    expect(page.locator("#rows tr[data-index]")).to_have_count(3)
    cells = page.locator("#rows td[data-criterion]")
    assert {c.get_attribute("data-criterion") for c in cells.all()} == {"authority", "need"}
    expect(page.locator("#filter-budget")).to_have_count(0)
    expect(page.locator("#filter-timing")).to_have_count(0)
    assert not any(q["criterion"] in ("budget", "timing") for a in answers for q in a["questions"])
    assert [a["qualified"] for a in answers] == [
        True if all(m) else False if False in m else None
        for m in ([a["criteria"][c]["met"] for c in ("authority", "need")] for a in answers)
    ]
    assert page.locator("body").inner_text().count(sentence) == 1
    assert refused == []


def test_errors_replace_the_results_and_list_every_problem(
    start_server, page: Page, new_leads: pd.DataFrame, trained: TrainResult
) -> None:
    server = start_server(api_keys="page-key")
    refused = blocked_by_csp(page)
    page.goto(server.url + "/")
    three = new_leads.head(3)
    page.fill("#paste", three.to_csv(index=False))
    page.click("#score-button")
    expect(page.locator("#errors li")).to_have_count(1)
    expect(page.locator("#errors")).to_contain_text("missing API key")
    expect(page.locator("#status")).to_have_class("error")

    page.fill("#api-key", "page-key")
    page.click("#score-button")
    expect(page.locator("#rows tr[data-index]")).to_have_count(3)
    expect(page.locator("#errors-panel")).to_be_hidden()

    # A lead without any authority data: "unknown — ask", and the verdict cannot be judged.
    blind = [f.name for f in trained.model.schema.features if f.criterion == "authority"]
    page.fill("#paste", three.head(1).drop(columns=blind).to_csv(index=False))
    with page.expect_response(lambda r: "/v1/score" in r.url) as info:
        page.click("#score-button")
    answer = info.value.json()["scores"][0]
    expect(page.locator("#rows tr[data-index]")).to_have_count(1)
    cell = page.locator('#rows td[data-criterion="authority"]')
    expect(cell).to_have_attribute("data-verdict", "unknown")
    expect(cell).to_contain_text("unknown")
    page.locator("#rows tr[data-index]").click()
    unknown = page.locator('#detail .bar-row[data-criterion="authority"]')
    expect(unknown).to_have_attribute("data-verdict", "unknown")
    expect(unknown.locator(".bar-value")).to_contain_text("unknown — ask")
    expect(page.locator("#detail .qualified")).to_have_text(
        "BANT: cannot judge yet" if answer["qualified"] is None else re.compile("BANT qualified")
    )
    asks = [q["text"] for q in answer["questions"] if q["criterion"] == "authority"]
    assert len(asks) == 1
    expect(page.locator('#detail ul.asks li[data-criterion="authority"]')).to_have_text(asks[0])

    # Two leads with "abc" in a numeric field: both listed, the old results gone.
    bad = three.assign(site_visits=three["site_visits"].astype(object))
    bad.loc[bad.index[[0, 2]], "site_visits"] = "abc"
    page.fill("#paste", bad.to_csv(index=False))
    with page.expect_response(lambda r: "/v1/score" in r.url) as info:
        page.click("#score-button")
    assert info.value.status == 422
    errors = info.value.json()["errors"]
    assert len(errors) >= 2
    items = page.locator("#errors li")
    expect(items).to_have_count(len(errors))
    expect(page.locator("#errors-count")).to_have_text(f"{len(errors)} problems")
    listed = page.locator("#errors").inner_text()
    for lead_id in bad["lead_id"].iloc[[0, 2]]:
        assert re.search(rf"{lead_id}\) · Site visits \(site_visits\): ", listed), listed
    assert "and 1 more" not in page.locator("body").inner_text()
    expect(page.locator("#results-panel")).to_be_hidden()
    expect(page.locator("#rows tr")).to_have_count(0)
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
