"""The history's reads: a lead's previous score (memory first), a tenant's recent leads, one
lead's scores over time. Every read is one tenant's; unreadable stored rows are skipped.

A mixin of :class:`~leadml.history.store.ScoreHistory`, which owns the engine, the in-memory
latest scores and the failure bookkeeping these share with the writer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from leadml.errors import LeadMLError
from leadml.history.engine import redact
from leadml.history.rows import latest_query, lead_query, recent_query, served_row

log = logging.getLogger("leadml.history")

#: After a failed read, trend look-ups skip the database for this long.
READ_BACKOFF_S = 5.0


class HistoryUnavailable(LeadMLError):
    """The history database cannot be read right now (scoring goes on without it)."""


class HistoryReads:
    """Reads over the store's engine; the store provides what is declared here."""

    url: str
    engine: sa.Engine
    last_error: str | None
    _latest: OrderedDict[tuple[str, str], int]
    _latest_lock: threading.Lock
    _reads_paused_until: float

    def _ensure_schema(self) -> bool:
        raise NotImplementedError

    def _failed(self, what: str, exc: BaseException) -> None:
        raise NotImplementedError

    def previous_scores(self, tenant: str, lead_ids: Sequence[str]) -> dict[str, int]:
        """Each of the tenant's leads' latest score so far: from memory, else one query."""
        found, missing = self.remembered(tenant, lead_ids)
        if missing:
            found.update(self.look_up(tenant, missing))
        return found

    def remembered(self, tenant: str, lead_ids: Sequence[str]) -> tuple[dict[str, int], list[str]]:
        """(latest scores known in memory, ids that only the database can answer for)."""
        found: dict[str, int] = {}
        missing: list[str] = []
        with self._latest_lock:
            for lead_id in lead_ids:
                score = self._latest.get((tenant, lead_id))
                if score is None:
                    missing.append(lead_id)
                else:
                    found[lead_id] = score
        return found, missing

    def look_up(self, tenant: str, lead_ids: Sequence[str]) -> dict[str, int]:
        """Latest scores from the database ({} while reads are paused after a failure)."""
        if time.monotonic() < self._reads_paused_until:
            return {}
        return self._query_latest(tenant, sorted(set(lead_ids)))

    def _query_latest(self, tenant: str, lead_ids: list[str]) -> dict[str, int]:
        if not self._ensure_schema():
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(latest_query(tenant, lead_ids)).all()
        except SQLAlchemyError as exc:
            self._failed("cannot read previous scores (trends skipped)", exc)
            self._reads_paused_until = time.monotonic() + READ_BACKOFF_S
            return {}
        found: dict[str, int] = {}
        for row in rows:
            try:
                found[row.lead_id] = int(row.score)
            except (TypeError, ValueError, OverflowError):
                continue  # an unreadable stored score is no previous score
        return found

    def recent(
        self, tenant: str, limit: int = 50, before: int | None = None
    ) -> list[dict[str, Any]]:
        """The tenant's most recently scored leads, newest first, one row per lead; ``before``:
        the page after that row (``rows.recent_query``)."""
        return self._rows(recent_query(tenant, limit, before))

    def lead(self, tenant: str, lead_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """One of the tenant's leads' scores over time, oldest first (what a trend is read from)."""
        return list(reversed(self._rows(lead_query(tenant, lead_id, limit))))

    def _rows(self, query: sa.Select) -> list[dict[str, Any]]:
        if not self._ensure_schema():
            raise HistoryUnavailable(self.last_error or "score history unavailable")
        try:
            with self.engine.connect() as conn:
                raw = conn.execute(query).all()
        except SQLAlchemyError as exc:
            self._failed("cannot read the history", exc)
            raise HistoryUnavailable(self.last_error or "score history unavailable") from None
        rows = [row for row in map(served_row, raw) if row is not None]
        if len(rows) < len(raw):
            log.warning(
                "score history %s: %d stored rows could not be read and were skipped",
                redact(self.url),
                len(raw) - len(rows),
            )
        return rows
