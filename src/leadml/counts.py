"""A count and its noun as a person writes them: "1 round", "3 rounds", "only 1 lead".

One helper for the CLI, the report, the monitor and the service, so no message says
"1 rounds" or hedges with "lead(s)": the number is known when the sentence is written.
"""

from __future__ import annotations


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """``n`` with ``word`` when it is exactly 1, else with ``many`` (default ``word + "s"``):
    ``plural(1, "round")`` → "1 round", ``plural(1200, "lead")`` → "1,200 leads",
    ``plural(2, "criterion", "criteria")`` → "2 criteria". Whole numbers get thousands
    separators; 0 takes the plural, as English does ("0 leads")."""
    number = float(n)
    shown = f"{int(number):,}" if number.is_integer() else f"{number:,}"
    return f"{shown} {word if number == 1 else many or word + 's'}"
