"""The relay's queries: conversations, the message mapping, bans, and their outbox rows.

Part of ``Store`` (a mixin). Every relayed message is an outbox row written in the
transaction that records it, with a ``sequence`` per partner and direction, so a burst
reaches the other side in order and none is lost to a crash or a rate limit. What was
delivered is recorded (``RelayMessage``) in the transaction that marks the row sent, so
a staff reply finds its partner after a restart and on any worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import (
    Lead,
    OutboxItem,
    RelayConversation,
    RelayMessage,
)

OPEN, CLOSED = "open", "closed"
TO_STAFF = ("relay_head", "relay_in", "relay_edit_in", "relay_note")
TO_PARTNER = ("relay_out", "relay_edit_out", "relay_tell")


def to_staff(user_id: int) -> str:
    return f"staff:{user_id}"


def to_partner(user_id: int) -> str:
    return f"partner:{user_id}"


def relay_item(kind: str, user_id: int, **fields: Any) -> OutboxItem:
    """An outbox row in the partner's sequence for its direction."""
    sequence = to_staff(user_id) if kind in TO_STAFF else to_partner(user_id)
    return OutboxItem(kind=kind, user_id=user_id, sequence=sequence, **fields)


class RelayQueries:
    session: async_sessionmaker[AsyncSession]

    async def conversation(self, user_id: int) -> RelayConversation | None:
        async with self.session() as session:
            return await session.get(RelayConversation, user_id)

    async def open_conversation(
        self, user_id: int, language: str, name: str, username: str | None, now: datetime
    ) -> bool:
        """Open (or reopen) the partner's conversation; False if it was open already.

        The header for staff (a topic of their own in forum mode) is queued with it.
        """
        async with self.session.begin() as session:
            row = await session.get(RelayConversation, user_id, with_for_update=True)
            if row is not None and row.status == OPEN:
                return False
            if row is None:
                row = RelayConversation(user_id=user_id)
                session.add(row)
            row.status, row.language, row.name, row.username = OPEN, language, name, username
            row.opened_at = row.last_activity_at = now
            row.waiting_since = row.closed_at = None
            session.add(relay_item("relay_head", user_id))
            return True

    async def queue_to_staff(
        self, user_id: int, message_id: int, payload: dict[str, Any], now: datetime
    ) -> bool:
        """A partner's message, to be copied to staff; False if no conversation is open."""
        async with self.session.begin() as session:
            row = await session.get(RelayConversation, user_id, with_for_update=True)
            if row is None or row.status != OPEN:
                return False
            row.last_activity_at = now
            row.waiting_since = row.waiting_since or now
            session.add(
                relay_item(
                    "relay_in", user_id, chat_id=user_id, message_id=message_id, payload=payload
                )
            )
            return True

    async def queue_edit_to_staff(
        self, user_id: int, message_id: int, payload: dict[str, Any]
    ) -> bool:
        """The partner edited a message they relayed: edit the copy (queued after it)."""
        async with self.session.begin() as session:
            copied = select(RelayMessage.id).where(_copied_from(user_id, message_id))
            queued = select(OutboxItem.id).where(
                OutboxItem.kind == "relay_in",
                OutboxItem.user_id == user_id,
                OutboxItem.message_id == message_id,
            )
            if not await session.scalar(select(or_(copied.exists(), queued.exists()))):
                return False
            session.add(
                relay_item(
                    "relay_edit_in",
                    user_id,
                    chat_id=user_id,
                    message_id=message_id,
                    payload=payload,
                )
            )
            return True

    async def staff_target(
        self, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> RelayConversation | None:
        """The conversation a staff message belongs to: its topic, or the card it answers."""
        async with self.session() as session:
            if thread_id is not None:
                row = await session.scalar(
                    select(RelayConversation).where(
                        RelayConversation.staff_chat_id == chat_id,
                        RelayConversation.topic_id == thread_id,
                    )
                )
                if row is not None:
                    return row
            if reply_to is None:
                return None
            user_id = await session.scalar(
                select(RelayMessage.user_id)
                .where(
                    RelayMessage.copy_chat_id == chat_id, RelayMessage.copy_message_id == reply_to
                )
                .limit(1)
            )
            return await session.get(RelayConversation, user_id) if user_id else None

    async def queue_to_partner(
        self, user_id: int, chat_id: int, message_id: int, payload: dict[str, Any], now: datetime
    ) -> bool:
        """A staff message, to be copied to the partner; False if the partner is gone."""
        async with self.session.begin() as session:
            row = await session.get(RelayConversation, user_id, with_for_update=True)
            if row is None:
                return False
            row.last_activity_at = now
            row.waiting_since = None
            session.add(
                relay_item(
                    "relay_out", user_id, chat_id=chat_id, message_id=message_id, payload=payload
                )
            )
            return True

    async def queue_edit_to_partner(
        self, chat_id: int, message_id: int, payload: dict[str, Any]
    ) -> bool:
        """Staff edited a message relayed to a partner: edit the partner's copy."""
        async with self.session.begin() as session:
            user_id = await session.scalar(
                select(RelayMessage.user_id)
                .where(
                    RelayMessage.direction == "out",
                    RelayMessage.source_chat_id == chat_id,
                    RelayMessage.source_message_id == message_id,
                )
                .limit(1)
            )
            if user_id is None:
                return False
            session.add(
                relay_item(
                    "relay_edit_out",
                    user_id,
                    chat_id=chat_id,
                    message_id=message_id,
                    payload=payload,
                )
            )
            return True

    async def close_conversation(
        self,
        user_id: int,
        note: str,
        by: str | None,
        tell: str | None,
        now: datetime,
        idle_before: datetime | None = None,
    ) -> bool:
        """Close an open conversation: a note for staff (``staff/relay/<note>``, then the
        topic is closed) and, when ``tell`` names one, a message to the partner.
        ``idle_before``: only if nobody wrote since then."""
        async with self.session.begin() as session:
            row = await session.get(RelayConversation, user_id, with_for_update=True)
            if row is None or row.status != OPEN:
                return False
            if idle_before is not None and row.last_activity_at >= idle_before:
                return False
            row.status, row.closed_at, row.waiting_since = CLOSED, now, None
            session.add(relay_item("relay_note", user_id, payload={"note": note, "by": by}))
            if tell is not None:
                session.add(relay_item("relay_tell", user_id, payload={"template": tell}))
            return True

    async def idle_conversations(self, before: datetime) -> list[int]:
        async with self.session() as session:
            query = select(RelayConversation.user_id).where(
                RelayConversation.status == OPEN, RelayConversation.last_activity_at < before
            )
            return list((await session.scalars(query)).all())

    async def latest_lead(self, user_id: int) -> Lead | None:
        async with self.session() as session:
            return await session.scalar(
                select(Lead).where(Lead.user_id == user_id).order_by(Lead.id.desc()).limit(1)
            )


def _copied_from(user_id: int, message_id: int) -> ColumnElement[bool]:
    return (
        (RelayMessage.direction == "in")
        & (RelayMessage.source_chat_id == user_id)
        & (RelayMessage.source_message_id == message_id)
    )
