"""The access log without lead ids: ``GET /v1/history/<id>`` logs a hash of the id.

CRMs often key leads on e-mail addresses, so a history lookup's path is personal data, and
access logs are kept and shipped far more widely than the history database. The id is replaced
by the first 12 hex digits of its SHA-256, enough to follow one lead through a day's log and
to find a known id (``printf %s 'jane@example.com' | sha256sum | cut -c1-12``), never enough
to read one. Query strings are cut down to the API's own harmless parameters (``explain``,
``limit``), since a client may put anything in one.
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import unquote

#: uvicorn's access logger; its records' args are (client, method, path, http version, status).
ACCESS_LOGGER = "uvicorn.access"
HISTORY_PREFIX = "/v1/history/"
#: Query parameters the API itself takes, whose values say nothing about a lead.
SAFE_PARAMETER = re.compile(r"(explain|limit)=[A-Za-z0-9]{0,10}")
HASH_CHARS = 12


def lead_hash(lead_id: str) -> str:
    """What the log shows instead of a lead id."""
    return hashlib.sha256(lead_id.encode("utf-8", "replace")).hexdigest()[:HASH_CHARS]


def redact_path(full_path: str) -> str:
    """``/v1/history/jane%40x.com?limit=5&email=j`` → ``/v1/history/sha256:<hash>?limit=5&...``.

    Dropped query parameters show as one ``...``, so the log still says there were some.
    """
    path, has_query, query = full_path.partition("?")
    at = path.find(HISTORY_PREFIX)
    if at >= 0 and len(path) > at + len(HISTORY_PREFIX):
        lead_id = unquote(path[at + len(HISTORY_PREFIX) :])
        path = f"{path[: at + len(HISTORY_PREFIX)]}sha256:{lead_hash(lead_id)}"
    if not has_query:
        return path
    kept = [p for p in query.split("&") if SAFE_PARAMETER.fullmatch(p)]
    dropped = len(query.split("&")) - len(kept)
    return f"{path}?{'&'.join([*kept, *(['...'] if dropped else [])])}"


class LeadIdFilter(logging.Filter):
    """Rewrites the path of uvicorn's access records (see the module's docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Add the filter once (uvicorn's logging config keeps a logger's filters)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, LeadIdFilter) for f in logger.filters):
        logger.addFilter(LeadIdFilter())
