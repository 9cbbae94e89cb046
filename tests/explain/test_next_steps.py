"""Next steps: the smallest rep-actionable change per unmet criterion that raises the grade.

Every promise is checked by rescoring the changed *raw* lead through the serving path
(``encode_row``) and the batch path (``model.matrix``), never by reusing the module's numbers.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from leadml.data.synthetic import generate_leads
from leadml.explain.attributions import explain_lead, explain_matrix
from leadml.explain.next_steps import (
    NextStep,
    criteria_met,
    next_steps,
    next_steps_column,
    next_steps_one,
)
from leadml.explain.rollup import plan_for
from leadml.modeling.finish import TrainResult
from leadml.qualify.grades import GRADES
from leadml.schema.frameworks import criterion_label, framework_names

RANK = {g: i for i, g in enumerate(GRADES)}
#: Measured on the session model: 73-75 % of the 1,000 held-out leads below A get a step
#: (every framework). The floor is well under that, yet a search that missed unanswered
#: questions, booleans or pairs, or that misjudged grades, falls far below it.
MIN_SHARE_WITH_STEP = 0.5


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as an API client sends them: missing cells as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.fixture(scope="module")
def model(trained: TrainResult) -> LeadModel:
    return trained.model


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    """Leads the model never saw (the training leads use seed 7)."""
    return generate_leads(1_000, seed=99)


@pytest.fixture(scope="module")
def x(model: LeadModel, held_out: pd.DataFrame) -> np.ndarray:
    return model.matrix(held_out)


@pytest.fixture(scope="module")
def before(model: LeadModel, held_out: pd.DataFrame) -> list[dict]:
    """Each held-out lead's labels before any change, from the serving path."""
    return [model.score_one(lead) for lead in records(held_out)]


@pytest.fixture(scope="module")
def verdicts(model: LeadModel, x: np.ndarray) -> dict[str, list[dict[str, bool | None]]]:
    return {fw: [criteria_met(e) for e in explain_matrix(model, x, fw)] for fw in framework_names()}


@pytest.fixture(scope="module")
def steps(
    model: LeadModel, x: np.ndarray, verdicts: dict[str, list[dict[str, bool | None]]]
) -> dict[str, list[list[NextStep]]]:
    return {fw: next_steps(model, x, verdicts[fw], fw) for fw in framework_names()}


def changed(lead: dict, step: NextStep) -> dict:
    return {**lead, **step.change}


# -- (1) the promise holds ----------------------------------------------------------------------
def test_applying_a_step_to_the_raw_lead_gives_exactly_the_promised_score(
    model: LeadModel,
    held_out: pd.DataFrame,
    before: list[dict],
    steps: dict[str, list[list[NextStep]]],
) -> None:
    leads = records(held_out)
    checked = pairs = 0
    for per_lead in steps.values():
        index, rows = [], []
        for i, lead_steps in enumerate(per_lead):
            for step in lead_steps:
                # the serving path: one raw dict, encode_row, the one-row predictor
                row = model.encoder.encode_row(changed(leads[i], step))
                p = float(model.predict_proba(row, num_threads=1)[0])
                assert p == step.probability
                label = model.bands.label_one(p)
                assert (label["score"], label["grade"]) == (step.score, step.grade)
                assert RANK[step.grade] < RANK[before[i]["grade"]]
                index.append(i)
                rows.append(step)
                pairs += len(step.change) == 2
        # the batch path: the same changes written into raw table rows
        table = held_out.iloc[index].astype(object).reset_index(drop=True)
        for k, step in enumerate(rows):
            for name, value in step.change.items():
                table.at[k, name] = value
        labels = model.score_frame(table)
        assert labels["probability"].tolist() == [s.probability for s in rows]
        assert labels["score"].tolist() == [s.score for s in rows]
        assert labels["grade"].tolist() == [s.grade for s in rows]
        checked += len(rows)
    assert checked > 1_000 and pairs > 0  # every framework, singles and pairs alike


def test_the_change_is_the_smallest_that_raises_the_grade(
    model: LeadModel,
    held_out: pd.DataFrame,
    before: list[dict],
    steps: dict[str, list[list[NextStep]]],
) -> None:
    """No fewer ordinal steps would do, and a pair is only offered when no single would."""
    leads = records(held_out)
    plan = plan_for(model, "bant")
    feats = {name: [plan.names[j] for j in idx] for name, idx, _ in plan.criterion_index}

    def raises(i: int, change: dict) -> bool:
        grade = model.score_one({**leads[i], **change})["grade"]
        return RANK[grade] < RANK[before[i]["grade"]]

    lower_tried = singles_tried = 0
    for i, lead_steps in enumerate(steps["bant"]):
        for step in lead_steps:
            if len(step.change) == 1:
                ((name, value),) = step.change.items()
                spec = model.schema.feature(name)
                if spec.kind != "ordinal":
                    continue
                levels = list(spec.levels or [])
                now = leads[i][name]
                start = levels.index(now) + 1 if now in levels else 0
                for level in levels[start : levels.index(value)]:
                    assert not raises(i, {name: level}), (i, step, level)
                    lower_tried += 1
                continue
            for name in feats[step.criterion]:
                spec = model.schema.feature(name)
                if not spec.is_actionable:
                    continue
                options = [True] if spec.kind == "boolean" else list(spec.levels or [])
                for value in options:
                    assert not raises(i, {name: value}), (i, step, name, value)
                    singles_tried += 1
    assert lower_tried > 0 and singles_tried > 0


# -- (2) only what a rep can change -------------------------------------------------------------
def test_only_actionable_fields_are_ever_changed(
    model: LeadModel, steps: dict[str, list[list[NextStep]]]
) -> None:
    fixed_in_criteria = {
        plan_for(model, fw).names[j]
        for fw in framework_names()
        for _, idx, _ in plan_for(model, fw).criterion_index
        for j in idx
        if not model.schema.feature(plan_for(model, fw).names[j]).is_actionable
    }
    assert {"seniority", "job_title", "annual_revenue"} <= fixed_in_criteria  # there to be tempted
    seen = set()
    for per_lead in steps.values():
        for lead_steps in per_lead:
            for step in lead_steps:
                assert all(model.schema.feature(f).is_actionable for f in step.change), step
                seen |= set(step.change)
    assert not seen & fixed_in_criteria
    assert {"demo_requested", "webinar_attended"} <= seen  # schema-flagged booleans are used


def test_the_schema_flag_decides(
    model: LeadModel,
    x: np.ndarray,
    verdicts: dict[str, list[dict[str, bool | None]]],
    steps: dict[str, list[list[NextStep]]],
) -> None:
    """Unflag demo requests and they are never suggested again, on the very same booster."""
    assert any("demo_requested" in s.change for lead in steps["bant"] for s in lead)
    features = [
        f.model_copy(update={"actionable": False}) if f.name == "demo_requested" else f
        for f in model.schema.features
    ]
    unflagged = dataclasses.replace(
        model, schema=model.schema.model_copy(update={"features": features})
    )
    again = next_steps(unflagged, x, verdicts["bant"])
    assert not any("demo_requested" in s.change for lead in again for s in lead)


# -- (3) grade A, (4) coverage, (5) met criteria -------------------------------------------------
def test_grade_a_leads_get_no_steps_and_most_others_get_one(
    before: list[dict], steps: dict[str, list[list[NextStep]]]
) -> None:
    grade_a = [i for i, b in enumerate(before) if b["grade"] == "A"]
    others = [i for i, b in enumerate(before) if b["grade"] != "A"]
    assert len(grade_a) >= 20 and len(others) >= 500
    for per_lead in steps.values():
        assert all(per_lead[i] == [] for i in grade_a)
        share = sum(bool(per_lead[i]) for i in others) / len(others)
        assert share > MIN_SHARE_WITH_STEP, share


def test_a_criterion_already_met_gets_no_step(
    model: LeadModel,
    x: np.ndarray,
    verdicts: dict[str, list[dict[str, bool | None]]],
    steps: dict[str, list[list[NextStep]]],
) -> None:
    for fw, per_lead in steps.items():
        for met, lead_steps in zip(verdicts[fw], per_lead, strict=True):
            assert all(met[s.criterion] is not True for s in lead_steps)
            assert len({s.criterion for s in lead_steps}) == len(lead_steps)
    # Mark each stepped criterion met: exactly that step goes, the others stay as they were.
    rows = [i for i, lead_steps in enumerate(steps["bant"]) if lead_steps][:200]
    marked = [{**verdicts["bant"][i], steps["bant"][i][0].criterion: True} for i in rows]
    again = next_steps(model, x[rows], marked)
    assert again == [steps["bant"][i][1:] for i in rows]


# -- shape of the answer -------------------------------------------------------------------------
def test_steps_are_ordered_worded_and_json_ready(
    model: LeadModel, steps: dict[str, list[list[NextStep]]]
) -> None:
    per_lead = steps["bant"]
    cells = next_steps_column(model, per_lead)
    assert len(cells) == len(per_lead)
    for cell, lead_steps in zip(cells, per_lead, strict=True):
        assert [s.score for s in lead_steps] == sorted((s.score for s in lead_steps), reverse=True)
        assert cell.split(" | ") == ([s.text(model) for s in lead_steps] if lead_steps else [""])
        for step in lead_steps:
            data = json.loads(json.dumps(step.to_dict()))
            assert data == {**step.to_dict(), "change": dict(step.change)}
            assert step.score == round(step.probability * 100)
            text = step.text(model)
            assert text.startswith(f"{criterion_label(step.criterion)}: ")
            assert text.endswith(f"(score {step.score}, {step.grade})")
            for name, value in step.change.items():
                shown = "yes" if value is True else value
                assert f"{model.schema.feature(name).label} → {shown}" in text


def test_one_lead_on_the_serving_path_gets_the_batch_answer(
    model: LeadModel, held_out: pd.DataFrame, steps: dict[str, list[list[NextStep]]]
) -> None:
    leads = records(held_out)
    for i in range(0, 1_000, 10):
        explanation = explain_lead(model, leads[i], "gpct")
        row = model.encoder.encode_row(leads[i])
        assert next_steps_one(model, row, criteria_met(explanation), "gpct") == steps["gpct"][i]


def test_inputs_that_do_not_fit_are_refused(model: LeadModel, x: np.ndarray) -> None:
    with pytest.raises(ValueError, match="columns"):
        next_steps(model, x[:, :-1], [{}] * len(x))
    with pytest.raises(ValueError, match="verdicts"):
        next_steps(model, x[:3], [{}])
    assert next_steps(model, x[:0], []) == []


def test_an_unanswered_question_is_a_step_when_its_answer_would_move_the_grade(
    model: LeadModel, x: np.ndarray, steps: dict[str, list[list[NextStep]]]
) -> None:
    """A blank or "Select" answer is no answer: every level of it is a candidate."""
    names = model.encoder.names
    unanswered = [
        step
        for i, lead_steps in enumerate(steps["bant"])
        for step in lead_steps
        if all(np.isnan(x[i, names.index(f)]) for f in step.change)
    ]
    assert len(unanswered) >= 20
    assert {model.schema.feature(f).kind for s in unanswered for f in s.change} >= {"ordinal"}
