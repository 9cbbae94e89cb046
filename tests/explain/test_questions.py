"""Reasons a rep would sign: a missing value is never a reason for or against a lead; unknown
criteria become questions to ask; the verdict can be "cannot judge yet"; pushes are in points
of the 0–100 score and add up to it; the framework chosen names itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.synthetic import generate_leads
from leadml.explain.attributions import explain_lead, explain_matrix, explanation_columns
from leadml.explain.verdicts import needed, qualified
from leadml.modeling.finish import TrainResult
from leadml.schema.frameworks import framework_criteria, framework_names

PII = ("lead_id", "full_name", "email", "phone", "created_at", "converted")


@pytest.fixture(scope="module")
def holey() -> pd.DataFrame:
    """2,000 fresh leads, each with a random number of its fields left out (0 to all)."""
    frame = generate_leads(2_000, seed=913).drop(columns=["converted"])
    rng = np.random.default_rng(13)
    columns = [c for c in frame.columns if c not in PII]
    share = rng.random(len(frame))  # per lead: how much of it is missing
    for col in columns:
        frame[col] = frame[col].astype(object).mask(rng.random(len(frame)) < share, None)
    return frame


@pytest.mark.parametrize("framework", ["bant", "champ", "faint", "gpct"])
def test_no_missing_value_is_ever_a_reason_and_unknown_criteria_are_questions(
    trained: TrainResult, holey: pd.DataFrame, framework: str
) -> None:
    model = trained.model
    x = model.matrix(holey)
    names = model.feature_names
    explained = explain_matrix(model, x, framework)
    asked = unknown_seen = 0
    for row, e in zip(x, explained, strict=True):
        missing = {n for n, v in zip(names, row, strict=True) if v != v}
        for r in [*e.positive, *e.negative]:
            assert r.feature not in missing, (r.feature, r.text)
            assert "unknown" not in r.text and "not stated" not in r.text, r.text
        questions = {q.criterion: q for q in e.questions}
        for criterion in framework_criteria(framework):
            if not e.criteria[criterion].features:  # unrecorded (GPCT's goals): never asked
                assert criterion not in questions, (criterion, e.questions)
            elif e.criteria[criterion].met is None:
                unknown_seen += 1
                assert criterion in questions, (criterion, e.questions)
                assert questions[criterion].text.startswith("Ask about ")
        for q in e.questions:
            assert set(q.fields) <= missing or not q.fields, (q, missing)
        asked += bool(e.questions)
    assert unknown_seen > 100 and asked > 500  # the data reaches the cases that matter


def test_batch_columns_say_the_same_as_the_lead_path(
    trained: TrainResult, holey: pd.DataFrame
) -> None:
    model = trained.model
    head = holey.head(300)
    columns = explanation_columns(model, head, "champ")
    explained = explain_matrix(model, model.matrix(head), "champ")
    assert columns["questions"].tolist() == [
        " | ".join(q.text for q in e.questions) for e in explained
    ]
    assert columns["reasons"].tolist() == [
        " | ".join(r.text for r in e.positive) for e in explained
    ]
    for name in framework_criteria("champ"):
        np.testing.assert_allclose(
            columns[f"{name}_points"], [e.criteria[name].points for e in explained], atol=1e-9
        )


def test_points_add_up_to_the_score(trained: TrainResult, holey: pd.DataFrame) -> None:
    model = trained.model
    x = model.matrix(holey.head(500))
    probability = model.predict_proba(x)
    for p, e in zip(probability, explain_matrix(model, x), strict=True):
        total = sum(v.points for v in e.criteria.values())
        assert e.base_score + total == pytest.approx(100 * p, abs=1e-6)
        assert sum(e.feature_points.values()) == pytest.approx(total, abs=1e-6)
        for name, v in e.criteria.items():  # same sign as the log-odds push
            assert np.sign(v.points) == np.sign(v.contribution) or abs(v.points) < 1e-12, name


def test_an_empty_lead_cannot_be_judged_and_is_all_questions(trained: TrainResult) -> None:
    for framework in framework_names():
        e = explain_lead(trained.model, {}, framework)
        recorded = [c for c in framework_criteria(framework) if e.criteria[c].features]
        assert e.qualified is None, framework
        assert e.positive == [] and e.negative == []
        assert [q.criterion for q in e.questions] == recorded
        assert e.framework == framework
    # GPCT's goals has no ``goals`` tag: said once per model, not asked on every lead.
    gpct = explain_lead(trained.model, {}, "gpct")
    assert [q.criterion for q in gpct.questions] == ["plans", "challenges", "timeline"]
    assert not any("no field records it" in q.text for q in gpct.questions)


def test_a_partly_answered_criterion_asks_for_its_answer(
    trained: TrainResult, leads: pd.DataFrame
) -> None:
    lead = {k: v for k, v in leads.iloc[0].to_dict().items() if v == v}
    lead.update(purchase_timeline=None, demo_requested=True, days_since_last_activity=3)
    e = explain_lead(trained.model, lead)
    assert e.criteria["timing"].met is not None  # judged from the demo and the activity
    texts = [q.text for q in e.questions]
    assert "Ask about timing: purchase timeline not stated" in texts


@pytest.mark.parametrize(
    ("met", "unknown", "criteria", "expected"),
    [
        (3, 0, 4, True),
        (3, 1, 4, True),
        (2, 1, 4, None),
        (2, 0, 4, False),
        (0, 4, 4, None),
        (0, 2, 4, False),
        (1, 2, 4, None),
        (4, 0, 5, True),
        (3, 1, 5, None),
        (3, 0, 5, False),
        (3, 0, 3, True),  # timing not recorded: 3 of the 3 recorded
        (2, 1, 3, None),
        (2, 0, 3, False),
        (2, 0, 2, True),
        (1, 1, 2, None),
        (1, 0, 1, None),  # one recorded criterion: no lead is judged
        (0, 0, 1, None),
    ],
)
def test_qualified_rule(met: int, unknown: int, criteria: int, expected: bool | None) -> None:
    assert qualified(met, unknown, criteria) is expected
    assert needed(4) == 3 and needed(5) == 4
