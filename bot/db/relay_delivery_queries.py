"""What the relay's deliveries record: a copy's mapping and the conversation's topic and
first message, in the transaction that marks the outbox row sent.

Part of ``Store`` (a mixin), beside ``RelayQueries``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import OutboxItem, RelayConversation, RelayMessage, utcnow
from bot.db.outbox_queries import Outcome, _leased


class RelayDeliveryQueries:
    session: async_sessionmaker[AsyncSession]

    async def mark_relay_sent(
        self,
        item_id: int,
        token: str,
        copy: RelayMessage | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> Outcome:
        """Done, with what was made: the mapping of a copy, a topic or header on the row."""
        statement = update(OutboxItem).values(
            status="sent", sent_at=utcnow(), lease_token=None, locked_until=None, payload=None
        )
        async with self.session.begin() as session:
            outcome = await _leased(session, statement, item_id, token)
            if outcome != Outcome.DONE:
                return outcome
            if copy is not None:
                session.add(copy)
            if conversation and copy is not None:
                await session.execute(
                    update(RelayConversation)
                    .where(RelayConversation.user_id == copy.user_id)
                    .values(**conversation)
                )
            return outcome

    async def set_topic(self, user_id: int, chat_id: int, topic_id: int | None) -> None:
        """Remember the partner's forum topic as soon as it exists (a retry reuses it)."""
        async with self.session.begin() as session:
            await session.execute(
                update(RelayConversation)
                .where(RelayConversation.user_id == user_id)
                .values(staff_chat_id=chat_id, topic_id=topic_id)
            )

    async def copy_of(self, direction: str, chat_id: int, message_id: int) -> RelayMessage | None:
        async with self.session() as session:
            return await session.scalar(
                select(RelayMessage)
                .where(
                    RelayMessage.direction == direction,
                    RelayMessage.source_chat_id == chat_id,
                    RelayMessage.source_message_id == message_id,
                )
                .order_by(RelayMessage.id.desc())
                .limit(1)
            )
