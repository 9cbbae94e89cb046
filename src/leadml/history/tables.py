"""The ``lead_scores`` table as the code reads and writes it, and the upgrade that gets any
database there.

The table's shape is changed only by an Alembic revision (``migrations/versions``), never by
``create_all``: a history written by an older release must keep its rows when a newer one
starts. ``upgrade`` runs the revisions from code (no ``alembic.ini``) on SQLite and PostgreSQL;
a database written before revisions existed (the table, no version row) is recognised as
revision 1 first. The version row lives in a table of its own name, so a history kept in the
same database (or PostgreSQL schema) as MLflow, which also uses Alembic, never reads MLflow's.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

log = logging.getLogger("leadml.history")

TABLE = "lead_scores"
#: Alembic's version table for this history (not ``alembic_version``: see above).
VERSION_TABLE = "lead_scores_version"
#: The table as the first release wrote it, before revisions existed.
FIRST_REVISION = "0001"
MIGRATIONS = Path(__file__).with_name("migrations")
#: The tenant of rows written before tenants existed, and of every score on an open server
#: (``serve.edge.auth.DEFAULT_TENANT``): nobody's key in particular.
DEFAULT_TENANT = "default"
#: Key names are at most 64 characters; an operator's tenant is ``admin:<name>``.
TENANT_LENGTH = 100
#: PostgreSQL advisory lock held while upgrading, so two replicas starting at once take turns
#: (on SQLite the upgrade's transaction takes the write lock first, to the same end).
UPGRADE_LOCK = 0x6C6561646D6C

metadata = sa.MetaData()
lead_scores = sa.Table(
    TABLE,
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(500), nullable=False),
    sa.Column("model_version", sa.String(200), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("features", sa.JSON, nullable=True),
    sa.Column("tenant", sa.String(TENANT_LENGTH), nullable=False, server_default=DEFAULT_TENANT),
    # A challenger's background score (``leadml serve --shadow``): compared, never served.
    sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()),
    # Points and log-odds pushes per criterion of an explained score (``ScoreRecord``), what
    # "why did the score change" compares; null for older, unexplained and shadow scores.
    sa.Column("criteria", sa.JSON, nullable=True),
    sa.Column("criteria_log_odds", sa.JSON, nullable=True),
    # The model that scored it, where the model has segment specialists (revision 7).
    sa.Column("scored_by", sa.String(200), nullable=True),
    # Every read is one tenant's: its leads, or one lead of it.
    sa.Index("ix_lead_scores_tenant_lead_id", "tenant", "lead_id"),
    # A tenant's newest scores first, a page or a bounded sample at a time (revision 5).
    sa.Index("ix_lead_scores_tenant_scored_at", "tenant", "scored_at", "id"),
)

OUTCOMES = "lead_outcomes"
#: What the CRM reported about a lead: one row per (tenant, lead id), updated when it changes.
lead_outcomes = sa.Table(
    OUTCOMES,
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("tenant", sa.String(TENANT_LENGTH), nullable=False),
    sa.Column("lead_id", sa.String(500), nullable=False),
    sa.Column("converted", sa.Boolean, nullable=False),
    sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tenant", "lead_id", name="uq_lead_outcomes_tenant_lead_id"),
)

OPT_OUTS = "lead_opt_outs"
#: Leads that objected to profiling (GDPR Art. 21): never scored again (revision 6). The
#: unique key is the index each scoring request's "which of these objected?" is read from.
lead_opt_outs = sa.Table(
    OPT_OUTS,
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("tenant", sa.String(TENANT_LENGTH), nullable=False),
    sa.Column("lead_id", sa.String(500), nullable=False),
    sa.Column("objected_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("tenant", "lead_id", name="uq_lead_opt_outs_tenant_lead_id"),
)

_upgrading = threading.Lock()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built in code: the revisions beside this module, and the
    connection (with its transaction) that ``migrations/env.py`` runs them on."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this release knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, f"no revisions in {MIGRATIONS}"
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The revision a database is at (None: no version row, old or new)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the database to the newest revision; (the revision it was at, the one it is at).

    Raises ``SQLAlchemyError`` when the database cannot be reached: the caller retries.
    """
    quiet = logging.getLogger("alembic")
    if quiet.level == logging.NOTSET:  # its per-start chatter; our own line says what changed
        quiet.setLevel(logging.WARNING)
    head = head_revision()
    with _upgrading:
        with engine.connect() as conn:  # the usual case, at head: no lock taken
            if current_revision(conn) == head:
                return head, head
        return _upgrade_locked(engine)


def _upgrade_locked(engine: sa.Engine) -> tuple[str | None, str]:
    """``upgrade`` holding the database's lock for it, so concurrent starts take turns."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
        elif conn.dialect.name == "sqlite":
            # The write lock from the first statement: two processes creating a new file
            # otherwise both read "no revision" and both create the tables (one then fails).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        config = alembic_config(conn)
        scripts = ScriptDirectory.from_config(config)
        head = scripts.get_current_head()
        assert head is not None
        before = current_revision(conn)
        if before is None and sa.inspect(conn).has_table(TABLE):
            # Written by the release before revisions: that table is revision 1, exactly.
            command.stamp(config, FIRST_REVISION)
            log.info("score history %s: found a table from before revisions", TABLE)
            before = FIRST_REVISION
        if before == head:
            return before, head
        if before is not None and before not in {s.revision for s in scripts.walk_revisions()}:
            # A newer release upgraded it and this one was rolled back: its columns are a
            # superset of ours, so writing goes on; say so once.
            log.warning(
                "score history is at revision %s, which this leadml does not know (newest %s): "
                "left as it is",
                before,
                head,
            )
            return before, before
        command.upgrade(config, "head")
    log.info("score history upgraded from revision %s to %s", before or "(none)", head)
    return before, head
