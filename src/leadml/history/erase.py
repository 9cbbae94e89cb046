"""Erasure: every score and outcome of one lead, or of one tenant, deleted on request.

A customer who leaves, or a person who asks to be forgotten, is a deletion that cannot wait
for ``history_days``. ``leadml history erase`` and the service's ``POST /v1/admin/erase`` both
call :func:`erase`, so the rule is one: the lead's (or tenant's) served and shadow scores and
its outcomes go, in chunks like retention's, so the writer is never held out for long.

A lead id alone names a lead only within its tenant (two CRMs may both have lead 42): without
a tenant, the id must be found in exactly one, else the caller is asked to name it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history.retention import (
    CHUNK_ROWS,
    delete_in_chunks,
    existing_history,
    history_tables,
)
from leadml.history.tables import OUTCOMES, lead_outcomes, lead_scores


@dataclass(frozen=True)
class Erased:
    """What an erasure deleted."""

    tenant: str
    lead_id: str | None
    scores: int
    outcomes: int


def tenants_of(engine: sa.Engine, lead_id: str) -> list[str]:
    """The tenants whose history holds a score or an outcome of ``lead_id``."""
    with engine.connect() as conn:
        found = set(
            conn.scalars(
                sa.select(lead_scores.c.tenant).where(lead_scores.c.lead_id == lead_id).distinct()
            )
        )
        if sa.inspect(conn).has_table(OUTCOMES):
            query = sa.select(lead_outcomes.c.tenant).where(lead_outcomes.c.lead_id == lead_id)
            found.update(conn.scalars(query.distinct()))
    return sorted(found)


def which_tenant(engine: sa.Engine, lead_id: str) -> str:
    """The one tenant holding ``lead_id``; an error naming them when it is not exactly one."""
    tenants = tenants_of(engine, lead_id)
    if not tenants:
        raise LeadMLError(f"lead {lead_id!r} is in no tenant's history: nothing to erase")
    if len(tenants) > 1:
        raise LeadMLError(
            f"lead {lead_id!r} is in {len(tenants)} tenants' histories ({', '.join(tenants)}): "
            "name the one to erase with --tenant NAME"
        )
    return tenants[0]


def erase(engine: sa.Engine, tenant: str, lead_id: str | None = None) -> Erased:
    """Delete the tenant's scores and outcomes (only ``lead_id``'s when given); the counts.

    Raises ``LeadMLError`` when the database holds no score history and ``SQLAlchemyError``
    when it cannot be reached.
    """
    has_outcomes = history_tables(engine)
    s, o = lead_scores.c, lead_outcomes.c
    scores_of = s.tenant == tenant
    outcomes_of = o.tenant == tenant
    if lead_id is not None:
        scores_of = sa.and_(scores_of, s.lead_id == lead_id)
        outcomes_of = sa.and_(outcomes_of, o.lead_id == lead_id)
    ids = sa.select(s.id).where(scores_of).limit(CHUNK_ROWS)
    scores = delete_in_chunks(engine, lead_scores, ids, CHUNK_ROWS, 0.0, None)
    outcomes = 0
    if has_outcomes:
        ids = sa.select(o.id).where(outcomes_of).limit(CHUNK_ROWS)
        outcomes = delete_in_chunks(engine, lead_outcomes, ids, CHUNK_ROWS, 0.0, None)
    return Erased(tenant, lead_id, scores, outcomes)


def erase_history(url: str, tenant: str | None, lead_id: str | None) -> Erased:
    """``leadml history erase``: a tenant's data, or one lead's, from the history at ``url``.
    Only an existing history: a mistyped SQLite path is an error, never a new empty file."""
    if tenant is None and lead_id is None:
        raise LeadMLError("say what to erase: --tenant NAME, --lead ID, or both")
    with existing_history(url, "cannot be erased from") as engine:
        if tenant is None:
            assert lead_id is not None
            tenant = which_tenant(engine, lead_id)
        return erase(engine, tenant, lead_id)
