"""The relay's staff-side queries: bans, the weekly digest, and deleting conversations
(/forget, retention) together with what staff saw of them.

Part of ``Store`` (a mixin), beside ``RelayQueries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import (
    Lead,
    OutboxItem,
    RelayBan,
    RelayConversation,
    RelayMessage,
    UnansweredQuestion,
)
from bot.db.relay_queries import OPEN, relay_item


@dataclass(frozen=True)
class Waiting:
    user_id: int
    name: str
    username: str | None
    since: datetime


@dataclass(frozen=True)
class Digest:
    new_leads: dict[str, int]
    waiting: list[Waiting]
    top_unanswered: list[tuple[str, int]]


class RelayAdminQueries:
    session: async_sessionmaker[AsyncSession]

    # Bans ------------------------------------------------------------------------------
    async def ban(self, user_id: int, reason: str | None, by: str) -> bool:
        """Ban a partner; False if they were banned already (the reason is updated)."""
        async with self.session.begin() as session:
            row = await session.get(RelayBan, user_id)
            if row is not None:
                row.reason = reason
                return False
            session.add(RelayBan(user_id=user_id, reason=reason, banned_by=by))
            return True

    async def unban(self, user_id: int) -> bool:
        async with self.session.begin() as session:
            result = await session.execute(delete(RelayBan).where(RelayBan.user_id == user_id))
            return bool(getattr(result, "rowcount", 0))

    async def bans(self, limit: int = 50) -> list[RelayBan]:
        async with self.session() as session:
            query = select(RelayBan).order_by(RelayBan.banned_at.desc()).limit(limit)
            return list((await session.scalars(query)).all())

    async def queue_staff_note(self, user_id: int, note: str, key: str) -> bool:
        """Tell staff something about the partner's conversation, once per ``key``."""
        try:
            async with self.session.begin() as session:
                session.add(
                    relay_item("relay_note", user_id, payload={"note": note}, dedupe_key=key)
                )
            return True
        except IntegrityError:
            return False

    # Digest ------------------------------------------------------------------------------
    async def queue_digest(self, key: str) -> bool:
        """Queue this week's digest once, however many processes try."""
        try:
            async with self.session.begin() as session:
                session.add(OutboxItem(kind="relay_digest", dedupe_key=key))
            return True
        except IntegrityError:
            return False

    async def digest(self, since: datetime, limit: int = 10) -> Digest:
        async with self.session() as session:
            leads = (
                await session.execute(
                    select(Lead.status, func.count())
                    .where(Lead.created_at >= since)
                    .group_by(Lead.status)
                    .order_by(func.count().desc())
                )
            ).all()
            waiting = (
                await session.scalars(
                    select(RelayConversation)
                    .where(
                        RelayConversation.status == OPEN,
                        RelayConversation.waiting_since.is_not(None),
                    )
                    .order_by(RelayConversation.waiting_since)
                )
            ).all()
            count = func.count(UnansweredQuestion.id)
            unanswered = (
                await session.execute(
                    select(func.min(UnansweredQuestion.text), count)
                    .where(UnansweredQuestion.created_at >= since)
                    .group_by(UnansweredQuestion.normalized)
                    .order_by(count.desc(), func.min(UnansweredQuestion.text))
                    .limit(limit)
                )
            ).all()
        return Digest(
            new_leads={status: n for status, n in leads},
            waiting=[
                Waiting(w.user_id, w.name, w.username, w.waiting_since)
                for w in waiting
                if w.waiting_since is not None
            ],
            top_unanswered=[(text, n) for text, n in unanswered],
        )


async def delete_conversations(session: AsyncSession, users: ColumnElement[bool]) -> int:
    """Delete the conversations ``users`` selects (a condition on ``RelayConversation``),
    their mapping and undelivered relay rows, and queue the removal of what staff saw:
    the topic in forum mode, else every card. Runs in the caller's transaction."""
    rows = (
        await session.execute(
            select(
                RelayConversation.user_id,
                RelayConversation.staff_chat_id,
                RelayConversation.topic_id,
            ).where(users)
        )
    ).all()
    ids = [user_id for user_id, _, _ in rows]
    if not ids:
        return 0
    await session.execute(
        delete(OutboxItem).where(OutboxItem.user_id.in_(ids), OutboxItem.status != "sent")
    )
    copies = (
        await session.execute(
            select(RelayMessage.user_id, RelayMessage.copy_chat_id, RelayMessage.copy_message_id)
            .where(RelayMessage.user_id.in_(ids), RelayMessage.direction != "out")
            .union_all(
                select(
                    RelayMessage.user_id,
                    RelayMessage.source_chat_id,
                    RelayMessage.source_message_id,
                ).where(RelayMessage.user_id.in_(ids), RelayMessage.direction == "out")
            )
        )
    ).all()
    topics = {user: (chat, topic) for user, chat, topic in rows if topic and chat}
    cards: dict[int, list[int]] = {}
    for user_id, chat_id, message_id in copies:
        if user_id not in topics and chat_id < 0:  # a private chat is the partner's own
            cards.setdefault(chat_id, []).append(message_id)
    for topic_chat, topic_id in topics.values():
        session.add(OutboxItem(kind="relay_drop", chat_id=topic_chat, payload={"topic": topic_id}))
    for chat_id, message_ids in cards.items():
        for start in range(0, len(message_ids), 100):  # deleteMessages takes up to 100
            batch = sorted(message_ids)[start : start + 100]
            session.add(OutboxItem(kind="relay_drop", chat_id=chat_id, payload={"cards": batch}))
    await session.execute(delete(RelayMessage).where(RelayMessage.user_id.in_(ids)))
    await session.execute(delete(RelayConversation).where(RelayConversation.user_id.in_(ids)))
    return len(ids)
