"""``/docs``: Swagger UI served from this server, so it works offline and under a strict CSP.

FastAPI's default ``/docs`` loads Swagger UI from a CDN: blank on a machine without internet
(where many scoring services run) and a third-party script on the page that holds an API key.
The files come from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, the first major that
reads the OpenAPI 3.1 FastAPI writes; ``swagger-ui-bundle`` 1.1 ships 4.15, which refuses it).
FastAPI's page starts Swagger UI with one inline script; instead of allowing inline scripts,
``/docs`` sends a CSP that allows exactly that script by its SHA-256. ReDoc is off.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from serve.edge.middleware import CSP

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def csp_allowing(html: str, base: str = CSP) -> str:
    """``base`` plus a ``script-src`` naming this page's own scripts and its inline ones."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in INLINE_SCRIPT.findall(html)
    ]
    return f"{base}; script-src 'self' {' '.join(hashes)}".rstrip()


def install_docs(app: FastAPI) -> None:
    """Mount Swagger UI's files and serve the page that loads them (built once)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        # No badge fetched from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    html = bytes(page.body).decode()
    headers = {"content-security-policy": csp_allowing(html)}

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> Response:
        return Response(html, media_type="text/html", headers=headers)
