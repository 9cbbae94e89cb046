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

What a body may cost the event loop (issue 27): FastAPI reads and parses a body before it runs
any dependency, so four clients without a key posting 2 MB bodies raised a keyed client's p50
from 10 ms to 1 s. Here the route's key check runs first: a request without a valid key gets
its 401 before its body is read (uvicorn drops the rest of it in its C parser). A body with a
key is parsed, its unknown fields counted (:mod:`serve.edge.body_shape`) and validated in one go:
inline when small, in a worker thread above :data:`INLINE_BYTES`, at most
``serve.heavy_work.PARSE_THREADS`` at a time, so big bodies neither hold the loop nor take
every worker thread from scoring. FastAPI then meets an already validated model and passes it
through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from serve.edge.auth import KeyScheme
from serve.edge.body_shape import MAX_UNKNOWN, Shape, count_unknown, shape_of
from serve.edge.errors import BodyRejected, UnknownFields, describe, field_path

#: Raw bytes that may decode to text no encoder accepts: a surrogate escape, an escaped NUL,
#: or UTF-8 bytes of a surrogate (``json.loads`` decodes bytes with "surrogatepass").
MAYBE_BAD_TEXT = re.compile(rb"\\u[dD][89a-fA-F]|\\u0000|\xed[\xa0-\xbf]")
UNSUPPORTED = "send the body as JSON with 'Content-Type: application/json'"
#: Bodies up to this size are parsed and validated on the event loop (about a millisecond: a
#: thread hop and the GIL hand-over back would cost as much); bigger ones in a worker thread.
INLINE_BYTES = 64 * 1024


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


def _big_body(request: Request) -> bool:
    """A body over :data:`INLINE_BYTES`, or of unknown length (chunked)."""
    length = request.headers.get("content-length")
    if length is None:
        return "transfer-encoding" in request.headers
    return not length.strip().isdigit() or int(length) > INLINE_BYTES


def refuse_unread(request: Request, keys: list[KeyScheme]) -> None:
    """Run the route's key checks before its body is read.

    A refused request with a big body is answered with ``Connection: close``: uvicorn then
    stops reading the connection, instead of receiving (and dropping) up to 2 MB more for a
    client that has no key. A small body is already in and is dropped, so the connection is
    kept and the client reads its 401 as usual.
    """
    try:
        for scheme in keys:
            scheme.verify(request)
    except HTTPException as exc:
        if not _big_body(request):
            raise
        headers = {**(exc.headers or {}), "Connection": "close"}
        raise HTTPException(exc.status_code, exc.detail, headers=headers) from None


class BodyReader:
    """A route's body read whole: strict JSON, unknown fields counted, then validated.

    Returns the validated model (FastAPI validates it again, which for an instance of the
    model is a type check). A route whose body is not one model (none here) gets the JSON.
    """

    def __init__(self, route: APIRoute) -> None:
        field = route.body_field
        self.field = None if field is None or route._embed_body_fields else field
        self.shape: Shape | None = (
            shape_of(self.field.field_info.annotation) if self.field else None
        )

    def read(self, body: bytes) -> Any:
        data = strict_loads(body)
        if self.field is None:
            return data
        if self.shape is not None:
            unknown = UnknownFields()
            count_unknown(data, self.shape, unknown)
            if unknown.sent > MAX_UNKNOWN:
                raise BodyRejected(422, unknown.summary(), unknown.items())
        value, errors = self.field.validate(data, {}, loc=("body",))
        if errors:
            summary, items = describe(errors)
            raise BodyRejected(422, summary, items)
        return value


class StrictJSONRequest(Request):
    """A request whose ``json()`` is its route's :class:`BodyReader` (FastAPI parses with it)."""

    def __init__(self, scope: Scope, receive: Receive, reader: BodyReader) -> None:
        super().__init__(scope, receive)
        self._reader = reader

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            if len(body) <= INLINE_BYTES:
                self._json = self._reader.read(body)
            else:
                self._json = await anyio.to_thread.run_sync(
                    self._reader.read, body, limiter=self.app.state.heavy.parses
                )
        return self._json


def key_checks(dependant: Dependant) -> list[KeyScheme]:
    """The key schemes a route depends on (its router's included), outermost first."""
    found = []
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, KeyScheme):
            found.append(dependency.call)
        found.extend(key_checks(dependency))
    return list(dict.fromkeys(found))


class StrictJSONRoute(APIRoute):
    """An ``APIRoute`` whose JSON body is read strictly: ``APIRouter(route_class=...)``.

    Routes without a body are left exactly as FastAPI makes them (no extra cost on GETs).
    Routes with one check their key before the body is read: FastAPI would read and parse the
    body first, and only then run the dependency that refuses the request.
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

        reader = BodyReader(self)
        keys = key_checks(self.dependant)

        async def strict_handler(request: Request) -> Response:
            refuse_unread(request, keys)  # 401 / 403 with the body still unread
            content_type = request.headers.get("content-type")
            if content_type is None:
                if _sends_body(request):
                    raise HTTPException(415, f"no Content-Type: {UNSUPPORTED}")
            elif not is_json(content_type):
                raise HTTPException(415, f"Content-Type {content_type[:100]!r}: {UNSUPPORTED}")
            return await handler(StrictJSONRequest(request.scope, request.receive, reader))

        return strict_handler
