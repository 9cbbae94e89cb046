"""Fill patterns: a field sales set after contact is flagged, honest history with a lift is not."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from leadml.data.fill_patterns import answered, sales_fill_evidence
from leadml.data.leakage import LeakageAudit, audit_leakage
from leadml.data.suggest import suggest_schema
from leadml.data.validate import validate
from leadml.data.values import NOT_ANSWERED
from leadml.features.encoder import FeatureEncoder
from leadml.schema.spec import DEFAULT_MISSING, FeatureSpec

N = 4000


def leads(seed: int = 0) -> pd.DataFrame:
    """Leads whose conversion depends on visits: about a third convert."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, N)
    converted = (rng.random(N) < 1 / (1 + np.exp(-(-1.8 + 0.4 * visits)))).astype(int)
    return pd.DataFrame(
        {
            "visits": visits,
            "industry": rng.choice(["Retail", "Software", "Banking"], N),
            "converted": converted,
        }
    )


def filled_by_class(
    converted: np.ndarray,
    filled: tuple[float, float],
    answers: dict[str, tuple[float, float]],
    seed: int,
    unanswered: str | None = None,
) -> np.ndarray:
    """A field answered for ``filled[0]`` of converted leads and ``filled[1]`` of the others;
    ``answers`` gives each answer's share among the answered rows (converted, others);
    ``unanswered`` is what the others hold (a placeholder, or blank)."""
    rng = np.random.default_rng(seed)
    won = converted == 1
    is_filled = rng.random(len(converted)) < np.where(won, *filled)
    names = list(answers)
    shares = np.array([answers[a] for a in names])  # answers × (converted, others)
    pick_won = rng.choice(names, len(converted), p=shares[:, 0] / shares[:, 0].sum())
    pick_lost = rng.choice(names, len(converted), p=shares[:, 1] / shares[:, 1].sum())
    values = np.where(won, pick_won, pick_lost).astype(object)
    return np.where(is_filled, values, unanswered)


def run_audit(frame: pd.DataFrame, **kwargs) -> LeakageAudit:
    """The audit as training runs it: suggested schema, typed rows, the encoder's matrix."""
    checked = validate(frame, suggest_schema(frame, "converted").schema)
    matrix = FeatureEncoder.fit(checked.schema, checked.frame).transform(checked.frame)
    return audit_leakage(
        checked.frame, matrix, checked.y, checked.schema, converted=checked.converted, **kwargs
    )


# The EdTech export's "Lead Profile": a rep's profile, answered mostly once a lead converts.
PROFILE = {
    "Potential Lead": (0.8, 0.4),
    "Other Leads": (0.1, 0.4),
    "Student of SomeSchool": (0.05, 0.15),
    "Lateral Student": (0.05, 0.05),
}
# Bank's poutcome: the previous campaign's outcome, answered for 36% / 16%, known before the call.
PREVIOUS = {"success": (0.55, 0.05), "failure": (0.35, 0.8), "other": (0.1, 0.15)}


def test_a_profile_sales_set_after_contact_is_flagged_with_numbers_never_values() -> None:
    frame = leads()
    frame["Lead Profile"] = filled_by_class(
        frame["converted"].to_numpy(), (0.45, 0.17), PROFILE, seed=1, unanswered="Select"
    )
    found = run_audit(frame)
    assert list(found.flagged) == ["Lead Profile"]
    (evidence,) = found.flagged["Lead Profile"]
    assert re.fullmatch(
        r"set by sales after contact, by its fill pattern: answered for 4\d% of converted "
        r"leads but 1\d% of the others \(2\.\d×\), and one of its levels converts at \d\d% "
        r"against \d\d% where it is unanswered; 1 of its 4 levels read like a rep's "
        r"judgement of the lead",
        evidence,
    ), evidence
    text = json.dumps(found.to_dict()) + " ".join(found.warnings)
    assert not any(value in text for value in [*PROFILE, "Select"])
    assert "--allow 'Lead Profile'" in found.warnings[0]


def test_an_honest_previous_outcome_with_a_real_lift_is_not_flagged() -> None:
    frame = leads()
    frame["poutcome"] = filled_by_class(
        frame["converted"].to_numpy(), (0.35, 0.16), PREVIOUS, seed=2, unanswered="unknown"
    )
    found = run_audit(frame)
    assert found.flagged == {}
    # a real lift: "success" converts far above the unanswered rows; the guard sees it and keeps it
    rate = frame.groupby(frame["poutcome"].fillna("unknown"))["converted"].mean()
    assert rate["success"] > 2 * rate["unknown"]
    assert found.single_column_auc["poutcome"] > 0.6


def test_the_same_fill_pattern_with_a_reps_words_is_flagged() -> None:
    """What tells the two apart is the values: a rep's "Hot" / "Not interested"."""
    frame = leads()
    judged = {"Hot": (0.55, 0.05), "Not interested": (0.35, 0.8), "Other": (0.1, 0.15)}
    frame["Temperature"] = filled_by_class(
        frame["converted"].to_numpy(), (0.35, 0.16), judged, seed=2
    )
    found = run_audit(frame)
    assert list(found.flagged) == ["Temperature"]
    assert "2 of its 3 levels read like a rep's judgement" in found.flagged["Temperature"][0]


def test_without_a_reps_words_it_takes_three_times_the_share() -> None:
    frame = leads()
    plain = {"A": (0.6, 0.2), "B": (0.3, 0.4), "C": (0.1, 0.4)}
    y = frame["converted"].to_numpy()
    frame["segment_two"] = filled_by_class(y, (0.45, 0.12), plain, seed=3)  # 3.75×
    frame["segment_one"] = filled_by_class(y, (0.45, 0.25), plain, seed=4)  # 1.8×
    found = run_audit(frame)
    assert list(found.flagged) == ["segment_two"]
    assert "read like" not in found.flagged["segment_two"][0]


def test_a_field_filled_for_the_others_is_read_the_other_way() -> None:
    """A "reason not interested" sales fill in for lost leads gives the outcome away too."""
    frame = leads()
    reasons = {"Ringing": (0.5, 0.4), "Will revert": (0.5, 0.3), "Busy": (0.0, 0.3)}
    frame["Motivo"] = filled_by_class(frame["converted"].to_numpy(), (0.1, 0.5), reasons, seed=5)
    found = run_audit(frame)
    assert re.search(
        r"answered for \d\d% of the others but \d+% of converted leads", found.flagged["Motivo"][0]
    )


def test_placeholders_are_not_answers() -> None:
    raw = pd.Series(["Select", "--None--", " select ", "", None, "Hot", "N/A"], dtype=object)
    assert answered(raw, DEFAULT_MISSING).tolist() == [False] * 5 + [True, False]
    # a schema that keeps form defaults apart types them as a state of their own: not an answer
    typed = pd.Series([NOT_ANSWERED, pd.NA, "Hot"], dtype="string")
    assert answered(typed, DEFAULT_MISSING).tolist() == [False, False, True]
    numbers = pd.Series([1.0, np.nan])
    assert answered(numbers, DEFAULT_MISSING).tolist() == [True, False]


@pytest.mark.parametrize("kind", ["numeric", "boolean"])
def test_only_answers_to_a_question_are_read_this_way(kind: str) -> None:
    """Numbers and yes/no flags have no answers to read; the strict fill rule covers them."""
    y = np.array([1, 0] * 200)
    values = pd.Series(np.where(y == 1, 1.0, np.nan))
    assert sales_fill_evidence(FeatureSpec(name="x", kind=kind), values, y, ()) is None
