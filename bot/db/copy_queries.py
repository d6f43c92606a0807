"""The copies of a lead that /lead sends to staff: recorded, and withdrawn with the lead.

Part of ``Store`` (a mixin). A copy shows the partner's details as its lead's staff post
does, so /forget and retention take it back the same way: an outbox row queued in the
transaction that deletes the lead (``delete_leads``), which edits the copy to a note;
the record goes when that row is marked sent (``OutboxQueries.mark_sent``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Lead, LeadCopy, utcnow


class LeadCopyQueries:
    session: async_sessionmaker[AsyncSession]

    async def record_copy(self, lead_id: int, chat_id: int, message_id: int) -> bool:
        """Record a message sent with the lead's details; False if the lead is gone.

        Inserted from the lead's row, locked (PostgreSQL: FOR SHARE; SQLite runs one
        writer at a time): a deletion that came first leaves nothing to insert, and the
        sender must withdraw the copy itself; one that comes later waits for this record
        and withdraws it.
        """
        lead = (
            select(
                Lead.id,
                literal(chat_id, BigInteger()),
                literal(message_id, BigInteger()),
                literal(utcnow(), DateTime()),
            )
            .where(Lead.id == lead_id)
            .with_for_update(read=True)
        )
        statement = (
            insert(LeadCopy)
            .from_select(["lead_id", "chat_id", "message_id", "created_at"], lead)
            .returning(LeadCopy.id)
        )
        async with self.session.begin() as session:
            return (await session.scalar(statement)) is not None

    async def lead_copies(self) -> list[LeadCopy]:
        async with self.session() as session:
            return list((await session.scalars(select(LeadCopy).order_by(LeadCopy.id))).all())
