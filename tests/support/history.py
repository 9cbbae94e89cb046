"""Big score histories written by bulk SQL, for the tests of heavy reads and busy writers.

Scoring hundreds of thousands of leads over HTTP would take an hour; inserting the rows a server
would have written takes seconds, into the SQLite file of a server that has started (its tables
exist). bench/bench_reads.py fills its big tenant with it too: tests never import bench/, bench
imports the tests' support code.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: Rows per executemany: SQLite takes them in one transaction per chunk.
INSERT_CHUNK = 50_000


def fill_history(
    path: Path,
    tenant: str,
    rows: int,
    features: list[dict[str, Any]],
    *,
    leads: int | None = None,
    days: float = 25.0,
    now: datetime | None = None,
) -> int:
    """Insert ``rows`` served scores of ``tenant`` into the SQLite history at ``path`` (the
    table must exist: a server has started on it), spread evenly over the last ``days``, oldest
    first, for ``leads`` distinct lead ids (default: one per row), cycling ``features``; the
    row count written. Bulk SQL: seconds for hundreds of thousands of rows."""
    now = now or datetime.now(UTC)
    leads = leads or rows
    step = timedelta(days=days) / max(rows, 1)
    stored = [json.dumps(f) for f in features]
    grades = "ABCD"
    conn = sqlite3.connect(path, timeout=30)
    try:
        for start in range(0, rows, INSERT_CHUNK):
            batch = []
            for i in range(start, min(rows, start + INSERT_CHUNK)):
                at = now - timedelta(days=days) + step * i
                probability = ((i * 7919) % 1000) / 1000
                batch.append(
                    (
                        tenant,
                        f"{tenant}-{i % leads}",
                        "bench",
                        probability,
                        int(probability * 100),
                        grades[int(probability * 4) % 4],
                        at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        stored[i % len(stored)],
                    )
                )
            conn.executemany(
                "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, score, "
                "grade, scored_at, features, shadow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                batch,
            )
            conn.commit()
    finally:
        conn.close()
    return rows
