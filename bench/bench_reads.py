"""Heavy reads against scoring: `/v1/monitor` and `/v1/history` on a tenant with 436,000 scores.

The issue's figure (issue 27, finding 5): on a tenant with about 436,000 rows, `/v1/monitor`
took 28–41 s a call and two such calls raised scoring's worst latency to 2.1 s; thirty
concurrent `GET /v1/history` made one new lead wait 30 s. This builds that history by bulk SQL
insert into a real server's SQLite file (scoring 436,000 leads over HTTP would take an hour),
then measures, over real HTTP: the monitor's first and cached answers, scoring's p50/p99 while
two monitor calls run, one page of `/v1/history`, and one new lead's score while thirty
listings are in flight. Goals: the monitor under 2 s, scoring's p99 under 50 ms meanwhile.

``fill_history`` is shared with tests/serve/test_heavy_reads.py (which builds a smaller one).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: bench/ and the project both importable
    sys.path.insert(0, str(ROOT))


#: The issue's tenant.
ROWS = 436_000
TENANT = "big"
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
