"""lead ownership, history and reason codes; outbox leases and withdrawals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 22:55:00
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("history", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_leads_form_id", ["form_id"])

    # Reasons were English sentences; keep them readable as a code with the old text.
    leads = sa.table("leads", sa.column("id", sa.Integer()), sa.column("reasons", sa.JSON()))
    connection = op.get_bind()
    for lead_id, reasons in connection.execute(sa.select(leads.c.id, leads.c.reasons)).all():
        values = json.loads(reasons) if isinstance(reasons, str) else reasons
        if values and isinstance(values[0], str):
            coded = [{"code": "legacy", "text": text} for text in values]
            connection.execute(leads.update().where(leads.c.id == lead_id).values(reasons=coded))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("lead_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_column("lease_token")
        batch_op.drop_column("payload")
        batch_op.drop_column("message_id")
        batch_op.drop_column("chat_id")
    op.execute("DELETE FROM outbox WHERE lead_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("lead_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint("uq_leads_form_id", type_="unique")
        batch_op.drop_column("duplicate_of")
        batch_op.drop_column("history")
        batch_op.drop_column("form_id")
