"""The score history: every lead scored with an id, per tenant, in SQLite or PostgreSQL.

``store`` queues and writes the scores and answers trends and reads, ``tables`` defines the
table and brings any database up to it (Alembic revisions in ``migrations/``), ``retention``
deletes what is older than the history keeps. The service writes it; the command line purges
it; nothing here knows the service exists.
"""
