"""Columns read at training for a duty rather than for the model: leads that objected to
profiling (never learned from) and the audit columns (read to measure fairness, never
features, never stored). Both are settled here, once, as the table comes in.

GDPR Art. 21(2) makes the objection to profiling for direct marketing absolute, so an
objecting lead's row is dropped before anything else looks at it, and only its count is kept.
"""

from __future__ import annotations

import pandas as pd

from leadml.counts import plural
from leadml.errors import DataError
from leadml.schema.spec import LeadSchema


def drop_opted_out(frame: pd.DataFrame, schema: LeadSchema) -> tuple[pd.DataFrame, int]:
    """``frame`` without the leads that objected to profiling, and how many there were."""
    if not schema.opt_out:
        return frame, 0
    if schema.opt_out not in frame.columns:
        raise DataError(f"opt_out column '{schema.opt_out}' is not in the data")
    flagged = schema.opted_out(frame[schema.opt_out]).to_numpy(dtype=bool)
    if not flagged.any():
        return frame, 0
    return frame.loc[~flagged], int(flagged.sum())


def opted_out_note(schema: LeadSchema, count: int) -> list[str]:
    """The warning saying how many objecting leads were left out (none: no line)."""
    if not count:
        return []
    return [
        f"{plural(count, 'lead')} objected to profiling ('{schema.opt_out}'): never learned "
        "from and never scored"
    ]


def audit_frame(frame: pd.DataFrame, schema: LeadSchema) -> pd.DataFrame | None:
    """The schema's audit columns of ``frame``, as given (None: the schema names none)."""
    if not schema.audit:
        return None
    missing = [c for c in schema.audit if c not in frame.columns]
    if missing:
        raise DataError(f"audit columns not in the data: {', '.join(missing)}")
    return frame[list(schema.audit)]
