"""The inbox's queries: storing updates once, and leasing them to workers in order.

Part of ``Store`` (a mixin). An update is stored, deduplicated by ``update_id``, before
Telegram is told it arrived (the webhook's 200, the next getUpdates offset), so a
crash after that loses nothing. Workers lease updates with a token and an expiry
from the database's clock: a killed worker's updates are taken again after the lease.
A lease is only granted on a user's oldest unfinished update, so one user's updates
are handled one at a time and in order, whichever worker takes them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db.dialect import db_now, upsert_insert
from bot.db.models import InboxUpdate, utcnow


@dataclass(frozen=True)
class InboxClaim:
    """An update leased to this worker."""

    update_id: int
    payload: dict[str, Any]
    attempts: int
    token: str


@dataclass(frozen=True)
class InboxLag:
    pending: int
    oldest_age: timedelta | None


class InboxQueries:
    engine: AsyncEngine
    session: async_sessionmaker[AsyncSession]

    def _now(self, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
        return db_now(self.engine, plus)

    async def store_update(
        self, update_id: int, user_key: int, kind: str, payload: dict[str, Any]
    ) -> bool:
        """Keep an update until it is handled; False if it was stored before (a repeat)."""
        insert = upsert_insert(self.engine)
        statement = (
            insert(InboxUpdate)
            .values(
                update_id=update_id,
                user_key=user_key,
                kind=kind,
                payload=payload,
                status="pending",
                attempts=0,
                next_attempt_at=utcnow(),
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
        )
        async with self.engine.begin() as session:  # Core: no ORM unit of work needed
            result = cast(CursorResult[Any], await session.execute(statement))
            return bool(result.rowcount)

    async def claim_updates(self, lease: timedelta, limit: int) -> list[InboxClaim]:
        """Lease up to ``limit`` updates, each the oldest unfinished one of its user."""
        token = secrets.token_hex(16)
        earlier = aliased(InboxUpdate)
        waits_for_earlier = (
            select(earlier.update_id)
            .where(
                earlier.user_key == InboxUpdate.user_key,
                earlier.status == "pending",
                earlier.update_id < InboxUpdate.update_id,
            )
            .exists()
        )
        due = (
            select(InboxUpdate.update_id)
            .where(
                InboxUpdate.status == "pending",
                InboxUpdate.next_attempt_at <= utcnow(),
                or_(InboxUpdate.locked_until.is_(None), InboxUpdate.locked_until < self._now()),
                ~waits_for_earlier,
            )
            .order_by(InboxUpdate.update_id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite runs one writer at a time
        )
        claim = (
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(due.scalar_subquery()))
            .values(
                lease_token=token,
                locked_until=self._now(lease),
                attempts=InboxUpdate.attempts + 1,
            )
            .returning(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.attempts)
        )
        async with self.engine.begin() as session:  # Core: no ORM unit of work needed
            rows = (await session.execute(claim)).all()
        return sorted(
            (
                InboxClaim(update_id, payload or {}, attempts, token)
                for update_id, payload, attempts in rows
            ),
            key=lambda c: c.update_id,
        )

    async def finish_update(self, claim: InboxClaim, status: str = "done") -> bool:
        """Record the update handled (or given up on); its text is dropped. False when
        another worker holds it now."""
        async with self.engine.begin() as session:  # Core: no ORM unit of work needed
            result = await session.execute(
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id == claim.update_id,
                    InboxUpdate.lease_token == claim.token,
                )
                .values(status=status, payload=None, done_at=utcnow(), lease_token=None)
            )
            return bool(cast(CursorResult[Any], result).rowcount)

    async def postpone_update(self, claim: InboxClaim, delay: timedelta) -> None:
        """Hand the update back to be tried again after ``delay`` (the database failed)."""
        async with self.engine.begin() as session:  # Core: no ORM unit of work needed
            await session.execute(
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id == claim.update_id,
                    InboxUpdate.lease_token == claim.token,
                )
                .values(lease_token=None, locked_until=None, next_attempt_at=utcnow() + delay)
            )

    async def inbox_lag(self) -> InboxLag:
        """How many updates wait, and for how long the oldest has waited."""
        query = select(func.count(), func.min(InboxUpdate.received_at)).where(
            InboxUpdate.status == "pending"
        )
        async with self.engine.connect() as session:
            count, oldest = (await session.execute(query)).one()
        return InboxLag(int(count), utcnow() - oldest if oldest is not None else None)

    async def purge_inbox(self, handled_before: datetime) -> int:
        """Forget handled updates' ids once Telegram can no longer send them again."""
        async with self.engine.begin() as session:  # Core: no ORM unit of work needed
            result = await session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.status != "pending", InboxUpdate.done_at < handled_before
                )
            )
            return int(cast(CursorResult[Any], result).rowcount or 0)
