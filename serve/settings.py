"""The service's settings: leadml's one ``Settings`` object plus what only the server needs.

Subclassing keeps a single configuration object (every field is still ``LEADML_<FIELD>`` in the
environment) while the library itself never has to know the service exists.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field

from leadml.config import Settings

#: Lead-count cap per request: CRMs send one lead or a small page of them, never a table.
MAX_LEADS = 1000
#: ~1,000 leads of ~1 kB each, with room to spare; anything larger is not a CRM call.
MAX_BODY_BYTES = 2_000_000
#: ``--history none`` (or ``LEADML_HISTORY_URL=none``) turns the score history off.
NO_HISTORY = "none"


class ServeSettings(Settings):
    """Everything ``leadml serve`` reads from the environment (prefix ``LEADML_``)."""

    model_ref: str | None = Field(
        default=None,
        description="Model to serve: a bundle folder, models:/leadml@champion or runs:/<id>/model.",
    )
    api_keys: str = Field(
        default="",
        description="Comma-separated API keys accepted as 'Authorization: Bearer <key>'. "
        "Empty: no authentication, and the server only binds loopback.",
    )
    history_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the score history (PostgreSQL or SQLite); "
        "default a SQLite file under home; 'none' turns it off.",
    )
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024)
    max_leads: int = Field(default=MAX_LEADS, ge=1, le=MAX_LEADS)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.api_keys.split(",") if k.strip())

    @property
    def history_database(self) -> str | None:
        """The history URL to use, or None when history is turned off."""
        if self.history_url is None:
            return f"sqlite:///{self.history_file}"
        if self.history_url.strip().lower() in (NO_HISTORY, ""):
            return None
        return self.history_url

    @property
    def history_file(self) -> Path:
        return (self.home / "data" / "score_history.db").resolve()


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': addresses no other machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
