"""The sales-ops page at ``/`` and the served model's report at ``/report``.

The page calls the same ``/v1`` API a CRM does (so what sales ops sees is what the CRM gets);
the template only hands it the field list, the framework and its criteria, whether a key is
needed and where the model report is. Nothing here touches a lead's personal data: the page
drops PII columns before anything is sent. Asset URLs in the template are root-relative
(``/static/app.js``), never ``url_for``: that builds absolute URLs from the Host header, which
the client chooses.

``/report`` serves one file only, the served bundle's own ``report.html``: its path comes from
the model being served, never from the request.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from leadml.bundle.check import read_meta
from leadml.bundle.files import holds_bundle
from leadml.explain.verdicts import qualified_rule
from leadml.schema.frameworks import criterion_label
from leadml.tracking.references import is_registry_reference
from serve.edge.auth import Auth
from serve.model.holder import LoadedModel, ModelHolder

HERE = Path(__file__).parents[1]
templates = Jinja2Templates(directory=HERE / "templates")

#: ``leadml.report.html.REPORT_FILE``, repeated so that serving does not import the report's
#: plotting stack (matplotlib, shap: half a second at start-up); a test pins the two together.
REPORT_FILE = "report.html"
#: A report is under a megabyte (a few base64 PNGs); anything far larger is not one of ours.
MAX_REPORT_BYTES = 32 * 2**20
REPORT_URL = "/report"
#: Rows in one page of the table: 1,500 leads are 15 pages, each drawn in a few milliseconds.
PAGE_ROWS = 100
INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def report_path(loaded: LoadedModel) -> Path | str:
    """The served model's ``report.html``, or a one-line reason why there is none to serve.

    Only a model loaded from a bundle folder has one on disk: a registry download was removed
    once loaded. The folder must still hold *this* model (a retrain may have written a new one
    there since), or its report would describe another model.
    """
    if is_registry_reference(loaded.ref):
        return f"the served model came from {loaded.ref}: its report is in that MLflow run"
    folder = Path(loaded.ref)
    path = folder / REPORT_FILE
    try:
        if not holds_bundle(folder) or not path.is_file() or path.is_symlink():
            return f"the served model ({loaded.version}) has no {REPORT_FILE}"
        if path.stat().st_size > MAX_REPORT_BYTES:
            return f"the served model's {REPORT_FILE} is too large to serve"
        on_disk = (read_meta(folder).get("meta") or {}).get("model_id")
    except (OSError, ValueError):
        return f"the served model's {REPORT_FILE} cannot be read"
    if on_disk != loaded.model.meta.get("model_id"):
        return f"the served model's folder now holds another model: its {REPORT_FILE} is not shown"
    return path


def report_policy(page: str) -> str:
    """A Content-Security-Policy for the report only: stricter than the site's, yet working.

    The report is one self-contained file (it must open from a mail attachment too), so its
    CSS is in ``<style>`` blocks and its plots are base64 PNGs. The site's policy
    (``default-src 'self'``) refuses inline CSS, which would show the report unstyled;
    ``'unsafe-inline'`` would allow any injected style. So each of this file's own style
    blocks is allowed by its SHA-256, ``data:`` images only, and nothing else at all: no
    script, no fetch, no frame, no form.
    """
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in INLINE_STYLE.findall(page)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {hashes}" if hashes else "style-src 'none'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


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
        has_report = isinstance(report_path(loaded), Path)
        # A criterion the export does not record is one sentence in the header, not a column
        # of "? unknown" on every lead.
        rule = qualified_rule(loaded.model, loaded.framework)
        context = {
            "model_version": loaded.version,
            "framework": loaded.framework.upper(),
            "probability_means": loaded.model.probability_means,
            "unrecorded_sentence": rule.sentence,
            "report_url": REPORT_URL if has_report else None,
            "page_config": {
                "fields": fields,
                # tojson sorts keys: the schema's own order, for the detail panel.
                "fieldOrder": [f.name for f in schema.features],
                "idField": schema.id,
                "missingValues": list(schema.missing_values),
                "framework": loaded.framework.upper(),
                # A list, not a dict: tojson sorts keys, and BANT reads in its own order.
                "criteria": [[c, criterion_label(c)] for c in rule.recorded],
                # False: too few criteria recorded to judge any lead (the header says why).
                "judges": rule.judges,
                "authRequired": keys.enabled,
                "history": history_enabled,
                "maxLeads": max_leads,
                "pageRows": PAGE_ROWS,
                "reportUrl": REPORT_URL if has_report else None,
            },
        }
        return templates.TemplateResponse(request, "index.html", context)

    @router.get(REPORT_URL)
    def report() -> Response:
        """The served model's report; no parameter reaches the path (404 when it has none)."""
        found = report_path(holder.current)
        if not isinstance(found, Path):
            return PlainTextResponse(found + "\n", status_code=404)
        try:
            page = found.read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            return PlainTextResponse(f"the served model's {REPORT_FILE} cannot be read\n", 404)
        # Not cached: a reload may serve another model (and report) at the same address.
        headers = {"Content-Security-Policy": report_policy(page), "Cache-Control": "no-cache"}
        return HTMLResponse(page, headers=headers)

    return router


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
