"""Revision 6: the leads that objected to profiling, per tenant.

GDPR Art. 21(2) makes an objection to profiling for direct marketing absolute: once a lead
objected (``POST /v1/opt-outs``, ``leadml opt-outs import``) it is never scored again, so every
scoring request asks this table which of its leads objected. One row per (tenant, lead id);
the unique key is also the index that question is answered from, one look-up a lead.
``objected_at`` is when the person objected, as the CRM said (null: not said);
``recorded_at`` when the history learned it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_opt_outs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("lead_id", sa.String(500), nullable=False),
        sa.Column("objected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "lead_id", name="uq_lead_opt_outs_tenant_lead_id"),
    )


def downgrade() -> None:
    op.drop_table("lead_opt_outs")
