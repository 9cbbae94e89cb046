"""The sales-ops page at ``/``: one server-rendered template and a little JavaScript.

The page calls the same ``/v1`` API a CRM does (so what sales ops sees is what the CRM gets);
the template only hands it the field list, the criteria and whether a key is needed. Nothing
here touches a lead's personal data: the page drops PII columns before anything is sent.
Asset URLs in the template are root-relative (``/static/app.js``), never ``url_for``: that
builds absolute URLs from the Host header, which the client chooses.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from leadml.schema.frameworks import criterion_label
from serve.auth import Auth
from serve.holder import ModelHolder

HERE = Path(__file__).parents[1]
templates = Jinja2Templates(directory=HERE / "templates")


def page_router(
    holder: ModelHolder, keys: Auth, history_enabled: bool, max_leads: int
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    schema = holder.api_schema
    fields = {
        f.name: {"kind": f.kind, "display": f.label, "levels": f.levels or []}
        for f in schema.features
    }

    @router.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        loaded = holder.current
        context = {
            "model_version": loaded.version,
            "framework": loaded.framework.upper(),
            "criteria": [{"name": c, "label": criterion_label(c)} for c in loaded.criteria],
            "page_config": {
                "fields": fields,
                "idField": schema.id,
                "missingValues": list(schema.missing_values),
                # A list, not a dict: tojson sorts keys, and BANT reads in its own order.
                "criteria": [[c, criterion_label(c)] for c in loaded.criteria],
                "authRequired": keys.enabled,
                "history": history_enabled,
                "maxLeads": max_leads,
            },
        }
        return templates.TemplateResponse(request, "index.html", context)

    return router


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
