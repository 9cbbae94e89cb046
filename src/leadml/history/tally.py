"""Per-tenant counts of the history's writes: what ``/ready`` shows a tenant's key.

A CRM checking the service should learn whether *its* scores are being kept, not how much
every other tenant scores: the store's totals stay for the operator, and each tenant's share is
counted here as rows are queued, written and lost. Pending is what was queued and is neither
written nor lost yet, so it needs no scan of the queue.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any


class TenantTally:
    """Rows queued, written and dropped per tenant (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: Counter[str] = Counter()
        self._written: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()

    def queued(self, tenants: Iterable[str]) -> None:
        with self._lock:
            self._queued.update(tenants)

    def written(self, tenants: Iterable[str]) -> None:
        with self._lock:
            self._written.update(tenants)

    def dropped(self, tenants: Iterable[str]) -> None:
        with self._lock:
            self._dropped.update(tenants)

    def of(self, tenant: str) -> dict[str, Any]:
        """One tenant's counts: written, pending (queued, not yet written or lost), dropped."""
        with self._lock:
            written, dropped = self._written[tenant], self._dropped[tenant]
            pending = max(0, self._queued[tenant] - written - dropped)
        return {"written": written, "pending": pending, "dropped": dropped}
