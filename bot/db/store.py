"""Every query the bot makes, behind one class. Handlers never see SQL.

One session per unit of work; ``expire_on_commit=False`` so returned rows stay
readable after the session closes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, func, or_, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db.models import FormState, Lead, OutboxItem, UnansweredQuestion, UserProfile, utcnow
from bot.db.outbox_queries import OutboxQueries
from bot.normalize import fold

LEAD_STATUSES = ("new", "claimed", "contacted", "not_fit", "unqualified")


@dataclass(frozen=True)
class Submission:
    lead: Lead
    is_repeat: bool


@dataclass(frozen=True)
class Stats:
    by_status: dict[str, int]
    by_sector: dict[str, int]
    by_language: dict[str, int]
    by_source: dict[str, int]
    top_unanswered: list[tuple[str, int]]


class Store(OutboxQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(create_async_engine(url, pool_pre_ping=True))

    async def close(self) -> None:
        await self.engine.dispose()

    # Users -----------------------------------------------------------------
    async def profile(self, user_id: int) -> UserProfile | None:
        async with self.session() as session:
            return await session.get(UserProfile, user_id)

    async def update_profile(self, user_id: int, **values: Any) -> None:
        async with self.session.begin() as session:
            profile = await session.get(UserProfile, user_id)
            if profile is None:
                session.add(UserProfile(user_id=user_id, **values))
            else:
                for key, value in values.items():
                    setattr(profile, key, value)

    # Form state ------------------------------------------------------------
    async def load_form(self, user_id: int) -> FormState | None:
        async with self.session() as session:
            return await session.get(FormState, user_id)

    async def save_form(self, user_id: int, state: dict[str, Any]) -> None:
        async with self.session.begin() as session:
            row = await session.get(FormState, user_id)
            if row is None:
                session.add(FormState(user_id=user_id, state=state, updated_at=utcnow()))
            else:
                row.state = state
                row.updated_at = utcnow()

    async def delete_form(self, user_id: int) -> None:
        async with self.session.begin() as session:
            await session.execute(delete(FormState).where(FormState.user_id == user_id))

    # Unanswered questions -------------------------------------------------
    async def record_unanswered(
        self, user_id: int | None, text: str, language: str, outcome: str, score: float
    ) -> None:
        async with self.session.begin() as session:
            session.add(
                UnansweredQuestion(
                    user_id=user_id,
                    text=text[:500],
                    normalized=fold(text)[:500],
                    language=language,
                    outcome=outcome,
                    score=score,
                )
            )

    async def top_unanswered(self, limit: int = 20) -> list[tuple[str, int]]:
        """(an example wording, count) per normalised question, most frequent first."""
        count = func.count(UnansweredQuestion.id)
        query = (
            select(func.min(UnansweredQuestion.text), count)
            .group_by(UnansweredQuestion.normalized)
            .order_by(count.desc(), func.min(UnansweredQuestion.text))
            .limit(limit)
        )
        async with self.session() as session:
            return [(text, n) for text, n in (await session.execute(query)).all()]

    # Leads -------------------------------------------------------------------
    async def submit_lead(self, values: dict[str, Any], repeat_window: timedelta) -> Submission:
        """Store a finished form as a lead, or fold it into the user's recent one.

        The outbox row is written in the same transaction, so a committed lead
        is always delivered and nothing is sent for an uncommitted one.
        """
        since = utcnow() - repeat_window
        async with self.session.begin() as session:
            existing = await session.scalar(
                select(Lead)
                .where(
                    or_(Lead.user_id == values["user_id"], Lead.email == values["email"]),
                    Lead.created_at >= since,
                )
                .order_by(Lead.created_at.desc())
                .limit(1)
                .with_for_update()
            )
            if existing is None:
                lead = Lead(**values)
                session.add(lead)
                await session.flush()
                if lead.qualified:
                    session.add(OutboxItem(lead_id=lead.id, kind="post"))
                return Submission(lead, is_repeat=False)
            for key, value in values.items():
                if key not in ("status", "created_at"):
                    setattr(existing, key, value)
            if existing.status == "unqualified" and existing.qualified:
                existing.status = "new"
            existing.repeat_count += 1
            existing.updated_at = utcnow()
            pending_post = await session.scalar(
                select(OutboxItem.id).where(
                    OutboxItem.lead_id == existing.id,
                    OutboxItem.kind == "post",
                    OutboxItem.status == "pending",
                )
            )
            if existing.staff_message_id is not None:
                session.add(OutboxItem(lead_id=existing.id, kind="refresh"))
            elif existing.qualified and pending_post is None:
                session.add(OutboxItem(lead_id=existing.id, kind="post"))
            return Submission(existing, is_repeat=True)

    async def lead(self, lead_id: int) -> Lead | None:
        async with self.session() as session:
            return await session.get(Lead, lead_id)

    async def recent_leads(self, status: str | None = None, limit: int = 10) -> list[Lead]:
        query = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit)
        if status:
            query = query.where(Lead.status == status)
        async with self.session() as session:
            return list((await session.scalars(query)).all())

    async def all_leads(self) -> list[Lead]:
        async with self.session() as session:
            return list((await session.scalars(select(Lead).order_by(Lead.id))).all())

    async def set_status(self, lead_id: int, status: str, by: str) -> Lead | None:
        async with self.session.begin() as session:
            lead = await session.get(Lead, lead_id)
            if lead is None:
                return None
            lead.status = status
            lead.handled_by = by
            lead.handled_at = utcnow()
            lead.updated_at = utcnow()
            return lead

    async def stats(self) -> Stats:
        async with self.session() as session:
            rows = (
                await session.execute(select(Lead.status, Lead.sector, Lead.language, Lead.source))
            ).all()
        return Stats(
            by_status=dict(Counter(r.status for r in rows).most_common()),
            by_sector=dict(Counter(r.sector for r in rows).most_common()),
            by_language=dict(Counter(r.language for r in rows).most_common()),
            by_source=dict(Counter(r.source or "-" for r in rows).most_common()),
            top_unanswered=await self.top_unanswered(10),
        )

    # Privacy -------------------------------------------------------------------
    async def staff_posts_of(self, user_id: int) -> list[tuple[int, int, int]]:
        """(lead id, chat id, message id) of the staff-chat posts about this user's leads."""
        query = select(Lead.id, Lead.staff_chat_id, Lead.staff_message_id).where(
            Lead.user_id == user_id
        )
        async with self.session() as session:
            rows = (await session.execute(query)).all()
        return [(i, chat, msg) for i, chat, msg in rows if chat is not None and msg is not None]

    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about this user; returns counts per kind."""
        async with self.session.begin() as session:
            lead_ids = select(Lead.id).where(Lead.user_id == user_id)
            await session.execute(delete(OutboxItem).where(OutboxItem.lead_id.in_(lead_ids)))
            return {
                "leads": await _deleted(session, delete(Lead).where(Lead.user_id == user_id)),
                "forms": await _deleted(
                    session, delete(FormState).where(FormState.user_id == user_id)
                ),
                "questions": await _deleted(
                    session, delete(UnansweredQuestion).where(UnansweredQuestion.user_id == user_id)
                ),
                "profile": await _deleted(
                    session, delete(UserProfile).where(UserProfile.user_id == user_id)
                ),
            }

    async def purge_before(self, cutoff: datetime) -> dict[str, int]:
        """Retention: drop personal data older than ``cutoff``."""
        async with self.session.begin() as session:
            old_leads = select(Lead.id).where(Lead.updated_at < cutoff)
            await session.execute(delete(OutboxItem).where(OutboxItem.lead_id.in_(old_leads)))
            return {
                "leads": await _deleted(session, delete(Lead).where(Lead.updated_at < cutoff)),
                "forms": await _deleted(
                    session, delete(FormState).where(FormState.updated_at < cutoff)
                ),
                "questions": await _deleted(
                    session,
                    delete(UnansweredQuestion).where(UnansweredQuestion.created_at < cutoff),
                ),
            }


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE and say how many rows it removed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)
