"""``/v1/score``, ``/v1/explain`` and ``/v1/model``: what CRMs call.

The request bodies are built from the served model's schema when the app is made (that is what
puts field types, answers and descriptions into ``/docs``), so this router is made by a
function that receives them; everything else comes in through typed dependencies. Each route
parses, calls the scoring work (:mod:`serve.scoring`) and answers.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel

from leadml.features.inputs import MIN_FIELD_SHARE
from serve.deps import OPERATOR, History, Served, Shadow, Tenant, Viewer, require_key
from serve.edge.body import StrictJSONRoute
from serve.model.info import describe_model
from serve.routes.common import AUTH, BAD_INPUT
from serve.schemas.response_models import (
    ExplainResponse,
    FastJSONResponse,
    ModelInfo,
    ScoreResponse,
)
from serve.scoring.scorer import LeadScorer

BUSY = {
    503: {
        "description": "The score history is behind: nothing was scored; send the same "
        "request again after Retry-After seconds"
    }
}
#: An explanation is a profile: a lead that objected to profiling gets none (its score answer
#: is ``scored: false`` instead, beside the batch's other leads).
OBJECTED = {409: {"description": "The lead objected to profiling: not scored, not explained"}}


def scoring_router(
    lead_model: type[BaseModel],
    score_request: type[BaseModel],
    id_column: str | None,
    min_share: float | None = MIN_FIELD_SHARE,
) -> APIRouter:
    """The scoring routes for request bodies built from the served schema; leads giving fewer
    than ``min_share`` of the model's fields are refused (None: allowed)."""
    router = APIRouter(
        prefix="/v1",
        tags=["scoring"],
        dependencies=[Depends(require_key)],
        route_class=StrictJSONRoute,
    )
    scorer = LeadScorer(id_column, min_share)

    @router.post(
        "/score",
        response_model=ScoreResponse,
        summary="Score 1 to 1,000 leads",
        responses={**AUTH, **BAD_INPUT, **BUSY},
    )
    async def score(
        body: Annotated[score_request, Body()],  # type: ignore[valid-type]
        tenant: Tenant,
        loaded: Served,
        history: History,
        shadow: Shadow,
        explain: Annotated[
            bool, Query(description="Add criteria, BANT verdict and reasons (slower).")
        ] = True,
        detail: Annotated[
            Literal["basic", "full"],
            Query(
                description="full: add next steps (explained leads), the 90 % outcome interval "
                "and the unfamiliar flag (slower: next steps rescore each candidate change)."
            ),
        ] = "basic",
    ) -> FastJSONResponse:
        scored = await scorer.score(
            body.leads, tenant, loaded, history, explain=explain, full=detail == "full"
        )
        # Returned as a Response so FastAPI does not validate what we just built; the
        # response_model above documents it, and the tests check responses against it.
        response = FastJSONResponse(scored.answer)
        scored.hand_to(shadow)  # the answer is rendered: the challenger cannot change it
        return response

    @router.post(
        "/explain",
        response_model=ExplainResponse,
        summary="Explain one lead: every feature's contribution and the criterion roll-up",
        responses={**AUTH, **BAD_INPUT, **OBJECTED},
    )
    async def explain(
        lead: Annotated[lead_model, Body()],  # type: ignore[valid-type]
        loaded: Served,
        tenant: Tenant,
        history: History,
    ) -> FastJSONResponse:
        return FastJSONResponse(await scorer.explain(lead, loaded, tenant, history))

    @router.get(
        "/model",
        response_model=ModelInfo,
        summary="The served model: version, metrics, features, thresholds",
        responses=AUTH,
    )
    async def model_info(loaded: Served, who: Viewer) -> FastJSONResponse:
        return FastJSONResponse(describe_model(loaded, operator=who == OPERATOR))

    return router
