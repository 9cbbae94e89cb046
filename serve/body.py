"""Request bodies read strictly: JSON only, every key once, text a database can store.

Python's ``json.loads`` takes the last of two equal keys without a word, so
``{"budget_range": "< 10k", "budget_range": "> 250k"}`` would be scored as a big budget: a
CRM mapping bug that should surface, not be scored. JSON also allows escapes that are not
Unicode text (a lone surrogate such as ``"\\ud800"``) and the NUL character, which no UTF-8
encoder and no PostgreSQL text column accepts: such a lead id would fail the response and
poison the history writer. Both are 422s that name the place, and a body sent as anything but
JSON (``text/csv``, a form) is a 415 that says what to send.

The check lives in the request FastAPI parses (:class:`StrictJSONRoute`), so the body is
parsed once: ``object_pairs_hook`` costs about 1.4 ms on a 1,000-lead body (2.8 ms plain), and
the text check runs only when the raw bytes hold an escape that could be bad.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from serve.errors import BodyRejected, field_path

#: Raw bytes that may decode to text no encoder accepts: a surrogate escape, an escaped NUL,
#: or UTF-8 bytes of a surrogate (``json.loads`` decodes bytes with "surrogatepass").
MAYBE_BAD_TEXT = re.compile(rb"\\u[dD][89a-fA-F]|\\u0000|\xed[\xa0-\xbf]")
UNSUPPORTED = "send the body as JSON with 'Content-Type: application/json'"


class _DuplicateKey(Exception):
    pass


class _Pairs(list):
    """An object's (key, value) pairs, duplicates kept: only to find where one is."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


def _printable(name: str) -> str:
    """A key as it can be put in a message (a bad key is shown escaped, never as is)."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _find_duplicate(node: Any, loc: tuple[Any, ...] = ()) -> tuple[tuple[Any, ...], str] | None:
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, _ in node:
            if key in seen:
                return loc, key
            seen.add(key)
        children: list[tuple[Any, Any]] = list(node)
    elif isinstance(node, list):
        children = list(enumerate(node))
    else:
        return None
    for key, value in children:
        found = _find_duplicate(value, (*loc, key))
        if found:
            return found
    return None


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _find_bad_text(node: Any, loc: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    if isinstance(node, str):
        return None if _storable(node) else loc
    if isinstance(node, dict):
        for key, value in node.items():
            if not _storable(key):
                return (*loc, key)
            found = _find_bad_text(value, (*loc, key))
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _find_bad_text(value, (*loc, i))
            if found is not None:
                return found
    return None


def _place(loc: tuple[Any, ...]) -> str:
    return field_path(["body", *(_printable(p) if isinstance(p, str) else p for p in loc)])


def strict_loads(body: bytes) -> Any:
    """``json.loads``, but duplicate keys and unstorable text are a :class:`BodyRejected`.

    Malformed JSON still raises ``json.JSONDecodeError`` (FastAPI's 400).
    """
    try:
        data = json.loads(body, object_pairs_hook=_unique)
    except _DuplicateKey:
        found = _find_duplicate(json.loads(body, object_pairs_hook=_Pairs))
        loc, key = found if found else ((), "?")
        where = _place(loc)
        field = _place((*loc, key))
        raise BodyRejected(
            422,
            f"duplicate key '{_printable(key)}' (in {where}): send each field once",
            [{"field": field, "message": "duplicate key", "type": "duplicate_key"}],
        ) from None
    if MAYBE_BAD_TEXT.search(body):
        bad = _find_bad_text(data)
        if bad is not None:
            field = _place(bad)
            message = "text is not valid Unicode or holds a NUL character"
            raise BodyRejected(
                422, f"{field}: {message}", [{"field": field, "message": message, "type": "text"}]
            )
    return data


def is_json(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json``, parameters (charset) allowed."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _sends_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("0", "")
    return "transfer-encoding" in request.headers


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`strict_loads` (FastAPI parses bodies with it)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An ``APIRoute`` whose JSON body is read strictly: ``APIRouter(route_class=...)``.

    Routes without a body are left exactly as FastAPI makes them (no extra cost on GETs).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.body_field is not None:
            # A new dict: a router may pass one shared ``responses`` dict to several routes.
            self.responses = {
                408: {"description": "The body did not arrive in time"},
                415: {"description": "The body is not sent as JSON"},
                **self.responses,
            }

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict_handler(request: Request) -> Response:
            content_type = request.headers.get("content-type")
            if content_type is None:
                if _sends_body(request):
                    raise HTTPException(415, f"no Content-Type: {UNSUPPORTED}")
            elif not is_json(content_type):
                raise HTTPException(415, f"Content-Type {content_type[:100]!r}: {UNSUPPORTED}")
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
