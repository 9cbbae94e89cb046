"""API keys with names: ``Authorization: Bearer <key>``, checked in constant time.

Two rings of keys. **Scoring keys** (``LEADML_API_KEYS="crm-a:KEY1,crm-b:KEY2"``) are what CRMs
hold; each key's name is its tenant, stored with every score and used to filter every history
read, so one CRM never sees another's leads. **Admin keys** (``LEADML_ADMIN_KEYS``) are what
operators hold; only they may replace the served model. A scoring key on an admin route is a
403, not a 401: it is a real key, just not one that may do that.

Every configured key is compared, match or not, with ``hmac.compare_digest``, so the time a
request takes says nothing about how much of a key it guessed. With no scoring keys configured
the API is open (tenant ``default``), which is why the server then refuses to bind anything
but loopback.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

BEARER = "bearer"
#: The tenant of an unnamed key, and of every request when the server has no keys.
DEFAULT_TENANT = "default"
#: Tenant names are stored with every score: short, plain and safe in a log line.
TENANT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_TENANT = 64


class KeyConfigError(ValueError):
    """A key list that cannot be read; the message names the entry's position, not the key."""


def parse_keys(text: str, what: str = "LEADML_API_KEYS") -> tuple[tuple[str, str], ...]:
    """``"crm-a:KEY1,crm-b:KEY2"`` (or bare ``KEY``) → ((name, key), ...).

    A bare key is tenant ``default``. The key itself is never put in an error message.
    """
    pairs: list[tuple[str, str]] = []
    for position, entry in enumerate((e.strip() for e in text.split(",")), start=1):
        if not entry:
            continue
        name, sep, key = entry.partition(":")
        if not sep:
            name, key = DEFAULT_TENANT, entry
        name, key = name.strip(), key.strip()
        if not key:
            raise KeyConfigError(f"{what}: entry {position} has a name but no key")
        if not name or len(name) > MAX_TENANT or not set(name) <= TENANT_CHARS:
            raise KeyConfigError(
                f"{what}: entry {position} has an invalid name (letters, digits, - _ . only, "
                f"at most {MAX_TENANT})"
            )
        pairs.append((name, key))
    return tuple(pairs)


@dataclass(frozen=True)
class KeyRing:
    """Named keys; ``match`` says whose a presented key is (None: nobody's)."""

    keys: tuple[tuple[str, str], ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for name, _ in self.keys))

    def match(self, presented: str) -> str | None:
        candidate = presented.encode()
        found: str | None = None
        for name, key in self.keys:  # no early exit: every key costs the same time
            if hmac.compare_digest(candidate, key.encode()) and found is None:
                found = name
        return found


def bearer_token(request: Request) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None when there is none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != BEARER or not token.strip():
        return None
    return token.strip()


class Auth:
    """Both rings, and the checks the routes depend on (see :mod:`serve.deps`)."""

    def __init__(self, scoring: KeyRing, admin: KeyRing) -> None:
        self.scoring = scoring
        self.admin = admin

    @property
    def enabled(self) -> bool:
        return self.scoring.enabled

    def tenant(self, request: Request) -> str:
        """The caller's tenant; 401 without a valid scoring or admin key (when keys are set).

        Admin keys may read too (an operator checks what a model answers): their tenant is
        ``admin:<name>``, which no CRM's scores carry, so they see no CRM's history.
        """
        if not self.scoring.enabled and not self.admin.enabled:
            return DEFAULT_TENANT
        token = bearer_token(request)
        if token is None:
            if not self.scoring.enabled:
                return DEFAULT_TENANT  # open API; admin keys guard the admin routes only
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing API key: send 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        name = self.scoring.match(token)
        if name is not None:
            return name
        admin = self.admin.match(token)
        if admin is not None:
            return f"admin:{admin}"
        if not self.scoring.enabled:
            return DEFAULT_TENANT  # an open API ignores a key it does not know
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid API key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def operator(self, request: Request) -> str:
        """The admin key's name; 403 for anyone else, and always when no admin key is set."""
        if not self.admin.enabled:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "admin routes are off on this server: set LEADML_ADMIN_KEYS to use them "
                "(SIGHUP still reloads the model)",
            )
        token = bearer_token(request)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing admin key: send 'Authorization: Bearer <admin key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        name = self.admin.match(token)
        if name is not None:
            return name
        if self.scoring.match(token) is not None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "this key may score leads but not administer"
            )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "invalid admin key",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


class KeyScheme(SecurityBase):
    """A key check that is also an OpenAPI bearer security scheme.

    Being a ``SecurityBase`` is what puts the scheme in ``/openapi.json`` (so ``/docs`` has an
    Authorize button and generated clients know to send the key) and names it on each route
    that depends on it; the check itself is ``check``, with its own 401 and 403 messages.
    One object, so the scheme costs nothing per request beyond the check it already was.
    """

    def __init__(self, name: str, description: str, check: Callable[[Request], str]) -> None:
        self.model = HTTPBearerModel(description=description)
        self.scheme_name = name
        self.check = check
        self._done = f"leadml.key.{name}"

    def verify(self, request: Request) -> str:
        """``check``, once per request: a route with a body runs it before reading the body
        (:class:`serve.edge.body.StrictJSONRoute`), and the dependency then finds the answer."""
        state = request.scope.setdefault("state", {})
        if self._done not in state:
            state[self._done] = self.check(request)
        return state[self._done]

    async def __call__(self, request: Request) -> str:
        return self.verify(request)
