"""The target's values as outcomes: converted, not converted or still open, from the user's
flags, the lexicon, or (with two values and --positive) as the only other value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.target import (
    CONVERTED,
    NO_OUTCOME,
    NOT_CONVERTED,
    OPEN,
    TargetClasses,
    classify_target,
    lexicon_class,
    spell,
)
from leadml.errors import DataError
from leadml.schema import outcome_words as lexicon


def classes(values: list[object], **flags: object) -> TargetClasses:
    """Classify raw values as a column would hold them (spelled first)."""
    spelled = spell(pd.Series(values, dtype=object))
    return classify_target(spelled.dropna().unique().tolist(), "status", **flags)  # type: ignore[arg-type]


def one(value: str) -> int | None:
    return lexicon_class(spell(pd.Series([value], dtype=object)).iloc[0])


# -- the lexicon, value by value -----------------------------------------------------------------
CONVERTED_VALUES = [
    "Closed Won",
    "Won",
    "Closed - Won",
    "closed_won",
    "CLOSED WON",
    "closedwon",
    "Closed - Converted",
    "Customer",
    "1 - Won",
    "Fechado - Convertido",
    "Fechado/Ganho",
    "Cerrada ganada",
    "Cerrado - Convertido",
    "Zamknięte – przekonwertowane",
    "Zamknięte/Wygrane",
    "Geschlossen - Konvertiert",
    "Geschlossen und gewonnen",
    "Fermé - Converti",
    "Fermée gagnée",
]
NOT_CONVERTED_VALUES = [
    "Closed Lost",
    "Disqualified",
    "Unqualified",
    "Lost",
    "closedlost",
    "7 - Closed Lost",
    "Closed - Not Converted",
    "não convertido",
    "no convertido",
    "not interested",
    "No Longer Interested",
    "Cannot Contact",
    "Canceled",
    "Cancelled",
    "Rejected",
    "Junk",
    "Junk Lead",
    "UNQUALIFIED",
    "BAD_TIMING",
    "Out-Sold",
    "Not qualified",
    "Closed Lost to Competition",
    "Fechado - Não convertido",
    "Fechado/Perdido",
    "sem interesse",
    "Desqualificado",
    "Cerrado - No convertido",
    "Cerrada perdida",
    "sin interés",
    "Zamknięte – nieprzekonwertowane",
    "Zamknięte/Przegrane",
    "Niezainteresowany",
    "brak zainteresowania",
    "Geschlossen - Nicht konvertiert",
    "kein Interesse",
    "Fermé - Non converti",
    "Fermée perdue",
    "pas intéressé",
]
OPEN_VALUES = [
    "New",
    "Working",
    "Contacted",
    "Nurturing",
    "Engaging",
    "Prospecting",
    "Open",
    "Open - Not Contacted",
    "Working - Contacted",
    "Stage 3: Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "appointmentscheduled",
    "qualifiedtobuy",
    "contractsent",
    "On Hold",
    "Qualified - In Progress",
    "Pre-Qualified",
    "Potential customer",
    "Aberto - Não contatado",
    "Trabalhando - Contatado",
    "Prospecção",
    "Negociação/Revisão",
    "Abierto - No contactado",
    "Trabajando - Contactado",
    "Propuesta/Presupuesto",
    "Otwarte – niekontaktowany",
    "W trakcie – skontaktowany",
    "Nie skontaktowano",
    "Poszukiwanie",
    "Offen - Nicht kontaktiert",
    "In Bearbeitung - Kontaktiert",
    "Ouvert - Non contacté",
    "En cours - Contacté",
]
#: Left to the user on purpose: two meanings, or none the lexicon knows.
UNPLACED_VALUES = [
    "Qualified",
    "Closed",
    "Opportunity",
    "Sales Qualified Lead",
    "Recycled",
    "Duplicate",
    "Closed - Contacted",
    "not lost",
    "won/lost",
    "Won't buy",
    "maybe",
    "2",
    "0.5",
]


@pytest.mark.parametrize("value", CONVERTED_VALUES)
def test_converted_words(value: str) -> None:
    assert one(value) == CONVERTED


@pytest.mark.parametrize("value", NOT_CONVERTED_VALUES)
def test_not_converted_words(value: str) -> None:
    assert one(value) == NOT_CONVERTED


@pytest.mark.parametrize("value", OPEN_VALUES)
def test_open_words(value: str) -> None:
    assert one(value) == OPEN


@pytest.mark.parametrize("value", UNPLACED_VALUES)
def test_words_left_to_the_user(value: str) -> None:
    assert one(value) is None


#: The two-valued rule's words before the lexicon (leadml 0.1's ``parse.TARGET_TRUE`` / FALSE).
TARGET_TRUE = frozenset(
    {"1", "1.0", "true", "yes", "y", "t", "won", "closed won", "converted", "success", "sim", "sí"}
    | {"si", "tak", "ganho", "ganado", "ganada", "convertido", "convertida", "wygrana"}
)
TARGET_FALSE = frozenset(
    {"0", "0.0", "false", "no", "n", "f", "lost", "closed lost", "not converted", "failure"}
    | {"não", "nao", "nie", "perdido", "perdida", "no convertido", "não convertido", "przegrana"}
)


def test_every_word_of_the_old_two_valued_rule_is_kept() -> None:
    assert {w: one(w) for w in TARGET_TRUE} == dict.fromkeys(TARGET_TRUE, CONVERTED)
    assert {w: one(w) for w in TARGET_FALSE} == dict.fromkeys(TARGET_FALSE, NOT_CONVERTED)


def test_the_vocabularies_do_not_overlap() -> None:
    groups = [
        lexicon.CONVERTED_STATUS | lexicon.CONVERTED_ANSWERS,
        lexicon.NOT_CONVERTED_STATUS | lexicon.NOT_CONVERTED_ANSWERS,
        lexicon.OPEN_STATUS | lexicon.OPEN_ANSWERS,
        lexicon.CLOSED_STATUS,
        lexicon.UNDECIDED_STATUS,
    ]
    compact = [{p.replace(" ", "") for p in g} for g in groups]
    for i, a in enumerate(compact):
        for b in compact[i + 1 :]:
            assert not a & b
    # the words read inside a value (answers such as "no" count only as the whole value)
    vocabulary = (
        lexicon.CONVERTED_STATUS
        | lexicon.NOT_CONVERTED_STATUS
        | lexicon.OPEN_STATUS
        | lexicon.CLOSED_STATUS
        | lexicon.UNDECIDED_STATUS
    )
    assert vocabulary >= lexicon.STILL_OPEN_WHEN_NEGATED | lexicon.NOT_CONVERTED_WHEN_NEGATED
    assert not (lexicon.NEGATIONS | lexicon.HEDGES | lexicon.STAGE_WORDS) & vocabulary


# -- spelling ------------------------------------------------------------------------------------
def test_spell_is_lower_case_stripped_numbers_by_value_and_blank_is_missing() -> None:
    spelled = spell(pd.Series([" Won ", 1, 1.0, "1.0", None, "", "  ", np.nan], dtype=object))
    assert spelled.tolist()[:4] == ["won", "1", "1", "1"]
    assert spelled.iloc[4:].isna().all()


# -- whole columns -------------------------------------------------------------------------------
def test_four_valued_pipeline_without_flags() -> None:
    c = classes(["Won", "Lost", "Engaging", "Prospecting", "won"])
    assert c.to_dict() == {
        "converted": ["won"],
        "not_converted": ["lost"],
        "open": ["engaging", "prospecting"],
    }
    assert set(c.how.values()) == {"lexicon"}


def test_four_valued_pipeline_with_positive() -> None:
    c = classes(["Won", "Lost", "Engaging", "Prospecting"], positive="Won")
    assert c.to_dict() == {
        "converted": ["won"],
        "not_converted": ["lost"],
        "open": ["engaging", "prospecting"],
    }
    assert c.how["won"] == "you said"
    assert c.how["lost"] == c.how["engaging"] == "lexicon"


@pytest.mark.parametrize(
    ("values", "converted"),
    [
        ([0, 1, 1], "1"),
        ([1.0, 0.0], "1"),
        (["1.0", "0"], "1"),
        (["yes", "no"], "yes"),
        (["True", "False"], "true"),
        ([True, False], "true"),
        (["Sim", "Não"], "sim"),
        (["Tak", "Nie"], "tak"),
    ],
)
def test_two_valued_answers(values: list[object], converted: str) -> None:
    c = classes(values)
    assert c.converted == {converted}
    assert len(c.not_converted) == 1
    assert not c.open


def test_numbers_are_compared_by_value_in_flags_too() -> None:
    c = classes([1.0, 0.0, 1], positive="1.0")
    assert c.converted == {"1"} and c.not_converted == {"0"}


def test_the_users_flags_win_over_the_lexicon() -> None:
    c = classes(
        ["Won", "Lost", "Qualified", "Nurturing", "Proposal"],
        positive=["Won", "QUALIFIED"],
        negative="nurturing",
        open=["Proposal", "Negotiation"],  # one absent from the data: not an error
    )
    assert c.converted == {"won", "qualified"}
    assert c.not_converted == {"lost", "nurturing"}
    assert c.open == {"proposal", "negotiation"}
    assert c.how["nurturing"] == "you said"


def test_a_value_under_two_flags_is_an_error_naming_it() -> None:
    with pytest.raises(DataError, match="'won' is given with both --positive and --open"):
        classes(["Won", "Lost"], positive="Won", open=["won"])


def test_positive_absent_from_the_data() -> None:
    with pytest.raises(DataError, match=r"has values \['lost', 'won'\], none of them 'Yes'"):
        classes(["Won", "Lost"], positive="Yes")
    with pytest.raises(DataError, match="say which value means converted with --positive"):
        classes(["Won", "Lost", "Open"], positive=["Yes", "Converted"])


def test_positive_absent_from_a_one_valued_window_is_not_an_error() -> None:
    # a recent window in which nothing converted yet: read as training read it
    assert classes(["B", "B"], positive="A").not_converted == {"b"}
    assert classes(["won"], positive="Closed Won").converted == {"won", "closed won"}


def test_unplaced_values_are_one_error_naming_them_and_the_flags() -> None:
    with pytest.raises(DataError) as err:
        classes(["Won", "Lost", "Proposal", "Qualified", "Opportunity"])
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        "target column 'status': cannot tell whether 'opportunity', 'qualified' mean converted, "
        "not converted or still open; say so with --positive, --negative or --open VALUE"
    )


def test_many_unplaced_values_are_cut_short() -> None:
    with pytest.raises(DataError, match=r"'v4', 'v5' … and 4 more mean"):
        classes([f"v{i}" for i in range(12)])
    with pytest.raises(DataError, match="whether 'qualified' means converted"):
        classes(["Won", "Qualified"])


@pytest.mark.parametrize("other", ["B", "1"])
def test_the_only_other_value_is_not_converted(other: str) -> None:
    positive = "A" if other == "B" else "0"
    c = classes([positive, other, positive], positive=positive)
    assert c.converted == {positive.lower()}
    assert c.not_converted == {other.lower()}
    assert c.how[other.lower()] == "the only other value"


def test_the_only_other_value_keeps_a_lexicon_class_of_its_own() -> None:
    c = classes(["Signed", "Lost"], positive="Signed")
    assert c.how["lost"] == "lexicon"
    c = classes(["A", "Engaging"], positive="A")
    assert c.open == {"engaging"}


def test_the_only_other_value_needs_two_values_at_most() -> None:
    with pytest.raises(DataError, match="whether 'b', 'c' mean"):
        classes(["A", "B", "C"], positive="A")
    with pytest.raises(DataError, match="whether 'a' means"):
        classes(["A", "B"], negative="B")


def test_no_converted_value_is_left_to_a_later_check() -> None:
    c = classes(["Lost", "Engaging"])
    assert not c.converted and c.not_converted == {"lost"} and c.open == {"engaging"}


# -- codes and what was decided ------------------------------------------------------------------
def test_codes_per_row_with_no_outcome_for_blanks() -> None:
    column = pd.Series(["Won", "Lost", None, "Engaging", " ", "won", "Prospecting"])
    spelled = spell(column)
    c = classify_target(spelled.dropna().unique(), "status")
    codes = c.codes(spelled)
    assert codes.dtype == np.int8
    assert codes.tolist() == [
        CONVERTED,
        NOT_CONVERTED,
        NO_OUTCOME,
        OPEN,
        NO_OUTCOME,
        CONVERTED,
        OPEN,
    ]


def test_codes_refuse_a_value_in_no_class() -> None:
    c = classes(["Won", "Lost"])
    with pytest.raises(DataError, match="'maybe' is in no class"):
        c.codes(spell(pd.Series(["won", "Maybe"])))


def test_lines_say_what_was_decided_and_why() -> None:
    c = classes(
        ["Won", "Closed Won", "Lost", "Engaging", "Prospecting", "Deal signed", "A"],
        positive="Deal signed",
        negative="A",
    )
    assert c.lines("deal_stage") == [
        "target column 'deal_stage' — converted: 'deal signed' (you said), "
        "'closed won', 'won' (lexicon)",
        "target column 'deal_stage' — not converted: 'a' (you said), 'lost' (lexicon)",
        "target column 'deal_stage' — still open, never learned from: "
        "'engaging', 'prospecting' (lexicon)",
    ]
    assert classes(["A", "B"], positive="A").lines("y") == [
        "target column 'y' — converted: 'a' (you said)",
        "target column 'y' — not converted: 'b' (the only other value)",
    ]
