"""Revision 2: every score carries its tenant (the API key's name), and reads go by it.

Rows written before are tenant ``default`` (whose they were is not known: an open server's, or
its bare key's). The index on (tenant, lead_id) serves every read and trend look-up, all of
which name the tenant, so the old index on lead_id alone would only slow writes: it goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.add_column(
            sa.Column("tenant", sa.String(100), nullable=False, server_default="default")
        )
        table.drop_index("ix_lead_scores_lead_id")
        table.create_index("ix_lead_scores_tenant_lead_id", ["tenant", "lead_id"])


def downgrade() -> None:
    with op.batch_alter_table("lead_scores") as table:
        table.drop_index("ix_lead_scores_tenant_lead_id")
        table.create_index("ix_lead_scores_lead_id", ["lead_id"])
        table.drop_column("tenant")
