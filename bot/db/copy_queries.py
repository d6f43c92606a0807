"""The copies of a lead that /lead sends to staff: recorded, and withdrawn with the lead.

Part of ``Store`` (a mixin). A copy shows the partner's details as its lead's staff post
does, so /forget and retention take it back the same way: an outbox row queued in the
transaction that deletes the lead (``delete_leads``), which edits the copy to a note;
the record goes when that row is marked sent (``OutboxQueries.mark_sent``).

A copy is recorded before it is sent (``begin_copy``), without a message id until
Telegram answers (``finish_copy``). A record still without one is a send in flight, or
one that ended without an outcome (a timeout, a crash): the copy may show in a message
the bot never learns, and deleting the lead asks staff to check (``delete_leads``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, DateTime, delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from bot.db.models import Lead, LeadCopy, utcnow


class LeadCopyQueries:
    session: async_sessionmaker[AsyncSession]

    async def record_copy(self, lead_id: int, chat_id: int, message_id: int) -> bool:
        """Record a message sent with the lead's details; False if the lead is gone.

        Inserted from the lead's row, locked (``_recorded``): a deletion that came first leaves nothing to insert, and the
        sender must withdraw the copy itself; one that comes later waits for this record
        and withdraws it.
        """
        async with self.session.begin() as session:
            return (await session.scalar(_recorded(lead_id, chat_id, message_id))) is not None

    async def begin_copy(self, lead_id: int, chat_id: int) -> int | None:
        """Record a copy about to be sent to ``chat_id``; its record's id, or None if the
        lead is gone (then send nothing). Locked as ``record_copy``."""
        async with self.session.begin() as session:
            copy_id: int | None = await session.scalar(_recorded(lead_id, chat_id, None))
        return copy_id

    async def finish_copy(self, copy_id: int, lead_id: int, message_id: int) -> bool:
        """Telegram accepted copy ``copy_id`` as ``message_id``; False if its lead was
        deleted meanwhile (the deletion took the record: the sender withdraws the copy).

        The lead is locked first, as ``delete_leads`` locks it before the copies."""
        async with self.session.begin() as session:
            lead = select(Lead.id).where(Lead.id == lead_id).with_for_update(read=True)
            if await session.scalar(lead) is None:
                return False
            done = await session.scalar(
                update(LeadCopy)
                .where(LeadCopy.id == copy_id, LeadCopy.message_id.is_(None))
                .values(message_id=message_id)
                .returning(LeadCopy.id)
            )
            return done is not None

    async def drop_copy(self, copy_id: int) -> None:
        """Telegram refused copy ``copy_id``: nothing was sent, so nothing to withdraw."""
        async with self.session.begin() as session:
            await session.execute(
                delete(LeadCopy).where(LeadCopy.id == copy_id, LeadCopy.message_id.is_(None))
            )

    async def lead_copies(self) -> list[LeadCopy]:
        async with self.session() as session:
            return list((await session.scalars(select(LeadCopy).order_by(LeadCopy.id))).all())


def _recorded(lead_id: int, chat_id: int, message_id: int | None) -> ReturningInsert[tuple[int]]:
    """Insert a copy's record from its lead's row, held against deletion (PostgreSQL:
    FOR SHARE; SQLite runs one writer at a time): nothing is inserted if the lead is gone."""
    columns = {
        "lead_id": Lead.id,
        "chat_id": literal(chat_id, BigInteger()),
        "created_at": literal(utcnow(), DateTime()),
    }
    if message_id is not None:
        columns["message_id"] = literal(message_id, BigInteger())
    lead = select(*columns.values()).where(Lead.id == lead_id).with_for_update(read=True)
    return insert(LeadCopy).from_select(list(columns), lead).returning(LeadCopy.id)
