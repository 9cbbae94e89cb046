"""What every response carries, and a bound on slow request bodies: pure ASGI middleware.

Pure ASGI (a class called with ``scope, receive, send``), not Starlette's
``BaseHTTPMiddleware``, which runs the app in a second task and streams every body through a
queue: these touch only the header list and, for requests with a body, ``receive``. Each costs
a few microseconds a request (measured in the README), against a service whose next goal is to
halve its latency.

* :class:`ResponseHeaders`: the browser-side defences (a Content-Security-Policy allowing only
  this server's own files, no framing, no MIME sniffing, no Referer leaking a lead's URL), an
  ``X-Request-ID`` to quote in a support ticket and find in the log, and ``X-Leadml-Version``.
* :class:`BodyDeadline`: a client that sends its headers and then trickles or stalls its body
  holds a connection and a request slot for ever; uvicorn 0.54 has no read timeout for bodies
  (``timeout_keep_alive`` only covers idle connections between requests). After the deadline
  the request is answered 408 and the connection closed.
"""

from __future__ import annotations

import asyncio
import os
import re

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Only this server's own scripts, styles, images and API; nothing may frame the page.
#: ``data:`` images: Swagger UI's icons are inline SVGs in its stylesheet.
CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CSP_HEADER = b"content-security-policy"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
REQUEST_ID_HEADER = b"x-request-id"
VERSION_HEADER = b"x-leadml-version"
#: A client's request id is echoed only if it is short and plain: it goes into log lines and
#: response headers, where spaces, quotes or control characters could forge or break them.
SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


def new_request_id() -> str:
    """96 random bits as 24 hex characters: unique enough across replicas and restarts."""
    return os.urandom(12).hex()


def request_id(scope: Scope) -> str:
    """The id :class:`ResponseHeaders` gave this request (one is made if it has not run)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = new_request_id()
    return state["request_id"]


class ResponseHeaders:
    """Security headers, ``X-Request-ID`` and ``X-Leadml-Version`` on every HTTP response.

    A route may send its own Content-Security-Policy (``/docs`` adds the hash of Swagger UI's
    inline script); every other header is always this middleware's.
    """

    def __init__(self, app: ASGIApp, version: str, csp: str = CSP) -> None:
        self.app = app
        self.fixed = ((VERSION_HEADER, version.encode()), *SECURITY_HEADERS)
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_id = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                sent_id = value
                break
        if sent_id is not None and SANE_REQUEST_ID.fullmatch(sent_id):
            rid = sent_id.decode()
        else:
            rid = new_request_id()
        # Starlette's request.state reads scope["state"] (uvicorn gives each request its own).
        scope.setdefault("state", {})["request_id"] = rid
        own = (*self.fixed, (REQUEST_ID_HEADER, rid.encode()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                extra = own
                for name, _ in headers:
                    if name.lower() == CSP_HEADER:
                        break
                else:
                    extra = (*own, (CSP_HEADER, self.csp))
                # A new message and list: Starlette reuses a response's header list.
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTimeout(HTTPException):
    """The request body did not arrive in time: 408, and the connection is closed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body did not arrive within {seconds:g} s",
            headers={"Connection": "close"},
        )


def has_body(scope: Scope) -> bool:
    """A Content-Length above 0 or a chunked body: only then is there anything to wait for."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.strip() not in (b"0", b"")
        if name == b"transfer-encoding":
            return True
    return False


class BodyDeadline:
    """Every request body must be in within ``seconds`` of the request's start, or 408.

    Requests without a body (every GET) pass straight through. Rather than a timer per request
    (``asyncio.timeout`` costs about 7 µs a request, here mostly for bodies that are already
    in), one watchdog task, alive only while some request waits for its body, looks at the
    waiting requests every ``tick`` seconds and cancels the wait of any past its deadline; the
    cancelled wait turns into :class:`BodyTimeout`. So a slow body is answered between
    ``seconds`` and ``seconds + tick`` after its request started.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.tick = min(1.0, seconds / 4)
        self._waiting: dict[asyncio.Task, float] = {}  # task waiting for its body → deadline
        self._expired: set[asyncio.Task] = set()
        self._watchdog: asyncio.Task | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            task = asyncio.current_task()
            assert task is not None
            self._waiting[task] = deadline
            if self._watchdog is None:
                self._watchdog = loop.create_task(self._watch(loop))
            try:
                message = await receive()
            except asyncio.CancelledError:
                if task not in self._expired:
                    raise  # cancelled for another reason (shutdown): not ours to answer
                self._expired.discard(task)
                task.uncancel()
                # An HTTPException: FastAPI's body reader lets it through and Starlette's
                # exception middleware (inside this one) answers it.
                raise BodyTimeout(self.seconds) from None
            finally:
                self._waiting.pop(task, None)
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, bounded_receive, send)

    async def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(self.tick)
                now = loop.time()
                for task, deadline in list(self._waiting.items()):
                    if deadline <= now and task not in self._expired:
                        self._expired.add(task)
                        task.cancel()
        finally:
            self._watchdog = None
