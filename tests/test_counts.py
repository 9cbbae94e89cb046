"""Count words agree with their numbers, in one helper every message uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadml.counts import plural

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("n", "word", "many", "text"),
    [
        (1, "round", None, "1 round"),
        (0, "lead", None, "0 leads"),
        (2, "lead", None, "2 leads"),
        (1_200, "lead", None, "1,200 leads"),
        (1.0, "day", None, "1 day"),
        (2.5, "week", None, "2.5 weeks"),
        (1, "criterion", "criteria", "1 criterion"),
        (3, "criterion", "criteria", "3 criteria"),
    ],
)
def test_a_count_takes_the_word_its_number_needs(
    n: float, word: str, many: str | None, text: str
) -> None:
    assert plural(n, word, many) == text


def test_no_message_hedges_a_count_with_s_in_brackets() -> None:
    """ "only 0 lead(s)", "1 fold(s)": the number is known when the sentence is written."""
    hedged = re.compile(r"\{[^{}\n]*\} +[\w -]*\w\(s\)")
    found = [
        f"{path.relative_to(ROOT)}: {match.group()}"
        for folder in (ROOT / "src", ROOT / "serve")
        for path in folder.rglob("*")
        if path.suffix in (".py", ".html", ".js")
        for match in hedged.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
