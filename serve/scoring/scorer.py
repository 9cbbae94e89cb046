"""One scoring request, start to end: the work ``/v1/score`` and ``/v1/explain`` call.

In order: the validated leads as dicts (``fields``), the refusal of leads that say too little,
the history's admission (a 503 before any scoring, ``recording``), the model (``predict``) on
the event loop or a worker thread, the history's rows and trends. The route renders the
answer; only then does the shadow challenger get the leads (:meth:`Scored.hand_to`), so it
can never change or delay an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel

from leadml.features.encoder import FeatureEncoder
from leadml.features.inputs import MIN_FIELD_SHARE
from leadml.history.store import ScoreHistory
from serve.model.holder import LoadedModel
from serve.model.shadow import ShadowScorer
from serve.scoring.fields import check_fields, lead_dicts, sent_fields
from serve.scoring.objections import keep, merged, objected_detail, objecting
from serve.scoring.predict import INLINE_LEADS, explain_one, score_leads
from serve.scoring.recording import add_history, admit

#: Explained batches up to this size are scored on the event loop when no other scoring
#: request is in progress: for a CRM sending leads one by one, the hop to a worker thread and
#: back (about 0.1 ms, more when the loop must wake up for it) is pure waiting. When other
#: requests are in progress, the explanation (TreeSHAP, about half a millisecond a lead with
#: the GIL released inside LightGBM) goes to a worker thread, so the loop goes on reading and
#: answering the others on the second core.
INLINE_EXPLAINED = 1


@dataclass(frozen=True)
class Scored:
    """A scored request: the answer's body, and what the shadow challenger reads after it."""

    answer: dict[str, Any]
    tenant: str
    leads: list[dict[str, Any]]
    ids: list[str | None]
    x: np.ndarray
    encoder: FeatureEncoder

    def hand_to(self, shadow: ShadowScorer | None) -> None:
        """Queue the leads for the challenger (never blocks, never raises): call it once the
        answer is rendered."""
        if shadow is not None and self.leads:
            shadow.submit(self.tenant, self.leads, self.ids, self.x, self.encoder)


class LeadScorer:
    """Scores requests for lead bodies built from the served schema.

    Counts the scoring requests between their start and their answer (one event loop reads
    and writes it, so a plain counter is enough): an explained lead stays on the loop only
    when it is alone.
    """

    def __init__(self, id_column: str | None, min_share: float | None = MIN_FIELD_SHARE) -> None:
        self.id_column = id_column
        #: Leads giving fewer than this share of the model's fields are refused (None: allowed).
        self.min_share = min_share
        self.in_flight = 0

    def alone(self) -> bool:
        return self.in_flight <= 1

    async def score(
        self,
        leads: list[BaseModel],
        tenant: str,
        loaded: LoadedModel,
        history: ScoreHistory | None,
        *,
        explain: bool,
        full: bool,
    ) -> Scored:
        """1 to ``max_leads`` leads scored with ``loaded`` and recorded in ``history``; a lead
        that objected to profiling is answered ``scored: false`` and never reaches either."""
        dicts, ids = lead_dicts(leads, self.id_column)
        schema = loaded.model.schema
        aside = await objecting(schema, history, tenant, dicts, ids)
        if aside:
            sent_ids = ids
            leads, dicts, ids = keep(leads, aside), keep(dicts, aside), keep(ids, aside)
            if not leads:
                scores = merged([], aside, sent_ids, loaded.version)
                answer = {"model_version": loaded.version, "scores": scores}
                x = np.empty((0, len(loaded.model.encoder.names)))
                return Scored(answer, tenant, [], [], x, loaded.model.encoder)
        check_fields(loaded, dicts, self.min_share, "leads")
        admit(history, ids)
        self.in_flight += 1
        try:
            n = len(dicts)
            inline = (n <= INLINE_EXPLAINED and self.alone()) if explain else n <= INLINE_LEADS
            sent = sent_fields(leads)
            if inline:
                scores, x = score_leads(loaded, dicts, ids, explain, sent, full)
            else:
                scores, x = await anyio.to_thread.run_sync(
                    score_leads, loaded, dicts, ids, explain, sent, full
                )
            encoder = loaded.model.encoder
            await add_history(history, tenant, scores, x, encoder, loaded.base_score)
        finally:
            self.in_flight -= 1
        if aside:
            scores = merged(scores, aside, sent_ids, loaded.version)
        answer = {"model_version": loaded.version, "scores": scores}
        return Scored(answer, tenant, dicts, ids, x, encoder)

    async def explain(
        self,
        lead: BaseModel,
        loaded: LoadedModel,
        tenant: str,
        history: ScoreHistory | None,
    ) -> dict[str, Any]:
        """One lead: every feature's contribution and the criterion roll-up; a 409 for a lead
        that objected to profiling (an explanation is a profile)."""
        dicts, ids = lead_dicts([lead], self.id_column)
        if await objecting(loaded.model.schema, history, tenant, dicts, ids):
            raise HTTPException(409, objected_detail(ids[0]))
        check_fields(loaded, dicts, self.min_share, "")
        self.in_flight += 1
        try:
            sent = sent_fields([lead])[0]
            if self.alone():
                return explain_one(loaded, dicts[0], ids[0], sent)
            return await anyio.to_thread.run_sync(explain_one, loaded, dicts[0], ids[0], sent)
        finally:
            self.in_flight -= 1
