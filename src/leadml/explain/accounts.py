"""Leads rolled up to the account (the company) behind them, because B2B deals are bought by a
buying group, not a person: the analyst gives budget, the VP signs. A lead-by-lead list hides
that an account already has *someone* with authority and *someone* with budget; one row per
account shows which criteria of the framework the group covers and which are still open.

**The chance that at least one lead converts** is ``p_any = 1 − Π(1 − p_i)`` over the
account's leads. It assumes the leads convert *independently*, which they do not quite: leads
of one buying group usually close (or die) together as one deal, so ``p_any`` is an upper-ish
estimate of the chance of a deal, and more so the more leads an account has. It still ranks
accounts sensibly (more and better leads, higher), and ``expected_conversions = Σ p_i`` is
given beside it (exact whatever the dependence, but it counts leads, not deals).

**Coverage** of a criterion reads the per-lead verdicts of :mod:`leadml.explain.attributions`
(``<criterion>_met``: True / False / unknown): covered when any lead meets it; *not* covered
when every lead with an answer fails it; unknown when no lead says anything about it. The lead
that covers it is the one meeting it with the most points.

Account names are grouped with surrounding spaces trimmed and case folded ("Acme " is
"ACME"), shown as first spelt; blank cells and the schema's missing-value markers ("N/A",
"Select") belong to no account: those leads are left out and counted.

:func:`account_table` is pure pandas over a scored and explained lead table, so it works on
what ``leadml score --explain`` writes as well as on :func:`leadml.explain.table.score_table`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadml.data.column_roles import SAMPLE_VALUES, pii_by_content, pii_by_name
from leadml.errors import DataError
from leadml.schema.spec import LeadSchema, did_you_mean

#: Per-lead columns an explained lead table must hold (besides ``<criterion>_met``/``_points``).
LEAD_COLUMNS = ("probability", "score", "grade")
#: The leading columns of the account table; per-criterion columns follow.
ACCOUNT_COLUMNS = (
    "account",
    "leads",
    "p_any",
    "expected_conversions",
    "best_lead",
    "best_score",
    "best_grade",
    "covered",
    "open",
)


@dataclass(frozen=True)
class Accounts:
    """The account table (sorted by ``p_any``, best first) and the leads left out of it."""

    table: pd.DataFrame
    leads: int  # leads in accounts
    no_account: int  # leads with a blank account, left out
    criteria: tuple[str, ...]

    def covering_all(self) -> int:
        """Accounts whose buying group meets every criterion of the framework."""
        return int(self.table["open"].eq("").sum()) if len(self.table) else 0


def check_account_column(
    column: str, frame: pd.DataFrame, schema: LeadSchema, source: str = "the table"
) -> None:
    """Refuse, in one line, an account column that is not in ``frame``, or that would carry
    personal data into the account table (listed as PII, or named or filled like it: e-mails,
    phones, people's names), or that is the target or the lead id."""
    if column not in frame.columns:
        raise DataError(
            f"no column '{column}' in {source} (give the one naming each lead's company: a "
            f"name, domain or account id){did_you_mean(column, frame.columns)}"
        )
    hint = "use a company or domain column"
    if column in schema.pii or pii_by_name(column):
        raise DataError(f"'{column}' holds personal data, which never leaves leadml: {hint}")
    sample = frame[column].dropna().astype(str).str.strip()
    why = pii_by_content(sample[sample != ""].head(SAMPLE_VALUES))
    if why:
        raise DataError(f"'{column}' looks like personal data ({why}): {hint}")
    if column == schema.target:
        raise DataError(f"'{column}' is the outcome the model predicts, not an account: {hint}")
    if column == schema.id:
        raise DataError(f"'{column}' is the lead id: every lead would be an account of its own")


def _as_typed(values: pd.Series) -> pd.Series:
    """Cells as the text that was typed: whole-number floats without their ".0", trimmed."""
    if pd.api.types.is_float_dtype(values) and bool(np.all(np.mod(values.dropna(), 1) == 0)):
        values = values.astype("Int64")
    return values.astype("string").str.strip()


def account_keys(values: pd.Series, missing: Iterable[str] = ()) -> pd.Series:
    """Account names as text, spaces trimmed; blank cells and ``missing`` markers are <NA>.

    A whole-number float column (``account_id`` read as 1234.0 because of a gap) reads as
    ``1234``, as it was typed.
    """
    text = _as_typed(values)
    blank = text.isna() | text.eq("") | text.isin(list(missing))
    return text.mask(blank)


def _criterion_columns(scored: pd.DataFrame, criteria: Sequence[str]) -> None:
    wanted = [*LEAD_COLUMNS, *(f"{c}_met" for c in criteria), *(f"{c}_points" for c in criteria)]
    absent = [c for c in wanted if c not in scored.columns]
    if absent:
        raise ValueError(f"the scored table lacks {', '.join(absent)}: score it with explanations")


def _tristate(column: pd.Series) -> pd.Series:
    """``<criterion>_met`` as a nullable boolean, also when read back from a CSV as text."""
    if column.dtype == "boolean":
        return column
    words = column.astype("string").str.strip().str.lower()
    return words.map({"true": True, "false": False}).astype("boolean")


def _first_per_group(frame: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    """Each group's first row once sorted by ``order`` descending (ties: first in the file)."""
    ranked = frame.sort_values(order, ascending=False, kind="stable")
    return ranked.drop_duplicates(by).set_index(by)


def account_table(
    scored: pd.DataFrame,
    account: pd.Series,
    lead_ids: pd.Series,
    criteria: Sequence[str],
    missing: Iterable[str] = (),
) -> Accounts:
    """One row per account of the explained leads in ``scored`` (see the module docstring).

    ``account`` and ``lead_ids`` run along ``scored`` (same length, same order). Columns:
    ``account``, ``leads``, ``p_any``, ``expected_conversions``, ``best_lead`` (the most
    likely to convert; ties: first in the file), ``best_score``, ``best_grade``, ``covered``
    and ``open`` (criteria as "budget, authority", in the framework's order; open = not
    covered, whether failed or unknown), then per criterion ``<c>_covered`` (True / False /
    <NA>) and ``<c>_covered_by`` (the covering lead's id).
    """
    criteria = tuple(criteria)
    _criterion_columns(scored, criteria)
    if not len(account) == len(lead_ids) == len(scored):
        raise ValueError("account and lead_ids must run along the scored table")
    keys = account_keys(pd.Series(account).reset_index(drop=True), missing)
    present = keys.notna().to_numpy()
    p = scored["probability"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore"):  # a sure lead (p = 1) makes its account sure: -inf
        log_miss = np.log1p(-np.clip(p, 0.0, 1.0))
    leads = pd.DataFrame(
        {
            "group": keys.str.casefold().to_numpy(),
            "name": keys.to_numpy(),
            "lead": _as_typed(pd.Series(lead_ids).reset_index(drop=True)).to_numpy(),
            "p": p,
            "log_miss": log_miss,
            "score": scored["score"].to_numpy(),
            "grade": scored["grade"].astype("string").to_numpy(),
        }
    )
    for c in criteria:
        leads[f"{c}_met"] = _tristate(scored[f"{c}_met"].reset_index(drop=True)).to_numpy()
        leads[f"{c}_points"] = pd.to_numeric(scored[f"{c}_points"]).to_numpy(dtype=np.float64)
    leads = leads[present]
    if leads.empty:
        return Accounts(_empty(criteria), 0, int((~present).sum()), criteria)

    groups = leads.groupby("group", sort=False)
    out = pd.DataFrame({"account": groups["name"].first(), "leads": groups.size()})
    out["p_any"] = -np.expm1(groups["log_miss"].sum())
    out["expected_conversions"] = groups["p"].sum()
    best = _first_per_group(leads, "group", ["p"])
    out["best_lead"] = best["lead"]
    out["best_score"] = best["score"]
    out["best_grade"] = best["grade"]
    for c in criteria:
        met = leads[f"{c}_met"]
        meets = met.fillna(False).to_numpy(dtype=bool)
        any_met = pd.Series(meets, index=leads.index).groupby(leads["group"], sort=False).any()
        any_known = met.notna().groupby(leads["group"], sort=False).any()
        state = pd.array(any_met.to_numpy(), dtype="boolean")
        state[~any_known.to_numpy()] = pd.NA
        out[f"{c}_covered"] = pd.Series(state, index=any_met.index)
        covering = _first_per_group(leads[meets], "group", [f"{c}_points"])
        out[f"{c}_covered_by"] = covering["lead"].reindex(out.index).astype("string")
    flags = out[[f"{c}_covered" for c in criteria]].fillna(False).to_numpy(dtype=bool)
    names = np.array(criteria, dtype=object)
    out["covered"] = [", ".join(names[row]) for row in flags]
    out["open"] = [", ".join(names[~row]) for row in flags]
    out = out.sort_values(
        ["p_any", "expected_conversions", "best_score", "account"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    per_criterion = [col for c in criteria for col in (f"{c}_covered", f"{c}_covered_by")]
    table = out[[*ACCOUNT_COLUMNS, *per_criterion]].reset_index(drop=True)
    return Accounts(table, int(present.sum()), int((~present).sum()), criteria)


def _empty(criteria: Sequence[str]) -> pd.DataFrame:
    per_criterion = [col for c in criteria for col in (f"{c}_covered", f"{c}_covered_by")]
    return pd.DataFrame(columns=[*ACCOUNT_COLUMNS, *per_criterion])
