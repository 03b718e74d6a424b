"""host slots: the cluster-wide per_host limit of `monitor worker`s

Revision ID: 0003_host_slots
Revises: 0002_review_backfill
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_host_slots"
down_revision = "0002_review_backfill"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_slots",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("host", "slot"),
    )


def downgrade() -> None:
    op.drop_table("host_slots")
