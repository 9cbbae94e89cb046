"""Outcomes kept in another table: a lead converted when its key appears among the won deals.

Many CRMs keep leads and closed deals apart. ``attach_outcomes`` marks a lead converted when its
key appears in the deals table and copies nothing else across: every deal column exists only for
converted leads, so any of them would leak the outcome. The pieces are separate functions so
that Dask labels its partitions with the very same ones (only the keys travel to the workers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.errors import DataError


def _keys(series: pd.Series) -> pd.Series:
    """Join keys as text, so 42, 42.0 and "42" meet, whatever dtype each file gave them."""
    text = series.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce")
    whole = numbers.notna() & (numbers == numbers.round())
    return text.mask(whole, numbers[whole].astype("Int64").astype("string"))


@dataclass(frozen=True)
class Outcomes:
    """The keys of converted leads from a second table, and where the label goes.

    Small enough to ship to every Dask worker once: only keys, never an outcome column.
    """

    on: str
    target: str
    won: frozenset[str]


def outcome_keys(outcomes: pd.DataFrame, on: str, target: str = "converted") -> Outcomes:
    """The set of keys in the outcome table (read once, on the client)."""
    if on not in outcomes.columns:
        raise DataError(
            f"--on column '{on}' is not in the outcome table; its columns are: "
            + ", ".join(map(str, list(outcomes.columns)[:30]))
        )
    won = frozenset(_keys(outcomes[on]).dropna())
    if not won:
        raise DataError(f"the outcome table has no values in '{on}'")
    return Outcomes(on, target, won)


def check_lead_columns(columns: list[str], on: str, target: str) -> None:
    """The lead table must hold the key and must not already hold the outcome column."""
    if on not in columns:
        raise DataError(
            f"--on column '{on}' is not in the lead table; its columns are: "
            + ", ".join(map(str, columns[:30]))
        )
    if target in columns:
        raise DataError(
            f"the lead table already has a column '{target}'; with --outcomes, "
            "--target names the new outcome column: choose another name"
        )


def label_leads(leads: pd.DataFrame, outcomes: Outcomes) -> pd.DataFrame:
    """``target`` = 1 where the lead's key is among the won keys, 0 where it is not, and no
    value where the lead has no key (validation leaves those out with a warning)."""
    lead_keys = _keys(leads[outcomes.on])
    hit = lead_keys.isin(outcomes.won).to_numpy(dtype=bool, na_value=False)
    label = pd.Series(np.where(hit, 1, 0), index=leads.index).astype("Int8")
    return leads.assign(**{outcomes.target: label.mask(lead_keys.isna().to_numpy())})


def matched_keys(leads: pd.DataFrame, outcomes: Outcomes) -> set[str]:
    return set(_keys(leads[outcomes.on]).dropna()) & outcomes.won


def outcome_notes(outcomes: Outcomes, matched: int) -> list[str]:
    """An error when no outcome key matches a lead, a warning when some do not."""
    won = len(outcomes.won)
    if matched == 0:
        raise DataError(
            f"none of the {won:,} keys in the outcome table's '{outcomes.on}' match a lead; "
            "check that both columns hold the same identifiers"
        )
    if matched < won:
        return [
            f"{won - matched:,} of {won:,} outcome keys in '{outcomes.on}' match no lead and "
            "were ignored"
        ]
    return []


def attach_outcomes(
    leads: pd.DataFrame, outcomes: pd.DataFrame, on: str, target: str = "converted"
) -> tuple[pd.DataFrame, list[str]]:
    """Add ``target`` = 1 where a lead's ``on`` key appears in ``outcomes``, else 0.

    Only the key's presence is used: no outcome column is copied onto the leads. Leads without
    a key cannot be labelled and get no value (validation leaves them out with a warning).
    Returns the labelled leads and warnings about keys that did not match.
    """
    check_lead_columns(list(map(str, leads.columns)), on, target)
    keys = outcome_keys(outcomes, on, target)
    labelled = label_leads(leads, keys)
    return labelled, outcome_notes(keys, len(matched_keys(leads, keys)))
