"""The service's settings: leadml's one ``Settings`` object plus what only the server needs.

Subclassing keeps a single configuration object (every field is still ``LEADML_<FIELD>`` in the
environment) while the library itself never has to know the service exists.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field

from leadml.config import Settings
from serve.edge.auth import parse_keys

#: Lead-count cap per request: CRMs send one lead or a small page of them, never a table.
MAX_LEADS = 1000
#: ~1,000 leads of ~1 kB each, with room to spare; anything larger is not a CRM call.
MAX_BODY_BYTES = 2_000_000
#: Seconds from SIGTERM to exit at most (serve/shutdown.py shares them out): under the 10 s a
#: container runtime waits before SIGKILL.
SHUTDOWN_S = 8.0
#: Default time to receive a whole request body: the 2 MB body limit arrives in time over any
#: link faster than 1.6 Mbit/s (slower links: raise LEADML_BODY_TIMEOUT_S).
BODY_TIMEOUT_S = 10.0
#: Leads waiting for the shadow challenger at most; past it shadow work is dropped.
SHADOW_QUEUE_LEADS = 10_000
#: Longest a reload (or the shadow's check at start) may take, download included.
RELOAD_TIMEOUT_S = 20.0
#: Host names that only reach this machine: what the server answers by default.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class ServeSettings(Settings):
    """Everything ``leadml serve`` reads from the environment (prefix ``LEADML_``)."""

    model_ref: str | None = Field(
        default=None,
        description="Model to serve: a bundle folder, models:/leadml@champion or runs:/<id>/model.",
    )
    shadow_ref: str | None = Field(
        default=None,
        description="A challenger that scores every request in the background (same reference "
        "forms as model_ref): its scores go to the history marked shadow, never to a caller.",
    )
    shadow_queue: int = Field(
        default=SHADOW_QUEUE_LEADS,
        ge=1,
        description="Leads waiting for the shadow model at most; past it shadow scores are "
        "dropped (counted in /ready), never the answers.",
    )
    api_keys: str = Field(
        default="",
        description="Scoring keys for CRMs, 'name:KEY,name:KEY' (a bare KEY is tenant "
        "'default'), sent as 'Authorization: Bearer <KEY>'; the name is the tenant whose "
        "history the key reads. Empty: no authentication, and the server only binds loopback.",
    )
    admin_keys: str = Field(
        default="",
        description="Operator keys, 'name:KEY,...': only these may reload the model. "
        "Empty: the reload route is off (SIGHUP still reloads).",
    )
    allowed_hosts: str = Field(
        default=",".join(LOOPBACK_NAMES),
        description="Host header values the server answers (comma-separated; '*' for any). "
        "Loopback names by default, against DNS rebinding; `leadml serve --host` adds its own.",
    )
    models_root: Path | None = Field(
        default=None,
        description="Bundle folders a reload may name must lie under this folder "
        "(default: the project home's models/).",
    )
    reload_timeout_s: float = Field(
        default=RELOAD_TIMEOUT_S,
        gt=0,
        le=600,
        description="Longest a reload may take (download included).",
    )
    max_body_bytes: int = Field(
        default=MAX_BODY_BYTES,
        ge=1024,
        description="Largest request body accepted, in bytes; a larger one is a 413 before "
        "it is parsed.",
    )
    body_timeout_s: float = Field(
        default=BODY_TIMEOUT_S,
        gt=0,
        le=600,
        description="Longest a client may take to send a request body; then 408 and the "
        "connection is closed (a stalled upload would otherwise hold it for ever).",
    )
    max_leads: int = Field(
        default=MAX_LEADS,
        ge=1,
        le=MAX_LEADS,
        description="Most leads one POST /v1/score may carry; more is a 422 that says so.",
    )
    shutdown_s: float = Field(
        default=SHUTDOWN_S,
        gt=0,
        le=600,
        description="Longest the service takes to stop once asked (SIGTERM): requests in "
        "progress, then the history's queue; what it could not write is logged with its count. "
        "Below a container runtime's grace before SIGKILL (10 s by default).",
    )

    @property
    def keys(self) -> tuple[tuple[str, str], ...]:
        """Scoring keys as (tenant, key) pairs."""
        return parse_keys(self.api_keys, "LEADML_API_KEYS")

    @property
    def operator_keys(self) -> tuple[tuple[str, str], ...]:
        """Admin keys as (name, key) pairs."""
        return parse_keys(self.admin_keys, "LEADML_ADMIN_KEYS")

    @property
    def hosts(self) -> list[str]:
        """The Host header values answered (``["*"]``: any)."""
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()] or ["*"]

    @property
    def reload_root(self) -> Path:
        """The folder every bundle named by a reload must resolve into."""
        return (self.models_root or self.models_dir).resolve()


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': addresses no other machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
