"""Leads that objected to profiling, set aside before the model runs (GDPR Art. 21).

A lead objected when its body carries the model schema's ``opt_out`` field with an objecting
value, or when its id is in the tenant's opt-out table (``POST /v1/opt-outs``, ``leadml
opt-outs import``), as the server's in-memory copy of it knows
(:mod:`serve.scoring.known_objections`: a set lookup, never more than ``REFRESH_S`` behind the
table, at once for this server's own posts). Such a lead is answered ``scored: false`` with the
reason: the model never reads it, the history never stores it and the shadow challenger never
sees it.

Scoring never fails because of the history database (its writes wait in a queue): when the
table cannot be read, the request is checked against the objections last read and the flags the
leads carry, and the table is not asked again for a while (logged), as the history's own reads
back off.
"""

from __future__ import annotations

from typing import Any

from leadml.history.opt_outs import REASON
from leadml.history.store import ScoreHistory
from leadml.schema.spec import LeadSchema
from serve.scoring.known_objections import known_to


def flagged(schema: LeadSchema, lead: dict[str, Any]) -> bool:
    """The lead's body says it objected (the schema's ``opt_out`` field, objecting value)."""
    return bool(schema.opt_out) and bool(schema.opted_out(lead.get(schema.opt_out)))


def not_scored(lead_id: str | None, model_version: str) -> dict[str, Any]:
    """The answer for a lead that objected: no probability, score or grade."""
    return {"lead_id": lead_id, "scored": False, "reason": REASON, "model_version": model_version}


async def objecting(
    schema: LeadSchema,
    history: ScoreHistory | None,
    tenant: str,
    leads: list[dict[str, Any]],
    ids: list[str | None],
) -> set[int]:
    """Positions of the leads that objected, by their body's flag or the tenant's table."""
    out = {i for i, lead in enumerate(leads) if flagged(schema, lead)}
    asked = [i for i in ids if i is not None]
    if history is None or not asked:
        return out
    found = await known_to(history).among(tenant, asked)
    return out | {i for i, lead_id in enumerate(ids) if lead_id in found}


def merged(
    scores: list[dict[str, Any]], aside: set[int], ids: list[str | None], version: str
) -> list[dict[str, Any]]:
    """The answers in the order the leads came: ``scores`` for the leads scored, ``not_scored``
    at the positions ``aside``."""
    kept = iter(scores)
    return [not_scored(ids[i], version) if i in aside else next(kept) for i in range(len(ids))]


def keep(items: list[Any], aside: set[int]) -> list[Any]:
    """``items`` without the positions ``aside``."""
    return [item for i, item in enumerate(items) if i not in aside]


def objected_detail(lead_id: str | None) -> str:
    """``POST /v1/explain``'s one-line 409 for a lead that objected."""
    who = f"lead {lead_id!r}" if lead_id is not None else "this lead"
    return f"{who} objected to profiling (GDPR Art. 21): not scored, not explained"
