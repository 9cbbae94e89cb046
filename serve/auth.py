"""API keys: ``Authorization: Bearer <key>`` checked in constant time against LEADML_API_KEYS.

Every configured key is compared, match or not, with ``hmac.compare_digest``, so the time a
request takes says nothing about how much of a key it guessed. With no keys configured the
API is open, which is why the server then refuses to bind anything but loopback.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

BEARER = "bearer"


class ApiKeys:
    """The accepted keys, and a FastAPI dependency that enforces them."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(k.encode() for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def accepts(self, presented: str) -> bool:
        candidate = presented.encode()
        matched = False
        for key in self._keys:  # no early exit: every key costs the same time
            matched |= hmac.compare_digest(candidate, key)
        return matched

    async def __call__(self, request: Request) -> None:
        # async on purpose: FastAPI runs plain-def dependencies in a thread, a needless hop.
        if not self._keys:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != BEARER or not token.strip():
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing API key: send 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not self.accepts(token.strip()):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "invalid API key",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
