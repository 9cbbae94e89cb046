"""The vocabularies that place columns: whole words and phrases, never substrings."""

from __future__ import annotations

from leadml.schema.group_words import (
    CRITERION_NAMES,
    GROUP_NAMES,
    STAFF_NAMES,
    Vocabulary,
    vocabulary,
)
from leadml.schema.lexicon import name_words, spelled_words


def test_phrases_are_runs_of_whole_words() -> None:
    vocab = vocabulary("email do_not_email free_copy")
    assert vocab.phrases == (("do", "not", "email"), ("free", "copy"))
    assert vocab.found(name_words("Do Not Email")) == ["do not email"]  # not "email" again
    assert vocab.found(name_words("email_do_not")) == ["email"]  # the words out of order
    assert vocab.found(name_words("A free copy of the e-mail")) == ["free copy"]
    assert vocab.weight(name_words("Do Not Email")) == 2
    assert Vocabulary(frozenset()).found(["x"]) == []


def test_words_are_whole_words_folded() -> None:
    assert STAFF_NAMES.found(name_words("Reputation")) == []  # "rep" is a whole word only
    assert STAFF_NAMES.found(name_words("salesRep")) == ["rep"]
    assert CRITERION_NAMES["budget"].found(name_words("Orçamento disponível")) == ["orcamento"]
    assert GROUP_NAMES["source"].found(name_words("Skąd się o nas dowiedziałeś?")) == [
        "dowiedziales"
    ]


def test_goal_words_left_need() -> None:
    """GPCT's goals are read from the goals tag only: need must not take its words."""
    for word in ("goal", "objetivo", "meta", "cel"):
        assert word in CRITERION_NAMES["goals"].words
        assert word not in CRITERION_NAMES["need"].words


def test_spelled_words_map_back_to_the_users_spelling() -> None:
    assert spelled_words("Orçamento disponível")["orcamento"] == "Orçamento"
    assert spelled_words("TotalVisits")["visits"] == "Visits"
