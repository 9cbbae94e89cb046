"""Leakage audit placeholder: the full guard (issue #5) replaces ``audit_leakage``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadml.schema import LeadSchema


@dataclass
class LeakageAudit:
    """Columns flagged as probably leaking the outcome, with the evidence, and those dropped."""

    flagged: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"flagged": self.flagged, "dropped": self.dropped}


def audit_leakage(frame: pd.DataFrame, y: np.ndarray, schema: LeadSchema) -> LeakageAudit:
    return LeakageAudit()
