"""The history's database engine: fail fast when the server is away, SQLite tuned for many
writes and lenient on read, URLs without their password for every log line and message, and
which errors mean the database will never take a row (dropped and counted, not retried)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from leadml.errors import LeadMLError

log = logging.getLogger("leadml.history")

CONNECT_TIMEOUT_S = 3
#: Longest a new SQLite connection waits for another to finish switching the file to WAL (its
#: busy timeout, which SQLite does not apply there).
WAL_SWITCH_S = 10


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _lenient_text(raw: bytes) -> str:
    # SQLite stores whatever bytes it is given: text that is not UTF-8 is read with U+FFFD
    # instead of failing the whole query.
    return raw.decode("utf-8", "replace")


def make_engine(url: str) -> sa.Engine:
    """An engine that fails fast when the server is away, and SQLite tuned for many writes."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LeadMLError(f"history URL {redact(url)} is not a SQLAlchemy URL") from None
    backend = parsed.get_backend_name()
    args: dict[str, Any] = {}
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # scoring must still start: the writer logs and retries
                log.warning("score history folder %s cannot be created: %s", folder, exc)
        args["connect_args"] = {"timeout": 10, "check_same_thread": False}
    elif backend == "postgresql":
        args["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        args["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(url, **args)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise LeadMLError(f"history URL {redact(url)}: {exc}") from None
    if backend == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            conn.text_factory = _lenient_text
            # WAL: readers never block the writer thread; NORMAL: no fsync per batch.
            cursor = conn.cursor()
            _journal_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def _journal_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while another connection switches a new file:
    SQLite answers "database is locked" at once there, without its busy timeout, so two
    processes opening a fresh history together failed one start in four."""
    deadline = time.monotonic() + WAL_SWITCH_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: another database, or SQLite in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def refuses_for_good(exc: BaseException) -> bool:
    """The database is there but will never take these rows (a value too long, a NUL byte, a
    character the driver cannot encode): retrying them would stall every row behind."""
    if isinstance(exc, sa.exc.DataError | sa.exc.IntegrityError):
        return True
    if isinstance(exc, sa.exc.DBAPIError):
        return False  # the database or the network: retry
    if isinstance(exc, sa.exc.StatementError):
        return True  # a value SQLAlchemy could not bind
    return isinstance(exc, ValueError | TypeError)  # e.g. UnicodeEncodeError from the driver


def error_line(exc: BaseException, url: str) -> str:
    """The error's type and first line, password hidden: SQLAlchemy appends the statement and
    its parameters (a lead's values) after the first line, and those never go to a log."""
    text = str(exc)
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}".replace(url, redact(url))
