"""Values as CRMs write them, read as a person means them: the same rules for a file (per
distinct value of a column) and for one lead (the API)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from leadml.data.parse import clean_text, number_value, parse_column
from leadml.data.values import (
    NOT_ANSWERED,
    answer_or_blank,
    canonical,
    is_placeholder,
    level_lookup,
    number_from_text,
    placeholder_keys,
    unanswered_keys,
)
from leadml.schema.lexicon import (
    FORM_DEFAULTS,
    MISSING_WORDS,
    PLACEHOLDERS,
    fold,
    form_defaults,
    is_form_default,
)
from leadml.schema.spec import DEFAULT_MISSING

BUDGET = ["< 10k", "10k–50k", "50k–100k", "100k–250k", "> 250k"]
SENIORITY = ["Junior", "Mid-level", "Manager", "Director", "VP", "C-level"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1,200", 1200.0),
        ("$50,000", 50000.0),
        ("USD 50,000", 50000.0),
        ("€1.000.000", 1e6),
        ("R$ 1.200,50", 1200.5),
        ("2.4M", 2.4e6),
        ("50k", 50000.0),
        ("15%", 15.0),
        ("1 200 000", 1.2e6),
        ("12,5", 12.5),
        ("1.5", 1.5),
        ("-3", -3.0),
        (" 45 ", 45.0),
    ],
)
def test_numbers_as_people_write_them(text: str, number: float) -> None:
    assert number_from_text(text) == pytest.approx(number)
    assert number_value(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["abc", "12 apples", "1,2,3", "inf", "", "$"])
def test_text_that_is_no_number_is_unreadable(text: str) -> None:
    assert math.isnan(number_from_text(text))


@pytest.mark.parametrize(
    ("text", "level"),
    [("100k-250k", "100k–250k"), (" 100K - 250K ", "100k–250k"), ("<10k", "< 10k")],
)
def test_budget_answers_in_other_spellings(text: str, level: str) -> None:
    assert canonical(text, level_lookup(BUDGET)) == level


def test_case_of_a_level_does_not_matter_and_unknown_answers_stay_unknown() -> None:
    lookup = level_lookup(SENIORITY)
    assert canonical("vp", lookup) == canonical("VP", lookup) == "VP"
    assert canonical("c level", lookup) == "C-level"
    assert canonical("Chief", lookup) is None
    # two levels that differ only in case: neither spelling is guessed
    assert canonical("a", level_lookup(["A", "a"])) is None


@pytest.mark.parametrize("text", ["--None--", "-None-", "N/A", "n/a", "#N/A", "Select", "(blank)"])
def test_crm_placeholders_are_missing(text: str) -> None:
    assert is_placeholder(text, placeholder_keys(DEFAULT_MISSING))


@pytest.mark.parametrize("text", ["None of them", "Nonprofit", "NASA", "0"])
def test_real_answers_are_not_placeholders(text: str) -> None:
    assert not is_placeholder(text, placeholder_keys(DEFAULT_MISSING))


def test_a_column_reads_like_one_lead() -> None:
    raw = pd.Series(["1,200", "$50,000", "--None--", "abc", None, "7"], dtype=object)
    parsed = parse_column(raw, "numeric", DEFAULT_MISSING)
    values = parsed.values.tolist()
    assert values[:2] == [1200.0, 50000.0] and values[5] == 7.0
    assert all(math.isnan(v) for v in values[2:5])
    assert parsed.given.tolist() == [True, True, False, True, False, True]
    assert parsed.unreadable.tolist() == [False, False, False, True, False, False]
    answers = pd.Series(["100k-250k", "> 250K", "Select", "lots"], dtype=object)
    typed = parse_column(answers, "ordinal", DEFAULT_MISSING, levels=BUDGET).values
    assert typed.tolist()[:2] == ["100k–250k", "> 250k"]
    assert typed.isna().tolist() == [False, False, True, False]
    assert typed.tolist()[3] == "lots"  # left as written: validation names it


# -- form defaults: "not answered", apart from "unknown" -----------------------------------------
@pytest.mark.parametrize(
    "text",
    ["Select", " select ", "-- Select --", "Please choose", "--None--", "Selecione", "Wybierz"],
)
def test_form_defaults_are_not_answered_where_the_schema_keeps_them_apart(text: str) -> None:
    missing = placeholder_keys(DEFAULT_MISSING, ["Select"])
    assert is_form_default(text)
    assert answer_or_blank(text, missing, unanswered_keys(["Select"])) == NOT_ANSWERED
    # Without the schema's word, or in a number or yes/no field (no unanswered keys): missing.
    assert answer_or_blank(text, missing, unanswered_keys([])) is None
    assert unanswered_keys([]) == frozenset()


@pytest.mark.parametrize("text", ["", "  ", "N/A", "null", "unknown", "Desconhecido", "-"])
def test_words_that_mean_unknown_stay_missing(text: str) -> None:
    missing = placeholder_keys(DEFAULT_MISSING, ["Select"])
    assert not is_form_default(text)
    assert answer_or_blank(text, missing, unanswered_keys(["Select"])) is None
    assert fold(text).strip() in MISSING_WORDS or text.strip() in DEFAULT_MISSING


def test_the_lexicon_splits_its_placeholders_in_two() -> None:
    assert "select" in FORM_DEFAULTS and "select" not in MISSING_WORDS
    assert {"n/a", "null", "unknown"} <= MISSING_WORDS
    # Schemas without ``unanswered`` read every old placeholder as missing, as before.
    assert MISSING_WORDS < PLACEHOLDERS
    assert form_defaults(["", "Select", "select", "N/A", "Wybierz"]) == ["Select", "Wybierz"]


def test_a_text_column_keeps_not_answered_apart_and_a_number_column_does_not() -> None:
    raw = pd.Series(["Finance", " Select ", "", None, "N/A", "Please choose"])
    text = parse_column(raw, "categorical", DEFAULT_MISSING, unanswered=["Select"])
    assert text.values.tolist()[:2] == ["Finance", NOT_ANSWERED]
    assert text.values.isna().tolist() == [False, False, True, True, True, False]
    assert text.given.tolist() == [True, True, False, False, False, True]
    assert text.not_answered.tolist() == [False, True, False, False, False, True]
    old = parse_column(raw, "categorical", DEFAULT_MISSING)  # an older schema: all missing
    assert old.values.isna().tolist() == [False, True, True, True, True, False]
    assert not old.not_answered.any()
    numbers = parse_column(
        pd.Series(["3", "Select", "Please choose"]),
        "numeric",
        DEFAULT_MISSING,
        unanswered=["Select"],
    )
    assert numbers.values.isna().tolist() == [False, True, True]
    assert not numbers.unreadable.any()


def test_a_column_with_no_value_at_all_reads_as_blank_with_form_defaults() -> None:
    """A batch in which nobody filled a field (no distinct value) still parses."""
    out = clean_text(pd.Series([None, None], dtype=object), ["N/A"], ["Select"])
    assert out.isna().all()
