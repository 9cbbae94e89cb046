"""Where the monitor's recent leads come from: the score history, or a file of leads.

From the history, each lead is rebuilt from the values the model read when it was scored
(``features``: numbers, booleans and known answers, nothing else), so drift is measured on
exactly what the model saw, and no personal data is ever involved. Two consequences are said
rather than hidden: an answer the model had never seen was stored as missing, so a new lead
source shows as a rise of "missing" there, not by its name (a file shows the name); and date
features are not stored (they are read from their date column), so their drift is measured
from files only.

Each lead is rescored with the model being monitored, from those same values: realized and
estimated figures are then that model's, even when the history mixes the scores of several
versions (a promotion or a rollback within the window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from leadml.bundle.model import LeadModel
from leadml.errors import LeadMLError
from leadml.features.encoder import DATE_KINDS

_SPAN = re.compile(r"^\s*(\d+)\s*([dhw])\s*$")
_UNITS = {"d": "days", "h": "hours", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30d``, ``12h``, ``2w`` (before now) or a date / ISO time, as a UTC time."""
    now = now or datetime.now(UTC)
    span = _SPAN.match(text)
    if span:
        return now - timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise LeadMLError(
            f"--since {text!r}: give a span such as 30d, 12h or 2w, or a date (2026-11-01)"
        ) from None
    if stamp is pd.NaT:
        raise LeadMLError(f"--since {text!r} is not a date")
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.to_pydatetime()


@dataclass
class RecentLeads:
    """Leads to monitor on, as raw columns, with their outcomes where known."""

    leads: pd.DataFrame
    converted: pd.Series | None
    window: str
    notes: list[str] = field(default_factory=list)
    #: Features whose drift this source cannot show (left out of the drift report).
    unmeasured: list[str] = field(default_factory=list)
    #: When the newest of them was scored (from the history; None for a file).
    newest: datetime | None = None


def from_history(model: LeadModel, scored: pd.DataFrame, window: str) -> RecentLeads:
    """The history's rows (``leadml.history.window.scored_leads``) as leads the model reads."""
    if scored.empty:
        raise LeadMLError(
            f"the score history holds no scored lead {window}: score leads through "
            "`leadml serve` first, or monitor a file with --data FILE"
        )
    columns = {f.name: f.column for f in model.schema.features}
    rows = [
        {columns.get(name, name): value for name, value in (stored or {}).items()}
        for stored in scored["features"]
    ]
    leads = pd.DataFrame.from_records(rows, index=scored.index)
    for name in model.encoder.names:  # a field no lead answered is still a column
        column = columns.get(name, name)
        if column not in leads.columns:
            leads[column] = None
    unmeasured = [
        name
        for name, kind in zip(model.encoder.names, model.encoder.kinds, strict=True)
        if kind in DATE_KINDS
    ]
    notes = []
    if unmeasured:
        notes.append(
            f"date features ({', '.join(unmeasured)}) are not kept in the history: "
            "monitor a file with --data to see their drift"
        )
    notes.append(
        "answers the model had never seen are stored as missing: a new value shows as a rise "
        "of missing answers (monitor a file with --data to see it by name)"
    )
    newest = pd.Timestamp(scored["scored_at"].max()).to_pydatetime()
    converted = scored["converted"].astype("boolean")
    return RecentLeads(leads, converted, window, notes, unmeasured, newest)


def from_file(model: LeadModel, frame: pd.DataFrame, source: str) -> RecentLeads:
    """Leads read from a file; outcomes from the schema's target column when it is there."""
    if frame.empty:
        raise LeadMLError(f"{source} holds no leads")
    target = model.schema.target
    converted = None
    if target in frame.columns:
        from leadml.data.target import CONVERTED, NOT_CONVERTED, outcome_codes

        # a blank outcome, or an open lead, is one not known yet
        codes = outcome_codes(frame[target], model.schema)
        converted = pd.Series(codes == CONVERTED, index=frame.index, dtype="boolean")
        converted[~np.isin(codes, (CONVERTED, NOT_CONVERTED))] = pd.NA
    return RecentLeads(frame, converted, f"in {source}")
