"""A scoring request and the score history: admitted before scoring, recorded after it.

Refusing up front is what lets the history keep every score it acknowledged: a CRM that got
a 200 has its scores stored; one that got a 503 (with Retry-After) sends the same leads again.
Each score also gets its trend against the tenant's previous score of that lead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import anyio
import numpy as np
from fastapi import HTTPException

from leadml.features.encoder import FeatureEncoder
from leadml.history.changes import kept_criteria
from leadml.history.rows import ScoreRecord, trend
from leadml.history.store import HistoryBusy, ScoreHistory
from serve.scoring.predict import INLINE_LEADS


def busy(exc: HistoryBusy) -> HTTPException:
    """The 503 that tells the CRM when to send the same request again."""
    return HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


def admit(history: ScoreHistory | None, ids: list[str | None]) -> None:
    """503 with Retry-After, before any scoring, when the history could not take these scores."""
    if history is None:
        return
    try:
        history.admit(sum(1 for i in ids if i is not None))
    except HistoryBusy as exc:
        raise busy(exc) from None


async def add_history(
    history: ScoreHistory | None,
    tenant: str,
    scores: list[dict],
    x: np.ndarray,
    encoder: FeatureEncoder,
    base_score: float,
) -> None:
    """Each score's trend against the tenant's previous score of that lead; the new scores
    are recorded with the values the model read from ``x`` (never free text) and, when
    explained, their criteria's points against ``base_score`` (the average lead's score)."""
    for s in scores:
        s["trend"] = s["previous_score"] = None
    if history is None:
        return
    known = [(s, row) for s, row in zip(scores, x, strict=True) if s["lead_id"] is not None]
    if not known:
        return
    previous, unknown = history.remembered(tenant, [s["lead_id"] for s, _ in known])
    if unknown:  # only the database knows: ask it off the event loop
        previous.update(await anyio.to_thread.run_sync(history.look_up, tenant, unknown))
    # Decoding the matrix back to values costs microseconds a lead: a big batch does it off
    # the event loop, as its scoring was.
    rows = [row for _, row in known]
    if len(rows) <= INLINE_LEADS:
        values = [encoder.known_values(row) for row in rows]
    else:
        values = await anyio.to_thread.run_sync(lambda: [encoder.known_values(r) for r in rows])
    now = datetime.now(UTC)
    records = []
    for (s, _), stored in zip(known, values, strict=True):
        before = previous.get(s["lead_id"])
        s["previous_score"] = before
        s["trend"] = trend(s["score"], before)
        records.append(
            ScoreRecord(
                tenant,
                s["lead_id"],
                s["model_version"],
                s["probability"],
                s["score"],
                s["grade"],
                now,
                stored,
                **kept_criteria(s.get("criteria"), s["probability"], base_score),
                scored_by=s.get("model"),
            )
        )
    ticket = history.record(records)
    if history.sync:  # LEADML_HISTORY_SYNC: answered only once the database has them
        try:
            await history.wait_written(ticket, len(records))
        except HistoryBusy as exc:
            raise busy(exc) from None
