"""review state and backfill on changes; first-pass mark on items

Revision ID: 0002_review_backfill
Revises: 0001
Create Date: 2026-11-30 14:00:00

- ``changes.state``: the analyst's review state (unread / seen / confirmed / dismissed),
  shared by the CLI and the web desk; ``state_at`` when it was last set. Changes already
  dismissed become ``dismissed``.
- ``changes.backfill``: recorded without an alert (a source's first pass, or an item older
  than ``alerts.max_age``).
- ``items.first_pass``: stored by its source's first successful pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_review_backfill"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=10), server_default="unread", nullable=False)
        )
        batch_op.add_column(sa.Column("state_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("backfill", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_changes_state", ["state"], unique=False)
    op.execute(
        "UPDATE changes SET state = 'dismissed', state_at = dismissed_at "
        "WHERE dismissed_at IS NOT NULL"
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_pass", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("first_pass")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_state")
        batch_op.drop_column("backfill")
        batch_op.drop_column("state_at")
        batch_op.drop_column("state")
