"""Every query the bot makes, behind one class. Handlers never see SQL.

One session per unit of work; ``expire_on_commit=False`` so returned rows stay
readable after the session closes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db.dialect import upsert_insert
from bot.db.inbox_queries import InboxQueries
from bot.db.models import (
    FormState,
    InboxUpdate,
    Lead,
    OutboxItem,
    RateHit,
    UnansweredQuestion,
    UserProfile,
    utcnow,
)
from bot.db.outbox_queries import EXPIRED, FORGOTTEN, OutboxQueries, delete_leads
from bot.normalize import fold

# A lead's values that a repeat replaces; the old ones go to its history.
HISTORY_FIELDS = (
    "organisation",
    "sector",
    "sector_detail",
    "country",
    "name",
    "role",
    "email",
    "phone",
    "interests",
    "message",
)
WRITTEN_TTL = 60.0  # seconds a noted written language is not written again
WRITTEN_CACHE_SIZE = 10_000
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


class Store(OutboxQueries, InboxQueries):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._written: dict[int, tuple[str, float]] = {}
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, pool_size: int = 20) -> Store:
        """An engine sized for the worker pool. No pre-ping: a connection that died with a
        database restart fails its query, which the inbox treats as an outage and tries
        again, so the ping's round trip on every checkout buys nothing."""
        if url.startswith("sqlite"):
            return cls(create_async_engine(url))
        return cls(
            create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_recycle=1800)
        )

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

    async def note_written_language(self, user_id: int, language: str) -> None:
        """Remember the language of the user's latest message, in one statement that
        writes only when it changed.

        This process skips the statement when it wrote the same language for the same
        user within the last minute: a partner's messages mostly keep one language, and
        a write per message was a large share of the bot's work. Another worker's
        change is at most a minute away from being written over again.
        """
        now = time.monotonic()
        noted = self._written.get(user_id)
        if noted is not None and noted[0] == language and now - noted[1] < WRITTEN_TTL:
            return
        if len(self._written) >= WRITTEN_CACHE_SIZE:
            self._written.clear()
        self._written[user_id] = (language, now)
        insert = upsert_insert(self.engine)
        statement = insert(UserProfile).values(
            user_id=user_id, written_language=language, created_at=utcnow(), updated_at=utcnow()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"written_language": language, "updated_at": utcnow()},
            where=or_(
                UserProfile.written_language.is_(None), UserProfile.written_language != language
            ),
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)

    async def count_hit(self, user_id: int, window: int) -> int:
        """Count one message in the user's current rate-limit window; the count so far."""
        values = {"user_id": user_id, "window": window, "hits": 1}
        insert = upsert_insert(self.engine)
        statement = (
            insert(RateHit)
            .values(**values)
            .on_conflict_do_update(
                index_elements=["user_id", "window"], set_={"hits": RateHit.hits + 1}
            )
            .returning(RateHit.hits)
        )
        async with self.session.begin() as session:
            hits = (await session.execute(statement)).scalar_one()
            # Old windows go with the next count of the same user.
            await session.execute(
                delete(RateHit).where(RateHit.user_id == user_id, RateHit.window < window)
            )
        return int(hits)

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
    async def submit_lead(
        self, values: dict[str, Any], repeat_window: timedelta
    ) -> Submission | None:
        """Close the user's form and store it as a lead, in one transaction.

        The form row is the gate: whoever deletes it submits, so Confirm pressed
        twice (or on two devices at once) makes one lead, and None tells the loser.
        A repeat from the same Telegram user updates their recent lead and keeps the
        earlier values in its history; a lead is never matched by email, since
        anyone can type anyone's email (another user's is only flagged to staff).
        The outbox row is written in the same transaction, so a committed lead is
        always delivered and nothing is sent for an uncommitted one.
        """
        user_id = values["user_id"]
        since = utcnow() - repeat_window
        try:
            async with self.session.begin() as session:
                closed = await _deleted(
                    session, delete(FormState).where(FormState.user_id == user_id)
                )
                if not closed:
                    return None
                existing = await session.scalar(
                    select(Lead)
                    .where(Lead.user_id == user_id, Lead.created_at >= since)
                    .order_by(Lead.created_at.desc(), Lead.id.desc())
                    .limit(1)
                    .with_for_update()
                )
                if existing is None:
                    return Submission(await _new_lead(session, values), is_repeat=False)
                await _update_lead(session, existing, values)
                return Submission(existing, is_repeat=True)
        except IntegrityError:
            # The same form id again: another worker committed this very form first.
            return None

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
    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about this user; returns counts per kind.

        The withdrawal of their staff posts is queued in the same transaction.
        """
        self._written.pop(user_id, None)
        async with self.session.begin() as session:
            # The form first: Confirm (submit_lead) locks it before the lead, so taking
            # them in the same order here cannot deadlock with it.
            forms = await _deleted(session, delete(FormState).where(FormState.user_id == user_id))
            # Traces that name the user without holding what they wrote: rate-limit counts
            # and the ids of handled updates (pending ones, this /forget among them, stay
            # until handled; their text is dropped then).
            await session.execute(delete(RateHit).where(RateHit.user_id == user_id))
            await session.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.user_key == user_id, InboxUpdate.status != "pending"
                )
            )
            return {
                "leads": await delete_leads(session, Lead.user_id == user_id, FORGOTTEN),
                "forms": forms,
                "questions": await _deleted(
                    session, delete(UnansweredQuestion).where(UnansweredQuestion.user_id == user_id)
                ),
                "profile": await _deleted(
                    session, delete(UserProfile).where(UserProfile.user_id == user_id)
                ),
            }

    async def purge_before(self, cutoff: datetime) -> dict[str, int]:
        """Retention: drop personal data older than ``cutoff``; withdraw its staff posts."""
        async with self.session.begin() as session:
            return {
                "leads": await delete_leads(session, Lead.updated_at < cutoff, EXPIRED),
                "forms": await _deleted(
                    session, delete(FormState).where(FormState.updated_at < cutoff)
                ),
                "questions": await _deleted(
                    session,
                    delete(UnansweredQuestion).where(UnansweredQuestion.created_at < cutoff),
                ),
            }


async def _new_lead(session: AsyncSession, values: dict[str, Any]) -> Lead:
    """A first inquiry; flagged when another user's lead has the same email."""
    duplicate_of = await session.scalar(
        select(Lead.id)
        .where(func.lower(Lead.email) == values["email"].lower(), Lead.user_id != values["user_id"])
        .order_by(Lead.id.desc())
        .limit(1)
    )
    lead = Lead(**values, duplicate_of=duplicate_of, history=[])
    session.add(lead)
    await session.flush()
    # Every consented lead reaches staff; qualification only decides how it is shown.
    session.add(OutboxItem(lead_id=lead.id, kind="post"))
    return lead


async def _update_lead(session: AsyncSession, lead: Lead, values: dict[str, Any]) -> None:
    """A repeat from the same user: new values, the old ones kept, staff told."""
    previous = {key: getattr(lead, key) for key in HISTORY_FIELDS}
    previous["submitted_at"] = lead.updated_at.isoformat()
    organisation_changed = previous["organisation"] != values["organisation"]
    for key, value in values.items():
        if key not in ("user_id", "status", "created_at"):
            setattr(lead, key, value)
    lead.history = [*lead.history, previous]
    if lead.status == "unqualified" and lead.qualified:
        lead.status = "new"
    lead.repeat_count += 1
    lead.updated_at = utcnow()
    pending_post = await session.scalar(
        select(OutboxItem.id).where(
            OutboxItem.lead_id == lead.id,
            OutboxItem.kind == "post",
            OutboxItem.status == "pending",
        )
    )
    if pending_post is not None:
        return  # the post still to be made will show the new values
    if lead.staff_message_id is None or organisation_changed:
        # Nobody re-reads an old post: a changed organisation is news, so post again.
        session.add(OutboxItem(lead_id=lead.id, kind="post"))
    else:
        session.add(OutboxItem(lead_id=lead.id, kind="refresh"))


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE and say how many rows it removed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)
