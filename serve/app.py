"""``create_app``: the FastAPI service CRMs call and the sales-ops page, from one settings object.

A thin factory: the model is loaded first, because the request bodies are built from its schema
(that is what puts field types, answers and descriptions into ``/docs``); then the routes are
mounted, one module per resource (:mod:`serve.routes`), each reading the served model, the
history and the key check through typed dependencies (:mod:`serve.deps`). The packages it
wires: :mod:`serve.edge` (keys, bodies, headers, errors, access log), :mod:`serve.model` (the
served model and its shadow), :mod:`serve.scoring` (the work behind the scoring routes) and
:mod:`serve.schemas` (every request and response body).

Around every route sits pure ASGI middleware, outermost first: the headers every response
carries (:mod:`serve.edge.middleware`), the Host allow-list (Starlette's
``TrustedHostMiddleware``: a page on another site cannot reach a loopback server through DNS
rebinding), and the deadline for request bodies.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp

from leadml.errors import LeadMLError
from leadml.features.inputs import never_negative
from leadml.history.store import ScoreHistory
from leadml.version import __version__
from serve.docs import install_docs
from serve.edge import access_log, errors
from serve.edge.auth import Auth, KeyRing
from serve.edge.middleware import BodyDeadline, ResponseHeaders
from serve.heavy_work import HeavyWork
from serve.model.holder import ModelHolder
from serve.model.shadow import ShadowScorer
from serve.routes import admin, health, history, opt_outs, outcomes
from serve.routes.monitor import monitor_router
from serve.routes.page import mount_static, page_router
from serve.routes.scoring import scoring_router
from serve.schemas.request_models import lead_request_model, score_request_model
from serve.settings import ServeSettings
from serve.shutdown import close_within, stop_deadline

log = logging.getLogger("serve")

DESCRIPTION = """
Lead conversion scores with their reasons, for CRMs and sales ops.

* `POST /v1/score`: 1 to 1,000 leads → probability, score 0–100, grade A–D, tier, stage, the
  qualification criteria (BANT by default) with their push and verdict, and plain reasons.
  `?explain=false` returns the numbers only (fastest).
* `POST /v1/explain`: one lead → every feature's contribution and the criterion roll-up.
* Send `Authorization: Bearer <key>` when the server has API keys (LEADML_API_KEYS); an
  admin key (LEADML_ADMIN_KEYS) for `/v1/admin`. **Authorize** above takes either.
* Bodies are JSON (`Content-Type: application/json`), each key once.
"""


#: Any route may be answered 400 by uvicorn's HTTP parser (httptools) before it runs: a
#: request whose framing or headers break HTTP/1.1. A route's own 400 (malformed JSON) wins.
MALFORMED_HTTP: dict[int | str, dict] = {
    400: {"description": "Malformed HTTP request (refused by the server's HTTP parser)"}
}


class LeadmlAPI(FastAPI):
    """FastAPI with :class:`ResponseHeaders` outside everything.

    Starlette sends some answers from outside every ``add_middleware`` layer: the last-resort
    500 and FastAPI's 413 for an oversized body. Wrapping the whole stack here puts the
    security headers and the request id on those too.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return ResponseHeaders(super().build_middleware_stack(), version=__version__)


def create_app(
    settings: ServeSettings | None = None,
    *,
    holder: ModelHolder | None = None,
) -> FastAPI:
    """The service for ``settings.model_ref`` (or an already loaded ``holder``)."""
    settings = settings or ServeSettings()
    if holder is None:
        if not settings.model_ref:
            raise LeadMLError("no model to serve: give --model REF (or LEADML_MODEL_REF)")
        holder = ModelHolder(
            settings.model_ref,
            settings.tracking_uri,
            settings.framework,
            bundle_key=settings.bundle_key,
            models_root=settings.reload_root,
            reload_timeout_s=settings.reload_timeout_s,
        )
    store = ScoreHistory.for_settings(settings)
    # Proved in a child process, then loaded (serve.model.shadow): a challenger that cannot
    # serve, or would crash the server, stops the start, not later.
    shadow = ShadowScorer.for_settings(settings, holder.api_schema, store)
    auth = Auth(KeyRing(settings.keys), KeyRing(settings.operator_keys))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        access_log.install()  # after uvicorn has set up its loggers
        if store is not None:
            await anyio.to_thread.run_sync(store.start)
        if shadow is not None:
            shadow.start()
        app.state.ready = True
        log.info(
            "serving %s from %s (auth %s, history %s)",
            holder.current.version,
            holder.current.ref,
            "on" if auth.enabled else "off",
            store.status()["database"] if store else "off",
        )
        yield
        app.state.ready = False
        # Within the shutdown budget from the signal (serve.shutdown): the shadow first, its
        # last rows going to the history before that closes, then the history's queue.
        deadline = stop_deadline(getattr(app.state, "stop_by", None), settings.shutdown_s)
        await close_within(deadline, shadow, store)

    app = LeadmlAPI(
        title="leadml",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        docs_url=None,  # served by serve.docs from local files
        redoc_url=None,
    )
    app.state.ready = False
    app.state.holder = holder
    app.state.history = store
    app.state.shadow = shadow
    app.state.settings = settings
    app.state.auth = auth
    app.state.heavy = HeavyWork()  # reads and outcome writes off scoring's threads
    errors.install(app)
    # add_middleware puts each one outside the ones before it (LeadmlAPI adds the headers).
    app.add_middleware(BodyDeadline, seconds=settings.body_timeout_s)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts, www_redirect=False)

    first = holder.current.model
    lead_model = lead_request_model(first.schema, first.encoder.levels, never_negative(first))
    score_request = score_request_model(lead_model, settings.max_leads)
    min_share = None if settings.allow_sparse else settings.min_field_share
    for router in (
        health.router,
        scoring_router(lead_model, score_request, first.schema.id, min_share),
        history.router,
        outcomes.router,
        opt_outs.router,
        monitor_router(),
        admin.router,
        page_router(holder, auth, store is not None, settings.max_leads),
    ):
        app.include_router(router, responses=MALFORMED_HTTP)
    mount_static(app)
    install_docs(app)
    return app
