"""The outbox's queries: leasing due items to one sender, and recording what happened.

Part of ``Store`` (a mixin, so handlers still see one object); kept apart because the
delivery guarantees live here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Lead, OutboxItem, utcnow

OUTBOX_LEASE = timedelta(seconds=60)


class OutboxQueries:
    session: async_sessionmaker[AsyncSession]

    async def claim_due(self, now: datetime, limit: int = 20) -> list[tuple[OutboxItem, Lead]]:
        """Lease due items to this process; a lease that lapses (a crash) frees them again."""
        async with self.session() as session:
            due = (
                await session.scalars(
                    select(OutboxItem.id)
                    .where(
                        OutboxItem.status == "pending",
                        OutboxItem.next_attempt_at <= now,
                        or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                    )
                    .order_by(OutboxItem.id)
                    .limit(limit)
                )
            ).all()
        claimed: list[tuple[OutboxItem, Lead]] = []
        for item_id in due:
            async with self.session.begin() as session:
                result = await session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id == item_id,
                        OutboxItem.status == "pending",
                        or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                    )
                    .values(locked_until=now + OUTBOX_LEASE, attempts=OutboxItem.attempts + 1)
                )
                if cast(CursorResult[Any], result).rowcount != 1:
                    continue  # another process took it
                item = await session.get(OutboxItem, item_id)
                lead = await session.get(Lead, item.lead_id) if item else None
                if item is not None and lead is not None:
                    claimed.append((item, lead))
        return claimed

    async def mark_sent(self, item_id: int, chat_id: int, message_id: int | None) -> None:
        async with self.session.begin() as session:
            item = await session.get(OutboxItem, item_id)
            if item is None:
                return
            item.status = "sent"
            item.sent_at = utcnow()
            item.locked_until = None
            if message_id is not None:
                lead = await session.get(Lead, item.lead_id)
                if lead is not None:
                    lead.staff_chat_id = chat_id
                    lead.staff_message_id = message_id

    async def mark_retry(self, item_id: int, error: str, at: datetime) -> None:
        async with self.session.begin() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == item_id)
                .values(next_attempt_at=at, locked_until=None, last_error=error[:300])
            )

    async def outbox(self) -> list[OutboxItem]:
        async with self.session() as session:
            return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())
