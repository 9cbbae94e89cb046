"""Model behaviour that sales relies on: better BANT answers never lower a score.

The synthetic schema declares ``monotone = 1`` on the four ordinal BANT answers (and on demo
requests and pricing views, ``-1`` on days since last activity); training passes them to
LightGBM as ``monotone_constraints``. These tests check both halves: the constraint reaches the
booster, and the scores obey it on real leads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.bundle.model import LeadModel
from leadml.modeling.finish import TrainResult
from leadml.schema import LeadSchema

BANT_ANSWERS = ("budget_range", "decision_role", "stated_need", "purchase_timeline")


def test_schema_declares_the_bant_answers_monotone(schema: LeadSchema) -> None:
    for name in BANT_ANSWERS:
        spec = schema.feature(name)
        assert spec.kind == "ordinal" and spec.monotone == 1, name


def test_monotone_constraints_reach_lightgbm(trained: TrainResult, schema: LeadSchema) -> None:
    model = trained.model
    expected = [schema.feature(n).monotone for n in model.feature_names]
    assert model.encoder.monotone == expected
    assert [int(v) for v in model.booster.params["monotone_constraints"]] == expected
    saved = LeadModel.load(trained.bundle)
    text = saved.booster.model_to_string()
    line = next(row for row in text.splitlines() if row.startswith("monotone_constraints="))
    assert [int(v) for v in line.split("=", 1)[1].split()] == expected


def _answered(leads: pd.DataFrame, schema: LeadSchema, n: int = 1500) -> pd.DataFrame:
    """Leads that answered all four BANT questions (a missing answer is not ranked)."""
    answered = leads
    for name in BANT_ANSWERS:
        answered = answered[answered[name].isin(schema.feature(name).levels)]
    return answered.tail(n).reset_index(drop=True)


def _raise(frame: pd.DataFrame, schema: LeadSchema, names: tuple[str, ...], steps: int):
    out = frame.copy()
    for name in names:
        levels = schema.feature(name).levels
        rank = out[name].map({lvl: i for i, lvl in enumerate(levels)})
        out[name] = [levels[min(r + steps, len(levels) - 1)] for r in rank]
    return out


def test_improving_all_four_bant_answers_never_lowers_a_score(
    trained: TrainResult, leads: pd.DataFrame, schema: LeadSchema
) -> None:
    model = trained.model
    base = _answered(leads, schema)
    before = model.raw_scores(model.matrix(base))
    better = _raise(base, schema, BANT_ANSWERS, 1)
    after = model.raw_scores(model.matrix(better))
    assert np.all(after >= before - 1e-12)
    assert np.mean(after > before + 1e-6) > 0.5  # and usually raises it
    p_before, p_after = (
        model.predict_proba(model.matrix(base)),
        model.predict_proba(model.matrix(better)),
    )
    assert np.all(p_after >= p_before - 1e-12)  # calibration keeps the order


@pytest.mark.parametrize("name", BANT_ANSWERS)
def test_each_answer_alone_is_monotone(
    trained: TrainResult, leads: pd.DataFrame, schema: LeadSchema, name: str
) -> None:
    model = trained.model
    base = _answered(leads, schema, 400)
    levels = schema.feature(name).levels
    scores = np.column_stack(
        [model.raw_scores(model.matrix(base.assign(**{name: level}))) for level in levels]
    )
    assert np.all(np.diff(scores, axis=1) >= -1e-12)


def test_engagement_constraints(trained: TrainResult, leads: pd.DataFrame) -> None:
    model = trained.model
    base = leads.tail(600).reset_index(drop=True)
    raw = lambda frame: model.raw_scores(model.matrix(frame))  # noqa: E731
    assert np.all(raw(base.assign(demo_requested="Yes")) >= raw(base.assign(demo_requested="No")))
    stale = base.assign(days_since_last_activity=base["days_since_last_activity"] + 30)
    assert np.all(raw(stale) <= raw(base) + 1e-12)
    keen = base.assign(pricing_page_views=base["pricing_page_views"] + 3)
    assert np.all(raw(keen) >= raw(base) - 1e-12)


def test_better_answers_flip_bant_verdicts_the_right_way(
    trained: TrainResult, leads: pd.DataFrame, schema: LeadSchema
) -> None:
    """Explanations follow the model: with the top answer to every BANT question, nearly every
    lead reads as BANT qualified (SHAP verdicts are not bound by the monotone constraint lead by
    lead, as other fields interact, so this is a share, not a rule)."""
    from leadml.explain.attributions import explain_matrix

    model = trained.model
    base = _answered(leads, schema, 300)
    best = _raise(base, schema, BANT_ANSWERS, 10)
    before = explain_matrix(model, model.matrix(base))
    after = explain_matrix(model, model.matrix(best))
    assert sum(a.qualified is True for a in after) >= sum(b.qualified is True for b in before)
    share_before = np.mean([b.qualified is True for b in before])
    share_after = np.mean([a.qualified is True for a in after])
    # Not 100%: a criterion also holds activity fields (timing: days since last activity,
    # budget: company revenue) that the answers do not change.
    assert share_after > 0.75 and share_after > share_before + 0.3
