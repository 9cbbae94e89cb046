"""Per-lead explanations: exact attributions, roll-ups, verdicts and plain-language reasons."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shap
from rich.console import Console

from leadml.cli.render import explanation_cards
from leadml.data.synthetic import generate_leads
from leadml.errors import SchemaError
from leadml.explain.attributions import (
    LeadExplanation,
    _reasons,
    explain_lead,
    explain_matrix,
    explanation_columns,
)
from leadml.explain.batch import batch_reasons, top_reasons
from leadml.explain.points import lead_point_scale
from leadml.explain.reasons import (
    MIN_REASON_POINTS,
    REASON_SEPARATOR,
    format_number,
    reason_text,
)
from leadml.explain.rollup import plan_for
from leadml.modeling.finish import TrainResult
from leadml.report.plots import waterfall_png
from leadml.schema import BANT, FeatureSpec
from leadml.schema.frameworks import framework_criteria, framework_names


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as an API client would send them: missing cells as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.fixture(scope="module")
def sample(leads: pd.DataFrame) -> pd.DataFrame:
    return leads.tail(300).reset_index(drop=True)


@pytest.fixture(scope="module")
def batch(trained: TrainResult, sample: pd.DataFrame) -> list[LeadExplanation]:
    return explain_matrix(trained.model, trained.model.matrix(sample))


# -- exact attributions -------------------------------------------------------------------------
def test_contributions_agree_with_shap_tree_explainer(
    trained: TrainResult, sample: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    model = trained.model
    x = model.matrix(sample)
    explainer = shap.TreeExplainer(model.booster)
    expected = np.asarray(explainer.shap_values(x))
    ours = np.array([[e.contributions[n] for n in model.feature_names] for e in batch])
    assert expected.shape == ours.shape
    np.testing.assert_allclose(ours, expected, atol=1e-6, rtol=0)
    base = float(np.ravel(explainer.expected_value)[0])
    np.testing.assert_allclose([e.base_value for e in batch], base, atol=1e-6, rtol=0)


def test_base_plus_contributions_is_the_raw_log_odds(
    trained: TrainResult, sample: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    model = trained.model
    x = model.matrix(sample)
    raw = model.raw_scores(x)
    total = np.array([e.base_value + sum(e.contributions.values()) for e in batch])
    np.testing.assert_allclose(total, raw, atol=1e-6, rtol=0)
    np.testing.assert_allclose([e.raw_log_odds for e in batch], raw, atol=1e-6, rtol=0)
    np.testing.assert_allclose(
        [e.probability for e in batch], model.predict_proba(x), atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("framework", framework_names())
def test_rollups_add_up_to_the_same_total(
    trained: TrainResult, sample: pd.DataFrame, framework: str
) -> None:
    model = trained.model
    for e in explain_matrix(model, model.matrix(sample.head(50)), framework):
        by_criterion = sum(v.contribution for v in e.criteria.values())
        by_feature = sum(e.contributions.values())
        assert by_criterion == pytest.approx(by_feature, abs=1e-6)
        assert e.base_value + by_criterion == pytest.approx(e.raw_log_odds, abs=1e-6)
        # every feature in exactly one bucket
        listed = [f for v in e.criteria.values() for f in v.features]
        assert sorted(listed) == sorted(model.feature_names)
        assert set(framework_criteria(framework)) <= set(e.criteria)


def test_one_lead_path_equals_the_batch_path(
    trained: TrainResult, sample: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    for lead, expected in zip(records(sample.head(40)), batch[:40], strict=True):
        got = explain_lead(trained.model, lead)
        assert got.probability == pytest.approx(expected.probability, abs=1e-9)
        assert got.qualified == expected.qualified
        assert got.questions == expected.questions
        assert [r.text for r in got.positive] == [r.text for r in expected.positive]
        assert [r.text for r in got.negative] == [r.text for r in expected.negative]
        for name, verdict in got.criteria.items():
            assert verdict.met == expected.criteria[name].met
            assert verdict.contribution == pytest.approx(
                expected.criteria[name].contribution, abs=1e-9
            )
        assert got.probability == pytest.approx(
            trained.model.score_one(lead)["probability"], abs=1e-12
        )


# -- verdicts -----------------------------------------------------------------------------------
def test_verdict_rule_on_every_lead(batch: list[LeadExplanation]) -> None:
    seen = {True: 0, False: 0}
    for e in batch:
        for name in BANT:
            v = e.criteria[name]
            if v.met is not None:
                assert v.met == (v.contribution > 0)
                seen[v.met] += 1
        met = sum(e.criteria[c].met is True for c in BANT)
        unknown = sum(e.criteria[c].met is None for c in BANT)
        expected = True if met >= 3 else False if met + unknown < 3 else None
        assert e.qualified is expected
    assert seen[True] > 0 and seen[False] > 0
    assert any(e.qualified for e in batch) and any(e.qualified is False for e in batch)


def test_unknown_when_every_feature_of_a_criterion_is_missing(
    trained: TrainResult, sample: pd.DataFrame
) -> None:
    model = trained.model
    lead = records(sample.head(1))[0]
    budget_features = explain_lead(model, lead).criteria["budget"].features
    assert set(budget_features) == {"annual_revenue", "budget_range", "pricing_page_views"}
    blank = {**lead, **dict.fromkeys(budget_features, None)}
    blank["budget_range"] = "Select"  # a CRM placeholder is missing too
    e = explain_lead(model, blank)
    assert e.criteria["budget"].met is None
    # missing values still move the score (missing is informative), but decide nothing
    assert math.isfinite(e.criteria["budget"].contribution)
    partly = {**lead, "annual_revenue": None, "budget_range": None, "pricing_page_views": 3}
    assert explain_lead(model, partly).criteria["budget"].met is not None
    # all four unknown: the verdict cannot be judged (not "not qualified"), and each is a question
    nothing = {**lead, **{f: None for c in BANT for f in e.criteria[c].features}}
    empty = explain_lead(model, nothing)
    assert all(empty.criteria[c].met is None for c in BANT)
    assert empty.qualified is None
    assert [q.criterion for q in empty.questions] == list(BANT)
    assert empty.questions[0].text == "Ask about budget: not stated"


def test_criterion_with_no_features_is_unknown(trained: TrainResult, sample: pd.DataFrame) -> None:
    e = explain_lead(trained.model, records(sample.head(1))[0], framework="gpct")
    assert e.criteria["goals"].features == ()
    assert e.criteria["goals"].met is None
    assert e.criteria["goals"].contribution == 0.0
    assert e.framework == "gpct"


def test_unknown_framework_is_a_clear_error(trained: TrainResult) -> None:
    with pytest.raises(SchemaError, match=r"unknown qualification framework 'meddic'.*bant"):
        explain_lead(trained.model, {}, framework="meddic")


# -- reasons ------------------------------------------------------------------------------------
def test_reasons_are_the_top_three_of_each_sign(
    trained: TrainResult, sample: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    """Among the values the lead has (a missing field is never a reason for or against) and
    the pushes of at least half a point."""
    x = trained.model.matrix(sample)
    names = trained.model.feature_names
    for row, e in zip(x, batch, strict=True):
        present = {n for n, v in zip(names, row, strict=True) if v == v}
        big = {n for n, v in e.feature_points.items() if abs(v) >= MIN_REASON_POINTS}
        given = {n: c for n, c in e.contributions.items() if n in present & big}
        ranked = sorted(given.items(), key=lambda kv: kv[1])
        top_pos = [n for n, c in reversed(ranked) if c > 0][:3]
        top_neg = [n for n, c in ranked if c < 0][:3]
        assert [r.feature for r in e.positive] == top_pos
        assert [r.feature for r in e.negative] == top_neg
        for r in [*e.positive, *e.negative]:
            assert r.contribution == e.contributions[r.feature]
            assert r.points == pytest.approx(e.feature_points[r.feature], abs=1e-12)


def test_reasons_use_display_words_not_column_names_and_no_pii(
    trained: TrainResult, sample: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    schema = trained.model.schema
    named = [f.name for f in schema.features if f.display and "_" in f.name]
    assert named, "the synthetic schema has display names for its snake_case columns"
    for row, e in zip(records(sample), batch, strict=True):
        pii_values = [str(row[c]) for c in schema.pii]
        for r in [*e.positive, *e.negative]:
            assert r.feature not in schema.pii
            assert not any(col in r.text for col in named), r.text
            assert not any(value in r.text for value in pii_values), r.text
            assert not re.search(r"\b(None|nan|NaN|<NA>)\b", r.text), r.text
            assert not re.search(r"\d\.0\b", r.text), r.text  # 45, not 45.0
    texts = {r.text for e in batch for r in [*e.positive, *e.negative]}
    assert "Requested a demo" in texts or "Has not requested a demo" in texts
    assert any(t.startswith("Budget ") for t in texts)


def test_pii_in_the_request_changes_nothing(trained: TrainResult, sample: pd.DataFrame) -> None:
    lead = records(sample.head(1))[0]
    other = {**lead, "full_name": "Zed Zedson", "email": "zed@zed.example", "phone": "+1 555"}
    assert (
        explain_lead(trained.model, lead).to_dict() == explain_lead(trained.model, other).to_dict()
    )
    text = json.dumps(explain_lead(trained.model, other).to_dict())
    assert "Zed" not in text and "zed@" not in text and "full_name" not in text


def test_reason_wording_from_templates_and_fallbacks() -> None:
    budget = FeatureSpec(
        name="budget_range", kind="ordinal", levels=["a"], display="Budget", reason="Budget {value}"
    )
    assert reason_text(budget, "budget_range", "ordinal", "50k–100k") == "Budget 50k–100k"
    assert reason_text(budget, "budget_range", "ordinal", None) == "Budget not stated"
    demo = FeatureSpec(name="demo", kind="boolean", reason_true="Requested a demo")
    assert reason_text(demo, "demo", "boolean", True) == "Requested a demo"
    assert reason_text(demo, "demo", "boolean", False) == "Demo: no"
    days = FeatureSpec(name="days", kind="numeric", reason="No activity for {value} days")
    assert reason_text(days, "days", "numeric", 45.0) == "No activity for 45 days"
    assert reason_text(days, "days", "numeric", 1.0) == "No activity for 1 day"
    opens = FeatureSpec(name="opens", kind="numeric", reason="Opened {value} emails")
    assert reason_text(opens, "opens", "numeric", 11.0) == "Opened 11 emails"
    assert reason_text(opens, "opens", "numeric", 1.0) == "Opened 1 email"
    revenue = FeatureSpec(name="annual_revenue", kind="numeric", display="Annual revenue")
    assert reason_text(revenue, "annual_revenue", "numeric", None) == "Annual revenue unknown"
    assert reason_text(revenue, "annual_revenue", "numeric", 12_300_000.0) == (
        "Annual revenue: 12.3M"
    )
    # bring-your-own columns: no spec, no template
    assert reason_text(None, "num_calls", "numeric", 1200.0) == "Num calls: 1,200"
    assert reason_text(None, "lead_origin", "categorical", "API") == "Lead origin: API"
    month = FeatureSpec(name="m", kind="month", source="created", display="Month created")
    assert reason_text(month, "m", "month", 3) == "Month created: March"
    day = FeatureSpec(name="d", kind="weekday", source="created", reason="Came in on a {value}")
    assert reason_text(day, "d", "weekday", 0) == "Came in on a Monday"
    age = FeatureSpec(
        name="a", kind="age_days", source="created", reason="Created {value} days ago"
    )
    assert reason_text(age, "a", "age_days", 44.63) == "Created 45 days ago"
    assert reason_text(age, "a", "age_days", None) == "A unknown"
    stray = FeatureSpec(name="x", kind="numeric", display="Visits", reason="{oops} visits")
    assert reason_text(stray, "x", "numeric", 3.0) == "Visits: 3"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (45.0, "45"),
        (1200.0, "1,200"),
        (3.5, "3.5"),
        (12.25, "12.2"),
        (0.25, "0.25"),
        (-7.0, "-7"),
        (99_999.0, "99,999"),
        (350_000.0, "350k"),
        (2_400_000.0, "2.4M"),
        (999_960.0, "1M"),
        (7_000_000_000.0, "7B"),
    ],
)
def test_numbers_read_like_people_write_them(value: float, text: str) -> None:
    assert format_number(value) == text


# -- surfaces -----------------------------------------------------------------------------------
def test_to_dict_is_json_ready(batch: list[LeadExplanation]) -> None:
    data = json.loads(json.dumps(batch[0].to_dict(), allow_nan=False))
    assert set(data["criteria"]) >= set(BANT)
    assert data["criteria"]["budget"]["met"] in (True, False, None)
    assert isinstance(data["positive"], list) and data["qualified"] in (True, False, None)
    assert isinstance(data["questions"], list) and data["framework"] == "bant"
    assert len(data["contributions"]) == len(batch[0].contributions)


def test_explanation_columns(trained: TrainResult, sample: pd.DataFrame) -> None:
    model = trained.model
    frame = sample.head(60).copy()
    frame.loc[frame.index[0], ["annual_revenue", "budget_range", "pricing_page_views"]] = None
    frame.index = frame.index + 1000  # kept as given
    cols = explanation_columns(model, frame)
    assert list(cols.index) == list(frame.index)
    for c in BANT:
        assert f"{c}_points" in cols and f"{c}_met" in cols
    assert pd.isna(cols["budget_met"].iloc[0])
    expected = explain_matrix(model, model.matrix(frame))
    # points of every bucket add up to the score minus the average lead's score
    points_cols = [c for c in cols if c.endswith("_points")]
    gained = [100 * e.probability - e.base_score for e in expected]
    np.testing.assert_allclose(cols[points_cols].sum(axis=1), gained, atol=1e-6)
    assert [None if pd.isna(q) else bool(q) for q in cols["qualified"]] == [
        e.qualified for e in expected
    ]
    assert cols["questions"].tolist() == [" | ".join(q.text for q in e.questions) for e in expected]
    assert cols["reasons"].tolist() == [" | ".join(r.text for r in e.positive) for e in expected]
    assert cols["concerns"].tolist() == [" | ".join(r.text for r in e.negative) for e in expected]
    assert explanation_columns(model, frame.head(0)).empty


def reference_columns(model, frame: pd.DataFrame, framework: str) -> pd.DataFrame:
    """``explanation_columns`` as it was before the batch reasons were vectorised: the same
    numpy roll-ups, then ``_reasons`` (the per-lead path the API still uses) lead by lead."""
    plan = plan_for(model, framework)
    x = model.matrix(frame)
    contrib = model.contributions(x)
    k = len(plan.names)
    phi, base = contrib[:, :k], contrib[:, k]
    explained = explain_matrix(model, x, framework)
    columns: dict = {}
    for name in plan.buckets:
        columns[f"{name}_points"] = [e.criteria[name].points for e in explained]
        if name in framework_criteria(plan.framework):
            columns[f"{name}_met"] = pd.array(
                [e.criteria[name].met for e in explained], dtype="boolean"
            )
    columns["qualified"] = pd.array([e.qualified for e in explained], dtype="boolean")
    # Fit and engagement, one lead at a time (the API's path) against the table's.
    columns["fit_score"] = pd.array([e.fit for e in explained], dtype="Int64")
    columns["engagement_score"] = pd.array([e.engagement for e in explained], dtype="Int64")
    reasons, concerns = [], []
    phis, xs, bases = phi.tolist(), x.tolist(), base.tolist()
    for i, e in enumerate(explained):
        scale, _ = lead_point_scale(model.calibrator, bases[i] + sum(phis[i]), bases[i])
        positive, negative = _reasons(model, plan, phis[i], xs[i], scale)
        reasons.append(REASON_SEPARATOR.join(r.text for r in positive))
        concerns.append(REASON_SEPARATOR.join(r.text for r in negative))
        assert [r.text for r in positive] == [r.text for r in e.positive]
    columns["reasons"] = reasons
    columns["concerns"] = concerns
    columns["questions"] = [REASON_SEPARATOR.join(q.text for q in e.questions) for e in explained]
    assert np.allclose(base + phi.sum(axis=1), model.raw_scores(x), atol=1e-6)
    return pd.DataFrame(columns, index=frame.index)


@pytest.fixture(scope="module")
def blanked() -> pd.DataFrame:
    """3,000 fresh leads with one cell in ten of every feature column blanked (plus the
    synthetic data's own gaps), so missing values reach the reasons of many leads."""
    frame = generate_leads(3_000, seed=2024).drop(columns=["converted"])
    rng = np.random.default_rng(5)
    skip = {"lead_id", "full_name", "email", "phone", "created_at"}
    for col in frame.columns:
        if col not in skip:
            frame[col] = frame[col].astype(object).mask(rng.random(len(frame)) < 0.1, None)
    frame.index = pd.RangeIndex(10_000, 10_000 + len(frame), name="row")
    return frame


@pytest.mark.parametrize("framework", ["bant", "gpct"])
def test_explanation_columns_equal_the_per_lead_reference(
    trained: TrainResult, blanked: pd.DataFrame, framework: str
) -> None:
    """The vectorised batch reasons are the per-lead ``_reasons`` to the character, and every
    other column is unchanged (values, dtypes, order, index)."""
    model = trained.model
    expected = reference_columns(model, blanked, framework)
    got = explanation_columns(model, blanked, framework)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=0, atol=1e-9)
    assert got["reasons"].tolist() == expected["reasons"].tolist()
    assert got["concerns"].tolist() == expected["concerns"].tolist()
    # the data reaches the cases that matter: missing values asked about (never reasons),
    # short lists, both signs
    texts = " | ".join(got["reasons"]) + " | " + " | ".join(got["concerns"])
    assert "not stated" not in texts and "unknown" not in texts
    assert got["questions"].str.contains("not stated").sum() > 100
    counts = got["reasons"].str.count(r" \| ")
    assert counts.max() == 2
    x = model.matrix(blanked)
    given = explanation_columns(model, blanked, framework, x=x)
    pd.testing.assert_frame_equal(given, expected, check_exact=False, rtol=0, atol=1e-9)


def test_batch_reasons_break_ties_like_the_per_lead_sort(
    trained: TrainResult, blanked: pd.DataFrame
) -> None:
    """Real contributions almost never tie; made-up ones on a grid of quarters tie all the
    time, and hold exact zeros (also -0.0), so the stable order and the "0 says nothing" rule
    are checked against ``_reasons`` feature by feature and character by character."""
    model = trained.model
    plan = plan_for(model, "bant")
    x = model.matrix(blanked.head(2_000))
    rng = np.random.default_rng(11)
    phi = rng.integers(-2, 3, size=x.shape) * 0.25
    phi[:20] = 0.0  # nothing to say
    phi[20:40] = -0.0
    phi[40:60] = 0.5  # every feature tied
    phi[60:80] = -0.25
    phi[80:100, ::2] = 0.0  # fewer than three of a sign
    masked = np.where(~np.isnan(x) & plan.wordable, phi, 0.0)
    positive, positive_ok, negative, negative_ok = top_reasons(masked)
    scale = np.full(len(x), 4.0)  # a quarter of log-odds is a point: every push is listed
    reasons, concerns = batch_reasons(model, plan, x, phi, scale)
    for i, (p, row) in enumerate(zip(phi.tolist(), x.tolist(), strict=True)):
        pos, neg = _reasons(model, plan, p, row, 4.0)
        assert [plan.names[j] for j in positive[i][positive_ok[i]]] == [r.feature for r in pos]
        assert [plan.names[j] for j in negative[i][negative_ok[i]]] == [r.feature for r in neg]
        assert reasons[i] == REASON_SEPARATOR.join(r.text for r in pos)
        assert concerns[i] == REASON_SEPARATOR.join(r.text for r in neg)
    assert reasons[:40] == [""] * 40 and concerns[:40] == [""] * 40
    # fewer features than reasons, and no rows at all
    narrow = np.array([[0.5, 0.5], [-1.0, 2.0], [0.0, -0.0]])
    pos, pos_ok, neg, neg_ok = top_reasons(narrow)
    assert [list(p[ok]) for p, ok in zip(pos, pos_ok, strict=True)] == [[1, 0], [1], []]
    assert [list(n[ok]) for n, ok in zip(neg, neg_ok, strict=True)] == [[], [0], []]
    assert batch_reasons(model, plan, x[:0], phi[:0], scale[:0]) == ([], [])


def test_pushes_under_half_a_point_are_never_listed(
    trained: TrainResult, blanked: pd.DataFrame, batch: list[LeadExplanation]
) -> None:
    """One rule for the API (``_reasons``) and the table (``batch_reasons``): a push below
    half a point of the score is noise to a rep; a lead whose pushes are all tiny gets an
    honest empty list."""
    model = trained.model
    tiny = 0
    for e in batch:
        assert all(abs(r.points) >= MIN_REASON_POINTS for r in [*e.positive, *e.negative])
        ranked = sorted(e.feature_points.values(), key=abs, reverse=True)
        tiny += sum(0 < abs(v) < MIN_REASON_POINTS for v in ranked[:6])
    assert tiny > 0  # the data reaches the case: tiny pushes among a lead's six largest
    plan = plan_for(model, "bant")
    x = model.matrix(blanked.head(500))
    rng = np.random.default_rng(3)
    phi = rng.normal(0, 0.05, size=x.shape)  # every push between about −0.2 and +0.2 log-odds
    phi[:, 0] = 0.3
    for scale, listed in ((1.0, False), (1.7, True)):  # 0.3 log-odds: 0.3 or 0.51 points
        reasons, concerns = batch_reasons(model, plan, x, phi, np.full(len(x), scale))
        for i, (p, row) in enumerate(zip(phi.tolist(), x.tolist(), strict=True)):
            pos, neg = _reasons(model, plan, p, row, scale)
            assert reasons[i] == REASON_SEPARATOR.join(r.text for r in pos)
            assert concerns[i] == REASON_SEPARATOR.join(r.text for r in neg)
            assert not neg
            assert [r.feature for r in pos] == (
                [plan.names[0]] if listed and row[0] == row[0] else []
            )


def test_explain_frame_cards_render(trained: TrainResult, sample: pd.DataFrame) -> None:
    cards = explanation_cards(trained.model, sample.head(2))
    console = Console(record=True, width=100)
    for card in cards:
        console.print(card)
    text = console.export_text()
    for lead_id in sample["lead_id"].head(2):
        assert f"Lead {lead_id}" in text
    for word in ("Budget", "Authority", "Need", "Timing"):
        assert word in text
    assert "score " in text and "BANT" in text
    # where points start, beside the share that converts (never two unexplained averages)
    wide = Console(record=True, width=400)
    wide.print(cards[0])
    assert re.search(
        r"points from the average lead's \d+ \(\d+ % of leads convert", wide.export_text()
    )


def test_waterfall_png_by_criterion(tmp_path: Path, batch: list[LeadExplanation]) -> None:
    path = waterfall_png(batch[0], tmp_path / "lead.png", title="Lead L1")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


# -- CLI ----------------------------------------------------------------------------------------
def test_cli_explain_card_png_and_score_explain(
    trained: TrainResult, sample: pd.DataFrame, home: Path
) -> None:
    from typer.testing import CliRunner

    from leadml.cli import app

    data = home / "new.csv"
    sample.drop(columns=["converted"]).to_csv(data, index=False)
    bundle = str(trained.bundle)
    lead_id = str(sample["lead_id"].iloc[5])
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "explain",
            "--model",
            bundle,
            "--data",
            str(data),
            "--id",
            lead_id,
            "--png",
            str(home / "card.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"Lead {lead_id}" in result.output and "Budget" in result.output
    assert (home / "card.png").read_bytes()[:4] == b"\x89PNG"
    for row in sample.iloc[[5]][trained.model.schema.pii].to_numpy().ravel():
        assert str(row) not in result.output

    missing = runner.invoke(app, ["explain", "--model", bundle, "--data", str(data), "--id", "X1"])
    assert missing.exit_code == 2
    assert "no lead with lead_id 'X1'" in missing.output
    assert "Traceback" not in missing.output

    out = home / "scored.csv"
    scored = runner.invoke(
        app, ["score", "--model", bundle, "--data", str(data), "--out", str(out), "--explain"]
    )
    assert scored.exit_code == 0, scored.output
    table = pd.read_csv(out)
    assert table.columns[0] == "lead_id"
    for c in BANT:
        assert f"{c}_points" in table and f"{c}_met" in table
    assert {"qualified", "reasons", "concerns", "questions", "probability", "grade"} <= set(table)
    expected = explanation_columns(trained.model, sample)
    np.testing.assert_allclose(table["need_points"], expected["need_points"], atol=1e-9)
    assert table["reasons"].fillna("").tolist() == expected["reasons"].tolist()


# -- a web-form export's traits: zero counts that push up, weekdays --------------------------------
@pytest.fixture(scope="module")
def form_model(tmp_path_factory: pytest.TempPathFactory):
    """A small model on a hand-made export where leads with no page views convert best (added
    by hand, never browsing) and weekend leads convert more: both traits of a real export."""
    from leadml.config import Settings
    from leadml.data.suggest import suggest_schema
    from leadml.modeling.train import train_leads

    rng = np.random.default_rng(26)
    n = 3_000
    created = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    views = np.where(rng.random(n) < 0.3, 0, rng.integers(1, 12, n))
    weekend = created.weekday >= 5
    odds = np.where(views == 0, 1.2, -2.5 + 0.15 * views) + 1.5 * weekend
    frame = pd.DataFrame(
        {
            "lead_number": np.arange(n),
            "created_at": created.strftime("%Y-%m-%d"),
            "page_views_per_visit": views,
            "converted": (rng.random(n) < 1 / (1 + np.exp(-odds))).astype(int),
        }
    )
    schema = suggest_schema(frame, "converted").schema
    home = tmp_path_factory.mktemp("form-model")
    settings = Settings(home=home, num_threads=1)
    model = train_leads(frame, schema, settings, out=home / "m", track=False).model
    return model, frame.drop(columns=["converted"]).head(600)


def test_a_zero_that_pushes_up_says_why(form_model) -> None:
    model, frame = form_model
    explained = explain_matrix(model, model.matrix(frame))
    zero = [
        r
        for row, e in zip(frame.to_dict("records"), explained, strict=True)
        for r in e.positive
        if r.feature == "page_views_per_visit" and row["page_views_per_visit"] == 0
    ]
    assert zero, "leads with no page views are pushed up by it"
    for r in zero:
        assert r.text.endswith("(leads with none convert more often here)"), r.text
    # a concern at 0 needs no excuse, and the table says what the API says
    for e in explained:
        assert not any("convert more often" in r.text for r in e.negative)
    cols = explanation_columns(model, frame)
    assert cols["reasons"].tolist() == [" | ".join(r.text for r in e.positive) for e in explained]


def test_date_parts_are_no_reasons_but_still_count(form_model) -> None:
    """ "Created at: a Saturday" is never listed, though the weekday moves the score (its
    points stay in the calendar group); a schema that words it makes it a reason."""
    from dataclasses import replace

    import lightgbm as lgb

    model, frame = form_model
    day = next(f for f in model.schema.features if f.kind == "weekday")
    explained = explain_matrix(model, model.matrix(frame))
    assert all(r.feature != day.name for e in explained for r in [*e.positive, *e.negative])
    calendar = [abs(e.criteria["calendar"].points) for e in explained]
    assert max(calendar) >= 2 * MIN_REASON_POINTS  # big enough to have been listed
    cols = explanation_columns(model, frame)
    assert not cols["reasons"].str.contains("Created at").any()
    assert not cols["concerns"].str.contains("Created at").any()
    worded = [
        f.model_copy(update={"reason": "Came in on a {value}"}) if f.name == day.name else f
        for f in model.schema.features
    ]
    booster = lgb.Booster(model_str=model.booster.model_to_string())  # its own roll-up tables
    said = replace(
        model, booster=booster, schema=model.schema.model_copy(update={"features": worded})
    )
    texts = [
        r.text for e in explain_matrix(said, said.matrix(frame)) for r in [*e.positive, *e.negative]
    ]
    assert any(t.startswith("Came in on a ") for t in texts)
