"""a copy /lead is sending is recorded before the send, without its message id yet, so
that a copy whose send ended without an outcome is known when its lead is deleted

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead_copies", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # A copy still without its id cannot be kept: its lead is marked instead, as 0009 does
    # for a staff post, so that deleting the lead still asks staff to check.
    op.execute(
        """
        UPDATE leads SET unsure_since = (
            SELECT min(c.created_at) FROM lead_copies c
            WHERE c.lead_id = leads.id AND c.message_id IS NULL
        )
        WHERE unsure_since IS NULL AND EXISTS (
            SELECT 1 FROM lead_copies c WHERE c.lead_id = leads.id AND c.message_id IS NULL
        )
        """
    )
    op.execute("DELETE FROM lead_copies WHERE message_id IS NULL")
    with op.batch_alter_table("lead_copies", schema=None) as batch_op:
        batch_op.alter_column("message_id", existing_type=sa.BigInteger(), nullable=False)
