"""What a model was trained on, in numbers only: rows, a content hash, target rate, time window.

The hash covers the feature columns and the target (never the id or personal data), so two
runs on the same leads are recognisably the same in MLflow without a row ever being logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from leadml.schema.spec import LeadSchema


def fingerprint(frame: pd.DataFrame, y: np.ndarray, schema: LeadSchema) -> dict[str, Any]:
    """Rows, content hash, target rate and time window of typed, checked leads."""
    columns = list(dict.fromkeys(f.column for f in schema.features))
    content = frame[columns].assign(**{schema.target: np.asarray(y)})
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(content, index=False).to_numpy().tobytes()
    ).hexdigest()
    out: dict[str, Any] = {
        "rows": len(frame),
        "columns": len(columns) + 1,
        "sha256": digest,
        "target_rate": float(np.mean(y)) if len(y) else float("nan"),
    }
    if schema.time and schema.time in frame.columns:
        stamps = frame[schema.time]
        out["time_from"] = str(stamps.min())
        out["time_to"] = str(stamps.max())
    return out


def combine_fingerprints(prints: Iterable[dict[str, Any] | None]) -> dict[str, Any]:
    """The fingerprint of a whole table from those of its parts: rows, columns, a hash of the
    parts' hashes in order, the target rate and the time window."""
    parts = [p for p in prints if p]
    rows = sum(p["rows"] for p in parts)
    digest = hashlib.sha256("".join(p["sha256"] for p in parts).encode()).hexdigest()
    out: dict[str, Any] = {
        "rows": rows,
        "columns": parts[0]["columns"],
        "sha256": digest,
        "sha256_of": "partition fingerprints, in partition order",
        "target_rate": sum(p["target_rate"] * p["rows"] for p in parts) / max(rows, 1),
    }
    starts = [
        pd.Timestamp(p["time_from"]) for p in parts if p.get("time_from") not in (None, "NaT")
    ]
    ends = [pd.Timestamp(p["time_to"]) for p in parts if p.get("time_to") not in (None, "NaT")]
    if starts:
        out["time_from"], out["time_to"] = str(min(starts)), str(max(ends))
    return out
