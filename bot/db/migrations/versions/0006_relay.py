"""talking to a person: conversations, relayed messages, bans; sequenced outbox rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sequence", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_outbox_user_id", ["user_id"])
        batch_op.create_index("ix_outbox_sequence", ["sequence"])
        batch_op.create_unique_constraint("uq_outbox_dedupe_key", ["dedupe_key"])
    op.create_table(
        "relay_conversations",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("head_message_id", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(), nullable=False),
        sa.Column("waiting_since", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("relay_conversations", schema=None) as batch_op:
        batch_op.create_index("ix_relay_conversations_status", ["status"])
        batch_op.create_index("ix_relay_conversations_last_activity_at", ["last_activity_at"])
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("source_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("source_message_id", sa.BigInteger(), nullable=False),
        sa.Column("copy_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("copy_message_id", sa.BigInteger(), nullable=False),
        sa.Column("form", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relay_messages", schema=None) as batch_op:
        batch_op.create_index("ix_relay_messages_user_id", ["user_id"])
        batch_op.create_index("ix_relay_messages_created_at", ["created_at"])
        batch_op.create_index("ix_relay_messages_source", ["source_chat_id", "source_message_id"])
        batch_op.create_index("ix_relay_messages_copy", ["copy_chat_id", "copy_message_id"])
    op.create_table(
        "relay_bans",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("banned_by", sa.String(length=200), nullable=False),
        sa.Column("banned_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("relay_bans")
    op.drop_table("relay_messages")
    op.drop_table("relay_conversations")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_dedupe_key", type_="unique")
        batch_op.drop_index("ix_outbox_sequence")
        batch_op.drop_index("ix_outbox_user_id")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("sequence")
        batch_op.drop_column("user_id")
