"""Error responses a CRM integrator can act on, and no 500 for anything a client sends.

Validation errors name the field and the lead (``leads[3].budget_range``) and, for unknown
fields, list them all at once. Input values are never echoed back: a wrong value may sit next
to personal data, and the message already says what was expected.

Every error response carries the same headers as any other (:mod:`serve.middleware`), and
the last-resort 500's incident id is the request id the client already holds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from leadml.errors import LeadMLError
from serve.middleware import request_id

log = logging.getLogger("serve.errors")


class BodyRejected(HTTPException):
    """A body that parses but cannot be taken as it is (:mod:`serve.body`); a 422 with
    ``errors`` like every validation error."""

    def __init__(self, status_code: int, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(status_code, detail)
        self.errors = errors


def field_path(loc: Sequence[Any]) -> str:
    """('body', 'leads', 3, 'budget') → 'leads[3].budget'."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def describe(errors: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """A one-line summary and the per-field list for a 422 body."""
    items: list[dict[str, str]] = []
    unknown: dict[str, list[str]] = {}
    for error in errors:
        loc = tuple(error.get("loc", ()))
        path = field_path(loc)
        if error.get("type") == "extra_forbidden" and loc:
            # From the loc, not the dotted path: a field named "jane.doe@example.com" is one name.
            unknown.setdefault(str(loc[-1]), []).append(field_path(loc[:-1]))
        items.append({"field": path, "message": _message(error), "type": str(error.get("type"))})
    if unknown:
        names = ", ".join(f"'{n}'" for n in unknown)
        where = sorted({p for places in unknown.values() for p in places})
        shown = ", ".join(where[:5]) + (", ..." if len(where) > 5 else "")
        summary = f"unknown field{'s' if len(unknown) > 1 else ''} {names} (in {shown})"
        others = [i for i in items if i["type"] != "extra_forbidden"]
        if others:
            summary += f"; and {len(others)} other problem{'s' if len(others) > 1 else ''}"
        return summary, items
    first = items[0] if items else {"field": "body", "message": "invalid request"}
    summary = f"{first['field']}: {first['message']}"
    if len(items) > 1:
        summary += f" (and {len(items) - 1} more)"
    return summary, items


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    bad_json = [e for e in errors if e.get("type") == "json_invalid"]
    if bad_json:
        ctx = bad_json[0].get("ctx") or {}
        loc = bad_json[0].get("loc", ())
        position = loc[-1] if loc and isinstance(loc[-1], int) else None
        where = f" at character {position}" if position is not None else ""
        return JSONResponse(
            {"detail": f"malformed JSON{where}: {ctx.get('error', 'cannot parse')}"},
            status_code=400,
        )
    summary, items = describe(errors)
    return JSONResponse({"detail": summary, "errors": items}, status_code=422)


async def rejected_body(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyRejected)
    return JSONResponse({"detail": exc.detail, "errors": exc.errors}, status_code=exc.status_code)


async def leadml_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: a bug in leadml, never the client's input. Logged with an id to quote."""
    incident = request_id(request.scope)
    log.error(
        "internal error %s on %s %s",
        incident,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return JSONResponse(
        {"detail": f"internal error; quote incident {incident} when reporting it"},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(BodyRejected, rejected_body)
    app.add_exception_handler(LeadMLError, leadml_error)
    app.add_exception_handler(Exception, unexpected_error)
