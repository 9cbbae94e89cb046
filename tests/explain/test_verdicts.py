"""A criterion no field records is a fact about the model, said once, and the verdict is over
the criteria that can be judged (issue 26): a real model of an export with authority and need
answers but no budget or timing field (``partial``), beside the session's model that records
all four, which must behave exactly as before."""

from __future__ import annotations

import itertools
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from leadml.bundle.model import LeadModel
from leadml.cli.render import explanation_cards
from leadml.explain.attributions import explain_matrix, explanation_columns
from leadml.explain.verdicts import QualifiedRule, needed, qualified_rule
from leadml.modeling.finish import TrainResult
from leadml.report.html import REPORT_FILE
from leadml.schema.frameworks import framework_criteria, framework_names
from tests.support.training import PARTIAL_MISSING

SENTENCE = "This export records no budget or timing field."


def with_holes(frame: pd.DataFrame, columns: list[str], seed: int) -> pd.DataFrame:
    """``frame`` with each lead missing a random share of ``columns`` (none to all)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    share = rng.random(len(out))
    for col in columns:
        out[col] = out[col].astype(object).mask(rng.random(len(out)) < share, None)
    return out


@pytest.fixture(scope="module")
def partial_leads(partial: TrainResult, leads: pd.DataFrame) -> pd.DataFrame:
    """1,000 leads the partial model never saw, with holes in the fields it reads."""
    model = partial.model
    kept = [c for c in leads.columns if c in model.feature_names or c == model.schema.id]
    return with_holes(leads.head(1_000)[kept], list(model.feature_names), seed=26)


def classic(met: dict[str, bool | None]) -> bool | None:
    """The verdict before issue 26, written out here: 3 of the framework's 4 criteria (4 of
    FAINT's 5), every criterion counted, unrecorded ones as unknown."""
    need = needed(len(met))
    yes = sum(1 for v in met.values() if v)
    unknown = sum(1 for v in met.values() if v is None)
    return True if yes >= need else False if yes + unknown < need else None


# -- the rule ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("criteria", "unrecorded", "need", "text"),
    [
        (("budget", "authority", "need", "timing"), (), 3, "at least 3 of its 4 criteria met"),
        (
            ("budget", "authority", "need", "timing"),
            ("timing",),
            3,
            "budget, authority and need all met",
        ),
        (
            ("budget", "authority", "need", "timing"),
            PARTIAL_MISSING,
            2,
            "authority and need both met",
        ),
        (
            ("funds", "authority", "interest", "need", "timing"),
            ("funds",),
            3,
            "at least 3 of authority, interest, need and timing met",
        ),
        (
            ("budget", "authority", "need", "timing"),
            ("budget", "need", "timing"),
            None,
            "cannot judge: this export records only authority",
        ),
        (
            ("budget", "authority", "need", "timing"),
            ("budget", "authority", "need", "timing"),
            None,
            "cannot judge: this export records none of its criteria",
        ),
    ],
)
def test_three_quarters_of_the_recorded_criteria_and_at_least_two_to_judge(
    criteria: tuple[str, ...], unrecorded: tuple[str, ...], need: int | None, text: str
) -> None:
    rule = QualifiedRule("bant", criteria, unrecorded)
    assert rule.need == need and rule.text == text
    assert rule.judges is (need is not None)
    # Every combination of met / not met / unknown, lead by lead and as a matrix: one answer.
    combos = list(itertools.product((1, 0, -1), repeat=len(criteria)))
    codes = rule.codes(np.array(combos, dtype=np.int8))
    for combo, code in zip(combos, codes.tolist(), strict=True):
        met = {c: {1: True, 0: False, -1: None}[v] for c, v in zip(criteria, combo, strict=True)}
        one = rule.judge(met)
        assert {True: 1, False: 0, None: -1}[one] == code, (combo, one, code)
        judged = [met[c] for c in criteria if c not in unrecorded]
        if need is None:
            assert one is None
        elif sum(v is True for v in judged) >= need:
            assert one is True
        elif sum(v is not False for v in judged) < need:
            assert one is False
        else:
            assert one is None
        if not unrecorded:  # every criterion recorded: exactly the classic rule
            assert one is classic(met)


def test_the_unrecorded_sentence_names_each_missing_criterion_once() -> None:
    bant = framework_criteria("bant")
    assert QualifiedRule("bant", bant).unrecorded_sentence is None
    assert QualifiedRule("bant", bant).sentence is None
    timing = QualifiedRule("bant", bant, ("timing",))
    assert timing.unrecorded_sentence == "This export records no timing field."
    assert timing.sentence == (
        "This export records no timing field. BANT qualified: budget, authority and need all met."
    )
    assert QualifiedRule("bant", bant, PARTIAL_MISSING).unrecorded_sentence == SENTENCE
    alone = QualifiedRule("bant", bant, ("budget", "need", "timing"))
    assert alone.sentence == (
        "This export records no budget, need or timing field. "
        "BANT cannot judge: this export records only authority."
    )
    assert alone.to_dict() == {
        "unrecorded_criteria": ["budget", "need", "timing"],
        "unrecorded_sentence": "This export records no budget, need or timing field.",
        "qualified_rule": "cannot judge: this export records only authority",
    }


# -- a model that records authority and need only -------------------------------------------------
def test_an_unrecorded_criterion_is_never_asked_on_a_lead(
    partial: TrainResult, partial_leads: pd.DataFrame
) -> None:
    model = partial.model
    assert model.unrecorded_criteria() == PARTIAL_MISSING
    assert model.unrecorded_criteria("gpct") == ("goals", "timeline")
    x = model.matrix(partial_leads)
    for framework in framework_names():
        rule = qualified_rule(model, framework)
        explained = explain_matrix(model, x, framework)
        asked = {q.criterion for e in explained for q in e.questions}
        texts = {q.text for e in explained for q in e.questions}
        assert not asked & set(rule.unrecorded), (framework, asked)
        assert not any("no field records it" in t for t in texts), texts
        assert set(rule.recorded) <= asked  # recorded criteria unanswered: still asked per lead
        columns = explanation_columns(model, partial_leads, framework, x=x)
        assert columns["questions"].tolist() == [
            " | ".join(q.text for q in e.questions) for e in explained
        ]
    bant = {q.text for e in explain_matrix(model, x) for q in e.questions}
    assert "Ask about need: not stated" in bant
    assert not any("budget" in t or "timing" in t for t in bant)


def test_the_verdict_is_over_authority_and_need(
    partial: TrainResult, partial_leads: pd.DataFrame
) -> None:
    model = partial.model
    x = model.matrix(partial_leads)
    explained = explain_matrix(model, x)
    verdicts = []
    for e in explained:
        authority, need = e.criteria["authority"].met, e.criteria["need"].met
        both = [authority, need]
        expected = (
            True if all(both) else False if False in both else None  # 2 of 2
        )
        assert e.qualified is expected, (authority, need, e.qualified)
        verdicts.append(e.qualified)
    # Both verdicts are reached (before, a lead could never meet 3 of 4 nor fail them: every
    # one of them read "cannot judge yet").
    assert verdicts.count(True) > 50 and verdicts.count(False) > 50
    assert verdicts.count(None) > 10  # a lead with need unanswered and authority met
    column = explanation_columns(model, partial_leads, x=x)["qualified"]
    assert column.astype(object).where(column.notna(), None).tolist() == verdicts


def test_one_recorded_criterion_judges_no_lead(
    partial: TrainResult, partial_leads: pd.DataFrame
) -> None:
    """Need's fields untagged: only authority is left, and no lead is judged on it alone."""
    model = partial.model
    specs = [
        f.model_copy(update={"criterion": "none"}) if f.criterion == "need" else f
        for f in model.schema.features
    ]
    alone = LeadModel(
        booster=lgb.Booster(model_str=model.booster.model_to_string()),  # its own tables
        encoder=model.encoder,
        schema=model.schema.model_copy(update={"features": specs}),
        calibrator=model.calibrator,
        bands=model.bands,
        meta=model.meta,
    )
    rule = qualified_rule(alone)
    assert rule.unrecorded == ("budget", "need", "timing") and not rule.judges
    explained = explain_matrix(alone, alone.matrix(partial_leads))
    assert {e.qualified for e in explained} == {None}
    assert {q.criterion for e in explained for q in e.questions} == {"authority"}
    # The same leads' scores: only the words changed.
    np.testing.assert_allclose(
        [e.probability for e in explained],
        [e.probability for e in explain_matrix(model, model.matrix(partial_leads))],
    )


def test_the_card_and_the_report_say_it_once(
    partial: TrainResult, partial_leads: pd.DataFrame, trained: TrainResult, home: Path
) -> None:
    from typer.testing import CliRunner

    from leadml.cli import app

    data = home / "leads.csv"
    partial_leads.to_csv(data, index=False)
    lead_id = str(partial_leads["lead_id"].iloc[3])
    result = CliRunner().invoke(
        app, ["explain", "--model", str(partial.bundle), "--data", str(data), "--id", lead_id]
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())  # the card wraps long lines
    assert flat.count(SENTENCE) == 1
    assert "BANT qualified: authority and need both met." in flat
    assert "Authority" in flat and "Need" in flat
    assert "Budget" not in flat and "Timing" not in flat  # no "? unknown" row for them

    assert partial.bundle is not None and trained.bundle is not None
    report = (partial.bundle / REPORT_FILE).read_text("utf-8")
    assert report.count(SENTENCE) == 1
    assert "(authority and need both met)" in report
    assert "This export records no" not in (trained.bundle / REPORT_FILE).read_text("utf-8")


# -- a model that records all four: as before ----------------------------------------------------
def test_a_model_recording_every_criterion_is_judged_as_before(
    trained: TrainResult, leads: pd.DataFrame
) -> None:
    model = trained.model
    inputs = [c for c in leads.columns if c in model.feature_names]
    frame = with_holes(leads.head(1_500), inputs, seed=4)
    x = model.matrix(frame)
    assert model.unrecorded_criteria() == ()
    rule = qualified_rule(model)
    assert (rule.sentence, rule.text) == (None, "at least 3 of its 4 criteria met")
    seen = set()
    for framework in ("bant", "champ", "faint"):
        for e in explain_matrix(model, x, framework):
            met = {c: e.criteria[c].met for c in framework_criteria(framework)}
            assert e.qualified is classic(met)
            seen.add(e.qualified)
            unknown = {c for c, v in met.items() if v is None}
            assert unknown <= {q.criterion for q in e.questions}
    assert seen == {True, False, None}
    # GPCT's goals has no ``goals`` tag: said once, never asked, and not held against a lead.
    gpct = qualified_rule(model, "gpct")
    assert gpct.unrecorded_sentence == "This export records no goals field."
    assert all(
        "goals" not in {q.criterion for q in e.questions} for e in explain_matrix(model, x, "gpct")
    )
    cards = explanation_cards(model, frame.head(2).assign(lead_id=leads["lead_id"].head(2)))
    console = Console(record=True, width=120)
    for card in cards:
        console.print(card)
    text = console.export_text()
    assert "This export records" not in text
    for word in ("Budget", "Authority", "Need", "Timing"):
        assert word in text
