"""What the relay's deliveries record: a copy's mapping and the conversation's topic and
first message, in the transaction that marks the outbox row sent. A partner deleted
meanwhile (/forget, retention) gets what was just made for them queued for deletion
(a ``relay_drop`` row) in that same transaction, so no crash or 429 can lose it.

Part of ``Store`` (a mixin), beside ``RelayQueries``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import OutboxItem, RelayConversation, RelayMessage, utcnow
from bot.db.outbox_queries import Outcome, _count, _leased


class RelayDeliveryQueries:
    session: async_sessionmaker[AsyncSession]

    async def mark_relay_sent(
        self,
        item_id: int,
        token: str,
        copy: RelayMessage | None = None,
        conversation: dict[str, Any] | None = None,
    ) -> Outcome:
        """Done, with what was made: the mapping of a copy, a topic or header on the row.
        GONE (the partner was deleted while it was made): what was made is queued for
        deletion instead."""
        statement = update(OutboxItem).values(
            status="sent", sent_at=utcnow(), lease_token=None, locked_until=None, payload=None
        )
        async with self.session.begin() as session:
            outcome = await _leased(session, statement, item_id, token)
            if outcome == Outcome.GONE and copy is not None:
                _drop_made(session, copy, conversation)
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

    async def set_topic(self, user_id: int, chat_id: int, topic_id: int) -> bool:
        """Remember the partner's new forum topic as soon as it exists (a retry reuses it).

        False if the partner was deleted meanwhile (/forget): their deletion could not see
        this topic, so it is queued for deletion here, in the same transaction.
        """
        async with self.session.begin() as session:
            result = await session.execute(
                update(RelayConversation)
                .where(RelayConversation.user_id == user_id)
                .values(staff_chat_id=chat_id, topic_id=topic_id)
            )
            if _count(result) == 1:
                return True
            session.add(_drop(chat_id, {"topic": topic_id}))
            return False

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


def _drop_made(
    session: AsyncSession, copy: RelayMessage, conversation: dict[str, Any] | None
) -> None:
    """Queue the deletion of a post made for a partner deleted meanwhile; a first message
    in a topic takes its topic along, as the topic's name says who the partner is."""
    if copy.copy_chat_id >= 0:
        return  # a private chat is the partner's own
    payload: dict[str, Any] = {"cards": [copy.copy_message_id]}
    if conversation and conversation.get("topic_id"):
        payload["topic"] = conversation["topic_id"]
    session.add(_drop(copy.copy_chat_id, payload))


def _drop(chat_id: int, payload: dict[str, Any]) -> OutboxItem:
    """A ``relay_drop`` row: a topic and/or cards to delete from the staff chat."""
    return OutboxItem(kind="relay_drop", chat_id=chat_id, payload=payload)
