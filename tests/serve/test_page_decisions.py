"""The page's decision views in a real headless Chromium (Debian's), driven by Playwright.

Fit and engagement in the table, unfamiliar leads marked and filtered, next steps, the 90 %
interval and the unfamiliar flag in the detail panel, the export with decisions, the account
view, what moved a score in the history, and the capacity line, each checked against what the
API itself answers for the same leads. One file of 300 leads (PII and an account column
included) is scored through the page once; most tests read that one run.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from leadml.bundle.model import LeadModel
from leadml.modeling.finish import TrainResult
from tests.support.browser import VIEWPORT, blocked_by_csp
from tests.support.paths import ARTIFACTS
from tests.support.servers import LiveServer

pytestmark = pytest.mark.browser

LEADS = 300
ACCOUNT = "account"
PAIR = "Pair Co"
UNSEEN_TITLE = "Chief Vibes Officer"
LABELS = {"budget": "Budget", "authority": "Authority", "need": "Need", "timing": "Timing"}
LABELS |= {"other": "Other fields", "model": "New model"}


def model_leads(frame: pd.DataFrame, trained: TrainResult) -> list[dict[str, Any]]:
    """The leads as the page sends them: the model's fields and the id only, blanks and
    placeholders ("Select", "N/A", ...) left out."""
    schema = trained.model.schema
    keep = [schema.id, *(f.name for f in schema.features)]
    placeholders = {v.strip() for v in schema.missing_values}
    leads = []
    for row in frame[[c for c in keep if c in frame]].to_dict(orient="records"):
        lead = {}
        for key, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if isinstance(value, str) and value.strip() in placeholders:
                continue
            lead[key] = value.item() if hasattr(value, "item") else value
        leads.append(lead)
    return leads


def score(http: httpx.Client, leads: list[dict[str, Any]], **params: str) -> list[dict]:
    done = http.post("/v1/score", json={"leads": leads}, params=params)
    assert done.status_code == 200, done.text
    return done.json()["scores"]


def js_round(x: float) -> int:
    """JavaScript's Math.round: halves up, in the same double arithmetic."""
    return math.floor(x + 0.5)


def chance_text(p: float) -> str:
    """The page's chance: a whole percent, never reading as certain when it is not."""
    shown = js_round(p * 100)
    if shown == 0 and p > 0:
        return "<1 %"
    if shown == 100 and p < 1:
        return ">99 %"
    return f"{shown} %"


def signed(points: float) -> str:
    """A move to the tenth as the page writes it (JS toFixed: exact value, ties away from 0)."""
    shown = str(Decimal(abs(points)).quantize(Decimal("0.1"), ROUND_HALF_UP))
    return "0.0" if shown == "0.0" else ("−" if points < 0 else "+") + shown


def change_text(change: dict[str, Any]) -> str:
    parts = [f"{LABELS[m['criterion']]} {signed(m['points'])}" for m in change["criteria"]]
    rest = change["smaller_moves"]
    if rest is not None and abs(rest) >= 0.05:
        parts.append(f"smaller moves {signed(rest)}")
    return f"{change['from_score']} → {change['to_score']}: {', '.join(parts)}"


@dataclass
class Loaded:
    """The page after scoring the file, the file, and the API's own answers for its leads."""

    page: Page
    server: LiveServer
    refused: list[str]
    frame: pd.DataFrame
    leads: list[dict[str, Any]]
    expected: dict[str, dict[str, Any]]  # lead id → /v1/score?detail=full, asked by the test
    pair: tuple[str, str]  # one lead with authority met, one with budget met, in PAIR

    def reset(self) -> None:
        """Leads view, no lead open, no filter (the sort stays as the last test left it)."""
        page = self.page
        if page.locator("#detail").is_visible():
            page.click("#detail-close")
        page.click("#view-leads")
        page.click("#clear-filters")
        expect(page.locator("#shown-count")).to_have_attribute("data-shown", str(LEADS))

    def open_lead(self, lead_id: str) -> None:
        self.reset()
        self.page.fill("#search", lead_id)
        expect(self.page.locator("#rows tr[data-index]")).to_have_count(1)
        self.page.locator("#rows tr[data-index]").click()
        expect(self.page.locator("#detail-title")).to_have_text(lead_id)


@pytest.fixture(scope="module")
def loaded(
    browser: Browser,
    api: LiveServer,
    http: httpx.Client,
    new_leads: pd.DataFrame,
    trained: TrainResult,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Loaded]:
    frame = new_leads.head(LEADS).copy()
    frame.loc[frame.index[7], "job_title"] = UNSEEN_TITLE  # unlike any training lead
    leads = model_leads(frame, trained)
    ids = frame["lead_id"].tolist()
    # Asked without the ids, so that nothing enters the history before the page scores.
    anonymous = [{k: v for k, v in lead.items() if k != "lead_id"} for lead in leads]
    answers = score(http, anonymous, detail="full")
    expected = {lead_id: answer for lead_id, answer in zip(ids, answers, strict=True)}

    def met(answer: dict, name: str) -> bool | None:
        return answer["criteria"][name]["met"]

    first = next(
        i for i in ids if met(expected[i], "authority") and met(expected[i], "budget") is False
    )
    second = next(
        i for i in ids if met(expected[i], "budget") and met(expected[i], "authority") is False
    )
    # Every tenth blank, two of them as a CRM's placeholder: all left out, all counted.
    accounts = ["" if i % 10 == 9 else f"Co {i // 4}" for i in range(LEADS)]
    accounts[19], accounts[29] = "N/A", " Select "
    for lead_id in (first, second):
        accounts[ids.index(lead_id)] = PAIR
    frame.insert(3, ACCOUNT, accounts)
    upload = tmp_path_factory.mktemp("decisions") / "leads.csv"
    frame.assign(converted=0).to_csv(upload, index=False)

    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    run = Loaded(page, api, blocked_by_csp(page), frame, leads, expected, (first, second))
    page.goto(api.url + "/")
    page.set_input_files("#csv-file", str(upload))
    with page.expect_response(lambda r: "/v1/score" in r.url) as info:
        page.click("#score-button")
    assert "detail=full" in info.value.url
    expect(page.locator("#status")).to_contain_text(f"Scored {LEADS} leads", timeout=60_000)
    # The page sent the leads the test scored: the same probabilities, lead for lead.
    on_page = info.value.json()["scores"]
    assert [a["lead_id"] for a in on_page] == ids
    assert [a["probability"] for a in on_page] == [a["probability"] for a in answers]
    yield run
    context.close()


#: Each drawn row's text in the column under the header sorting by ``name``.
COLUMN_JS = """(name) => {
    const at = [...document.querySelectorAll('#scores thead th')]
        .findIndex((th) => th.dataset.sort === name);
    return [...document.querySelectorAll('#rows tr[data-index]')]
        .map((tr) => [tr.dataset.leadId, tr.children[at].textContent]);
}"""


def column(page: Page, name: str) -> list[tuple[str, str]]:
    """(lead id, text) per drawn row, in the column headed by the ``name`` sort button."""
    return [tuple(pair) for pair in page.evaluate(COLUMN_JS, name)]


def cells(page: Page, name: str) -> list[str]:
    return [text for _, text in column(page, name)]


def test_fit_and_engagement_columns_unfamiliar_leads_and_the_export(loaded: Loaded) -> None:
    page, expected = loaded.page, loaded.expected
    loaded.reset()
    expect(page.locator("#capacity-line")).to_be_hidden()  # this model has no capacity cut-off
    expect(page.locator("#rows tr[data-index]")).to_have_count(100)
    for name in ("fit", "engagement"):
        drawn = column(page, name)
        assert len(drawn) == 100
        for lead_id, text in drawn[:20]:
            assert isinstance(expected[lead_id][name], int)
            assert text == str(expected[lead_id][name]), (name, lead_id)

    # Both sort, highest first on the first click.
    for name in ("fit", "engagement"):
        known = [a[name] for a in expected.values() if a[name] is not None]
        header = page.locator(f'#scores th[data-sort="{name}"]')
        header.locator("button").click()
        expect(header).to_have_attribute("aria-sort", "descending")
        values = [int(v) for v in cells(page, name)]
        assert values == sorted(values, reverse=True)
        assert values[0] == max(known)
        header.locator("button").click()
        expect(header).to_have_attribute("aria-sort", "ascending")
        assert cells(page, name)[0] == (str(min(known)) if len(known) == LEADS else "–")

    # Unfamiliar leads: marked, the reasons in the tooltip, and a filter for them alone.
    strange = [i for i, a in expected.items() if a["unfamiliar"]["unfamiliar"]]
    assert loaded.frame["lead_id"].iloc[7] in strange and len(strange) < LEADS
    page.check("#filter-unfamiliar")
    expect(page.locator("#shown-count")).to_have_attribute("data-shown", str(len(strange)))
    assert sorted(page.locator("#rows tr[data-index]").evaluate_all(
        "rows => rows.map((r) => r.dataset.leadId)"
    )) == sorted(strange)  # fmt: skip
    expect(page.locator("#rows .unfamiliar-mark")).to_have_count(len(strange))
    unseen = loaded.frame["lead_id"].iloc[7]
    tip = page.locator(f'#rows tr[data-lead-id="{unseen}"] .unfamiliar-mark').get_attribute("title")
    reasons = expected[unseen]["unfamiliar"]["reasons"]
    assert tip is not None and reasons and all(r in tip for r in reasons)
    assert any(UNSEEN_TITLE in r for r in reasons)
    loaded.reset()
    expect(page.locator("#rows .unfamiliar-mark")).to_have_count(
        sum(1 for r in page.locator("#rows tr[data-index]").evaluate_all(
            "rows => rows.map((r) => r.dataset.leadId)"
        ) if r in strange)
    )  # fmt: skip

    # The export with decisions: the usual columns, then the decisions, for every row.
    assert page.is_checked("#export-decisions")  # on by default
    with page.expect_download() as info:
        page.click("#export")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert len(exported) == LEADS
    decisions = ["fit", "engagement", "next_steps", "certainty", "unfamiliar"]
    assert list(exported[0])[-6:] == [*decisions, "unfamiliar_reasons"]
    assert list(exported[0])[:4] == ["lead_id", "score", "grade", "stage"]
    for row in exported:
        answer = expected[row["lead_id"]]
        for name in ("fit", "engagement"):
            assert row[name] == ("" if answer[name] is None else str(answer[name]))
        assert row["next_steps"] == " | ".join(s["text"] for s in answer["next_steps"])
        assert row["certainty"] == answer["interval"]["verdict"]
        assert row["unfamiliar"] == ("yes" if answer["unfamiliar"]["unfamiliar"] else "no")
        assert row["unfamiliar_reasons"] == " | ".join(answer["unfamiliar"]["reasons"])
    assert loaded.refused == []


def test_the_detail_panel_shows_next_steps_the_interval_and_the_unfamiliar_flag(
    loaded: Loaded, http: httpx.Client
) -> None:
    page, expected = loaded.page, loaded.expected
    lead_id = next(i for i, a in expected.items() if len(a["next_steps"]) >= 2)
    lead = next(x for x in loaded.leads if x["lead_id"] == lead_id)
    # The API asked for this one lead alone (no id: the history stays as the page left it).
    answer = score(http, [{k: v for k, v in lead.items() if k != "lead_id"}], detail="full")[0]
    steps = [s["text"] for s in answer["next_steps"]]
    assert len(steps) >= 2 and all(" (score " in s for s in steps)

    loaded.open_lead(lead_id)
    detail = page.locator("#detail")
    expect(detail.locator(".big-score")).to_have_text(str(answer["score"]))
    expect(detail.locator(".next-steps li.step")).to_have_text(steps)
    criteria = detail.locator(".next-steps li.step").evaluate_all(
        "items => items.map((li) => li.dataset.criterion)"
    )
    assert criteria == [s["criterion"] for s in answer["next_steps"]]
    expect(detail.locator(".interval")).to_have_text(
        f"90 % interval: {answer['interval']['verdict']}"
    )
    expect(detail.locator(".fit-value")).to_have_text(str(answer["fit"]))
    expect(detail.locator(".engagement-value")).to_have_text(str(answer["engagement"]))
    expect(detail.locator(".unfamiliar-flag")).to_have_count(
        int(answer["unfamiliar"]["unfamiliar"])
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_decisions.png"), full_page=False)

    # No step: grade A says so; below A, that no single change raises the grade.
    top = next(i for i, a in expected.items() if a["grade"] == "A")
    assert expected[top]["next_steps"] == []
    loaded.open_lead(top)
    expect(detail.locator(".next-steps li")).to_have_text(["Already grade A"])
    stuck = next(i for i, a in expected.items() if a["grade"] != "A" and not a["next_steps"])
    loaded.open_lead(stuck)
    expect(detail.locator(".next-steps li")).to_have_text(
        ["No single change a rep can make raises the grade"]
    )

    # The unfamiliar lead: flagged, with the API's reasons.
    unseen = loaded.frame["lead_id"].iloc[7]
    loaded.open_lead(unseen)
    expect(detail.locator(".unfamiliar-flag")).to_contain_text("Unfamiliar")
    expect(detail.locator("ul.unfamiliar-reasons li")).to_have_text(
        expected[unseen]["unfamiliar"]["reasons"]
    )
    assert loaded.refused == []


def test_the_account_view_groups_leads_by_the_account_column(
    loaded: Loaded, trained: TrainResult
) -> None:
    page, expected, frame = loaded.page, loaded.expected, loaded.frame
    loaded.reset()
    page.click("#view-accounts")
    expect(page.locator("#accounts-view")).to_be_visible()
    expect(page.locator("#leads-view")).to_be_hidden()
    expect(page.locator("#account-column")).to_have_value(ACCOUNT)  # found by its name

    # Python's own grouping of the file: blanks left out and counted.
    placeholders = {"", *trained.model.schema.missing_values}
    groups: dict[str, list[str]] = {}
    for name, lead_id in zip(frame[ACCOUNT], frame["lead_id"], strict=True):
        if name.strip() not in placeholders:
            groups.setdefault(name, []).append(lead_id)
    blanks = int(frame[ACCOUNT].str.strip().isin(placeholders).sum())
    assert blanks == LEADS // 10
    counter = page.locator("#accounts-count")
    expect(counter).to_have_attribute("data-accounts", str(len(groups)))
    expect(counter).to_have_attribute("data-blank", str(blanks))
    expect(counter).to_contain_text(f"{blanks} leads with a blank {ACCOUNT} left out")

    # The pair: neither lead alone has both criteria met, the account has.
    first, second = loaded.pair
    assert expected[first]["criteria"]["budget"]["met"] is False
    assert expected[second]["criteria"]["authority"]["met"] is False
    row = page.locator(f'#account-rows tr[data-account="{PAIR}"]')
    expect(row).to_have_attribute("data-leads", "2")
    for name in ("authority", "budget"):
        expect(row.locator(f'td[data-criterion="{name}"]')).to_have_attribute("data-verdict", "met")
        expect(row.locator(f'td[data-criterion="{name}"]')).to_have_text("✓")
    p1, p2 = expected[first]["probability"], expected[second]["probability"]
    expect(row.locator(".chance-value")).to_have_text(chance_text(1 - (1 - p1) * (1 - p2)))
    best = first if p1 >= p2 else second
    expect(row.locator("button.best-lead")).to_have_attribute("data-lead-id", best)

    # Every account on the first page: 1 − Π(1 − p), sorted by it.
    chances = {
        name: 1 - math.prod(1 - expected[i]["probability"] for i in members)
        for name, members in groups.items()
    }
    shown = page.locator("#account-rows tr[data-account]").evaluate_all(
        "rows => rows.map((r) => [r.dataset.account, Number(r.dataset.chance)])"
    )
    assert len(shown) == min(100, len(groups))
    assert [c for _, c in shown] == sorted((c for _, c in shown), reverse=True)
    assert shown[0][1] == pytest.approx(max(chances.values()), abs=1e-12)
    for name, chance in shown:
        assert chance == pytest.approx(chances[name], abs=1e-12), name
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_accounts.png"), full_page=False)

    # The best lead opens its details.
    row.locator("button.best-lead").click()
    expect(page.locator("#detail-title")).to_have_text(best)
    page.click("#detail-close")

    # Another column regroups: one account per country (blanks and placeholders left out).
    page.select_option("#account-column", "country")
    values = (str(c).strip() for c in frame["country"].dropna())
    countries = {" ".join(c.split()).lower() for c in values if c not in placeholders}
    expect(counter).to_have_attribute("data-accounts", str(len(countries)))
    page.select_option("#account-column", ACCOUNT)
    page.click("#view-leads")
    expect(page.locator("#leads-view")).to_be_visible()
    assert loaded.refused == []


def test_the_history_says_what_moved_the_score(loaded: Loaded, http: httpx.Client) -> None:
    page = loaded.page
    lead_id = loaded.pair[0]
    lead = next(x for x in loaded.leads if x["lead_id"] == lead_id)
    budget = "< 10k" if lead.get("budget_range") in ("> 250k", "100k–250k") else "> 250k"
    assert score(http, [{**lead, "budget_range": budget}])[0]["lead_id"] == lead_id
    history = http.get(f"/v1/history/{lead_id}")
    assert history.status_code == 200, history.text
    scores = history.json()["scores"]
    assert len(scores) == 2 and scores[0]["change"] is None
    change = scores[1]["change"]
    assert change["same_model"] is True
    assert "budget" in [m["criterion"] for m in change["criteria"]]

    loaded.open_lead(lead_id)
    detail = page.locator("#detail")
    expect(detail.locator(".history-chart circle")).to_have_count(2)
    moves = detail.locator(".move-list li .move-text")
    expect(moves).to_have_text([change_text(change)])
    budget_move = next(m["points"] for m in change["criteria"] if m["criterion"] == "budget")
    expect(moves).to_contain_text(f"Budget {signed(budget_move)}")
    detail.locator(".moves").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve_decisions_history.png"), full_page=False)
    assert loaded.refused == []


def test_the_capacity_cut_off_is_shown_with_the_loaded_leads_above_it(
    start_server,
    browser: Browser,
    copied_bundle: Path,
    new_leads: pd.DataFrame,
    trained: TrainResult,
) -> None:
    frame = new_leads.head(60)
    probabilities = sorted(trained.model.score_frame(frame)["probability"])
    cut = probabilities[40]  # about a third of these leads at or above it
    model = LeadModel.load(copied_bundle)
    record = {"capacity": 200.0, "per": "week", "inflow_per_period": 260.357}
    record |= {"leads_per_period": 199.5, "source": "test", "chosen_by": "test"}
    model.bands = replace(model.bands, sql_cutoff=cut, capacity=record)
    model.write_files(copied_bundle)
    server = start_server(model_ref=copied_bundle)
    with server.client() as client:
        assert client.get("/v1/model").json()["thresholds"]["sql_cutoff"] == cut

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    refused = blocked_by_csp(page)
    page.goto(server.url + "/")
    page.fill("#paste", frame.to_csv(index=False))
    with page.expect_response(lambda r: "/v1/score" in r.url) as info:
        page.click("#score-button")
    answers = info.value.json()["scores"]
    above = sum(1 for a in answers if a["probability"] >= cut)
    assert 0 < above < len(answers)
    assert above == sum(1 for a in answers if a["stage"] == "SQL")  # the server's own SQL
    line = page.locator("#capacity-line")
    expect(line).to_be_visible()
    expect(line.locator(".capacity-text")).to_have_text(
        f"200 leads a week; inflow 260 a week; SQL from score {js_round(cut * 100)}"
    )
    expect(line.locator(".capacity-here")).to_have_text(f"{above} of 60 leads here at or above it")
    expect(line).to_contain_text("Capacity: ")
    assert refused == []
    context.close()
