"""Revision 1: ``lead_scores`` exactly as the first release created it (``create_all``).

Frozen here, not imported from ``tables.py``: a revision is what the table *was*.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_scores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("lead_id", sa.String(500), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("features", sa.JSON, nullable=True),
    )
    op.create_index("ix_lead_scores_lead_id", "lead_scores", ["lead_id"])
    op.create_index("ix_lead_scores_scored_at", "lead_scores", ["scored_at"])


def downgrade() -> None:
    op.drop_table("lead_scores")
