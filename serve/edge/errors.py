"""Error responses a CRM integrator can act on, and no 500 for anything a client sends.

Validation errors name the field and the lead (``leads[3].budget_range``) and, for unknown
fields, list them at once. Input values are never echoed back: a wrong value may sit next
to personal data, and the message already says what was expected.

Every answer is bounded, whatever the body held: a body of 150,000 unknown fields once came back
as a 16 MB 422. The summary names the first :data:`SHOWN_NAMES` unknown fields and the count
("150,000 unknown fields: 'f1', 'f2', … and 149,990 more"), ``errors`` lists the first
:data:`MAX_ERRORS` problems (``error_count`` says how many there were when more), and every name
and message is cut to a length a screen can show.

Every error response carries the same headers as any other (:mod:`serve.edge.middleware`), and
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
from serve.edge.middleware import request_id

log = logging.getLogger("serve.errors")


class BodyRejected(HTTPException):
    """A body that parses but cannot be taken as it is (:mod:`serve.edge.body`); a 422 with
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


#: Unknown field names a summary lists before "… and N more".
SHOWN_NAMES = 10
#: Places ("leads[3]") a summary lists before ", ...".
SHOWN_PLACES = 5
#: Per-field errors an answer lists; ``error_count`` gives the total when there are more.
MAX_ERRORS = 20
#: A field name or path as shown (a key may be a megabyte long), and a message.
NAME_CHARS = 80
PATH_CHARS = 200
MESSAGE_CHARS = 300
#: A summary line (it names fields and places, each already cut).
DETAIL_CHARS = 2000


def cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters long, an ellipsis saying it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


class UnknownFields:
    """Unknown field names and the objects they were sent in, for one bounded summary.

    Both the pre-validation count (:mod:`serve.edge.body_shape`) and pydantic's own
    ``extra_forbidden`` errors are summarised here, so the message reads the same whichever
    found them. Names are kept in the order sent (the first ones are what a CRM developer
    looks for); all distinct names are counted.
    """

    def __init__(self) -> None:
        self.names: dict[str, None] = {}
        self.places: dict[str, None] = {}
        self.sent = 0  # occurrences, a name in 1,000 leads counts 1,000 times

    def add(self, name: str, place: str) -> None:
        self.names[name] = None
        self.places[place] = None
        self.sent += 1

    def add_all(self, names: list[str], place: str) -> None:
        self.names.update(dict.fromkeys(names))
        self.places[place] = None
        self.sent += len(names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def summary(self) -> str:
        count = len(self.names)
        shown = ", ".join(f"'{cut(n, NAME_CHARS)}'" for n in list(self.names)[:SHOWN_NAMES])
        if count <= SHOWN_NAMES:
            head = f"unknown field{'s' if count > 1 else ''} {shown}"
        else:
            head = f"{count:,} unknown fields: {shown} … and {count - SHOWN_NAMES:,} more"
        where = list(self.places)
        places = ", ".join(cut(p, PATH_CHARS) for p in where[:SHOWN_PLACES])
        return f"{head} (in {places}{', ...' if len(where) > SHOWN_PLACES else ''})"

    def items(self) -> list[dict[str, str]]:
        """One error per name shown (the place of its first object), as ``errors`` lists."""
        first = next(iter(self.places), "body")
        return [
            {
                "field": f"{first}.{name}" if first != "body" else name,
                "message": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
            for name in list(self.names)[:SHOWN_NAMES]
        ]


def describe(errors: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """A one-line summary and the per-field list for a 422 body (the list is cut by
    :func:`answer`)."""
    items: list[dict[str, str]] = []
    unknown = UnknownFields()
    for error in errors:
        loc = tuple(error.get("loc", ()))
        path = field_path(loc)
        if error.get("type") == "extra_forbidden" and loc:
            # From the loc, not the dotted path: a field named "jane.doe@example.com" is one name.
            unknown.add(str(loc[-1]), field_path(loc[:-1]))
        items.append({"field": path, "message": _message(error), "type": str(error.get("type"))})
    if unknown:
        summary = unknown.summary()
        others = len(items) - unknown.sent
        if others:
            summary += f"; and {others} other problem{'s' if others > 1 else ''}"
        return summary, items
    first = items[0] if items else {"field": "body", "message": "invalid request"}
    summary = f"{first['field']}: {first['message']}"
    if len(items) > 1:
        summary += f" (and {len(items) - 1} more)"
    return summary, items


def answer(status: int, detail: str, items: list[dict[str, str]]) -> JSONResponse:
    """A 4xx with its summary and at most :data:`MAX_ERRORS` of its errors, whatever it found."""
    shown = [
        {
            **item,
            "field": cut(item["field"], PATH_CHARS),
            "message": cut(item["message"], MESSAGE_CHARS),
        }
        for item in items[:MAX_ERRORS]
    ]
    body: dict[str, Any] = {"detail": cut(detail, DETAIL_CHARS), "errors": shown}
    if len(items) > MAX_ERRORS:
        body["error_count"] = len(items)
    return JSONResponse(body, status_code=status)


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
    return answer(422, summary, items)


async def rejected_body(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyRejected)
    return answer(exc.status_code, exc.detail, exc.errors)


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
