"""Alembic's entry point for the score history's revisions, run from code by
:func:`leadml.history.tables.upgrade` on the connection it hands over.

This folder is not a Python package: Alembic loads ``env.py`` and ``versions/*.py`` by path.
Only that path is supported (no ``alembic.ini``, no offline SQL): the connection arrives with
its transaction open and with whatever the URL set on it (a PostgreSQL ``search_path``
included), so the version row lands beside the table.

A change to the table is a new file in ``versions/``: copy the newest, give it the next number
as ``revision`` and the newest as ``down_revision``, write ``upgrade`` (and ``downgrade``) with
``op`` for SQLite and PostgreSQL alike (``op.batch_alter_table`` where SQLite cannot ALTER),
then change ``tables.py`` to match; ``tests/history/test_migrations.py`` checks that the two
agree and that a history written by an earlier release keeps its rows.
"""

from __future__ import annotations

from alembic import context

from leadml.history.tables import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the score history's revisions run from leadml.history.tables.upgrade(engine), "
        "which passes its connection; the alembic command line is not set up for them"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move when needed
)
with context.begin_transaction():
    context.run_migrations()
