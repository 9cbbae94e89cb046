"""What several routes share, so that no route imports another: the answers every ``/v1``
route documents, and the read that first lets the queued scores reach the database.
"""

from __future__ import annotations

from leadml.history.store import ScoreHistory

#: Documented on every /v1 route: what a CRM integration must be ready for.
AUTH = {401: {"description": "Missing or invalid API key (when the server has keys)"}}
BAD_INPUT = {
    400: {"description": "Malformed JSON, or a malformed HTTP request"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid input: the message names the field (and the lead)"},
}
#: Documented on the routes that read the score history.
UNAVAILABLE = {
    404: {"description": "History is turned off on this server"},
    503: {"description": "The history database cannot be read right now"},
}

#: Longest a read waits for queued scores while the database is healthy (when it is away, the
#: read is answered at once from what it holds, or 503).
READ_WAIT_S = 1.0


def caught_up(history: ScoreHistory) -> None:
    """Let the queued scores reach the database first, so a client reads the scores it was
    just given (the writer gathers them for a moment before writing)."""
    if history.healthy:
        history.flush(READ_WAIT_S)
