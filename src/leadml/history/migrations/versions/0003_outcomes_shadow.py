"""Revision 3: outcomes beside the scores, and shadow scores told apart from served ones.

``lead_outcomes`` holds one row per (tenant, lead id): whether the lead converted and when, as
the CRM reported it (``POST /v1/outcomes``, ``leadml outcomes import``). The same outcome sent
twice is one row; a changed one updates it. ``lead_scores.shadow`` marks the scores a
challenger gave in the background (``leadml serve --shadow``): they are kept for comparison,
never served, and every read of served scores leaves them out. Rows written before are served
scores (false).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.add_column(sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "lead_outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(500), nullable=False),
        sa.Column("converted", sa.Boolean, nullable=False),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "lead_id", name="uq_lead_outcomes_tenant_lead_id"),
    )


def downgrade() -> None:
    op.drop_table("lead_outcomes")
    with op.batch_alter_table("lead_scores") as table:
        table.drop_column("shadow")
