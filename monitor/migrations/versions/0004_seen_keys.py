"""seen keys: the dedupe keys of items deleted by retention

Revision ID: 0004_seen_keys
Revises: 0003_host_slots
Create Date: 2026-11-30 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_seen_keys"
down_revision = "0003_host_slots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("guid_key", sa.Text(), nullable=True),
        sa.Column("url_key", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_seen_keys_guid", "seen_keys", ["source_id", "guid_key"])
    op.create_index("ix_seen_keys_url", "seen_keys", ["url_key"])
    op.create_index("ix_seen_keys_hash", "seen_keys", ["content_hash"])


def downgrade() -> None:
    op.drop_index("ix_seen_keys_hash", table_name="seen_keys")
    op.drop_index("ix_seen_keys_url", table_name="seen_keys")
    op.drop_index("ix_seen_keys_guid", table_name="seen_keys")
    op.drop_table("seen_keys")
