"""Revision 4: each score keeps its pushes per criterion, so a lead's history can say which
criteria moved its score between two scores (``leadml.history.changes``).

Two nullable JSON columns, criterion name → number, with ``other`` for the features no
criterion holds: ``criteria`` in points of the 0–100 score (what is shown), and
``criteria_log_odds`` the same pushes in log-odds (what a change is split by). Rows written
before stay null and read as "not explained": an old score is never given points it was not
scored with. Nothing is rewritten, so the upgrade costs the same on a year of history as on an
empty table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.add_column(sa.Column("criteria", sa.JSON, nullable=True))
        table.add_column(sa.Column("criteria_log_odds", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.drop_column("criteria_log_odds")
        table.drop_column("criteria")
