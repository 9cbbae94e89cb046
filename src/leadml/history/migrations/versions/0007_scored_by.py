"""Revision 7: which model scored each lead, where a model has segment specialists.

A model trained with a segment column routes each lead to the global booster or to its
segment's specialist; the score records which (``global`` or ``segment:<value>``), so a
lead's history says which model each of its scores came from. A nullable text column: rows
written before, and scores of models without segments, stay null. Nothing is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.add_column(sa.Column("scored_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.drop_column("scored_by")
