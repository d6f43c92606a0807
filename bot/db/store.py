"""Every query the bot makes, behind one class. Handlers never see SQL.

One session per unit of work; ``expire_on_commit=False`` so returned rows stay
readable after the session closes.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    Delete,
    bindparam,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db import deferred as deferred_writes
from bot.db.copy_queries import LeadCopyQueries
from bot.db.deferred import RECORD_UNANSWERED, DeferredWrites
from bot.db.dialect import upsert_insert
from bot.db.direct import DirectStatements, EngineStatements, PostgresStatements, SqliteStatements
from bot.db.inbox_queries import InboxQueries
from bot.db.models import (
    FormState,
    InboxUpdate,
    Lead,
    OutboxItem,
    RateHit,
    RelayBan,
    RelayConversation,
    SharedCounter,
    UnansweredQuestion,
    UserProfile,
    utcnow,
)
from bot.db.outbox_queries import EXPIRED, FORGOTTEN, OutboxQueries, delete_leads
from bot.db.relay_admin_queries import RelayAdminQueries, delete_conversations
from bot.db.relay_delivery_queries import RelayDeliveryQueries
from bot.db.relay_queries import RelayQueries
from bot.db.sqlite_inline import inline_creator
from bot.db.user_queries import UserQueries, hit_statement
from bot.normalize import fold

# SQLite takes one writer at a time, so more connections only add memory (each has its
# own page cache): 20 of them cost a polling worker 17 MB at peak (bench_bot).
SQLITE_POOL = 5
SQLITE_SESSION_POOL = 3
SESSION_POOL_MIN = 4  # PostgreSQL connections kept for sessions, at the least
DIRECT_POOL_MIN = 4  # and for the hot path's direct statements (bot/db/direct.py)


def _sqlite_engine(url: str, database: str, **options: Any) -> AsyncEngine:
    engine = create_async_engine(url, async_creator=inline_creator(database), **options)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: object) -> None:
    """Write-ahead logging, so readers never wait for a writer: the workers of one
    process share the file through several connections. (A writer waits for another
    writer without blocking the event loop: bot/db/sqlite_inline.py.)"""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Said, not left to the library's build (one may default to NORMAL in WAL mode):
    # sessions write forms, leads and the outbox, which a power cut must not lose.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


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


# Built once: every unanswered question runs it (bot/db/direct.py). Inline: no RETURNING of
# the new row's id, which nothing reads.
# A user's rate-limit windows before the current one (parameters ``user_id``, ``window``):
# run on each user's first message of a window (bot/db/direct.py).
_FORGET_OLD_WINDOWS = delete(RateHit).where(
    RateHit.user_id == bindparam("user_id", type_=BigInteger()),
    RateHit.window < bindparam("window", type_=BigInteger()),
)


class Store(
    UserQueries,
    OutboxQueries,
    LeadCopyQueries,
    InboxQueries,
    RelayQueries,
    RelayDeliveryQueries,
    RelayAdminQueries,
):
    def __init__(
        self,
        engine: AsyncEngine,
        autocommit: AsyncEngine | None = None,
        direct: DirectStatements | None = None,
        soft: DirectStatements | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        # For single statements: each is its own transaction anyway, and BEGIN ... COMMIT
        # around it tripled its round trips. Best an engine of its own, whose connections
        # stay in autocommit; on the sessions' pool each checkout switches a connection to
        # autocommit and back (on SQLite a PRAGMA each way).
        self.autocommit = autocommit or engine.execution_options(isolation_level="AUTOCOMMIT")
        # The few statements every partner message runs skip the engine (bot/db/direct.py).
        self.direct: DirectStatements = direct or EngineStatements(self.autocommit, engine)
        # For writes that a power cut may lose without harm, made on every partner message:
        # the rate-limit count and the cleanup of old windows, the noted language, the
        # unanswered question, and the inbox's claims (a lost lease is taken again). On a
        # SQLite file they skip the disk sync of each commit (see SqliteStatements); the
        # next synced commit (an update stored or finished, a form saved) makes them
        # durable too. New updates, finish marks, forms, leads and the outbox stay synced.
        self.soft: DirectStatements = soft or self.direct
        self.session = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, pool_size: int = 20) -> Store:
        """Engines sized for the worker pool: most of its statements are single ones, on the
        autocommit engine; sessions (forms, leads, the outbox) need fewer connections.
        No pre-ping: a connection that died with a database restart fails its query, which
        the inbox treats as an outage and tries again, so the ping's round trip on every
        checkout buys nothing."""
        if url.startswith("sqlite"):
            # Statements run inline on the event loop, not on aiosqlite's threads: see
            # bot/db/sqlite_inline.py. An in-memory database is one connection, shared.
            database = make_url(url).database or ":memory:"
            if database == ":memory:":
                return cls(_sqlite_engine(url, database))
            # Pools without overflow: workers beyond the pool wait for a connection.
            engine = _sqlite_engine(url, database, pool_size=SQLITE_SESSION_POOL, max_overflow=0)
            return cls(
                engine,
                _sqlite_engine(
                    url,
                    database,
                    pool_size=min(pool_size, SQLITE_POOL),
                    max_overflow=0,
                    isolation_level="AUTOCOMMIT",
                ),
                SqliteStatements(database, engine.dialect),
                SqliteStatements(database, engine.dialect, synchronous="NORMAL"),
            )
        sessions = max(SESSION_POOL_MIN, pool_size // 4)
        pg_engine = create_async_engine(url, pool_size=sessions, max_overflow=4, pool_recycle=1800)
        return cls(
            pg_engine,
            create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=10,
                pool_recycle=1800,
                isolation_level="AUTOCOMMIT",
            ),
            PostgresStatements(url, pg_engine.dialect, max(DIRECT_POOL_MIN, pool_size // 2)),
        )

    async def close(self) -> None:
        await self.direct.close()
        if self.soft is not self.direct:
            await self.soft.close()
        await self.engine.dispose()
        if self.autocommit.sync_engine.pool is not self.engine.sync_engine.pool:
            await self.autocommit.dispose()

    async def count_hit(self, user_id: int, window: int) -> int:
        """Count one message in the user's current rate-limit window; the count so far."""
        counted = self._precounted.pop(user_id, None)
        if counted is not None:
            hits = counted  # the inbox's claim of this update counted it
        elif self.engine.dialect.name == "postgresql":
            hits = await self.hit_with_state(user_id, window)  # the state comes along
        else:
            statement = hit_statement(upsert_insert(self.engine))
            row = await self.soft.fetchone(statement, {"user_id": user_id, "window": window})
            assert row is not None  # an upsert that returns its row
            hits = int(row[0])
        if hits == 1:  # a new window: the user's older ones go now, once
            await self.soft.execute(_FORGET_OLD_WINDOWS, {"user_id": user_id, "window": window})
        return hits

    # Unanswered questions -------------------------------------------------
    async def record_unanswered(
        self, user_id: int | None, text: str, language: str, outcome: str, score: float
    ) -> None:
        row = {
            "user_id": user_id,
            "text": text[:500],
            "normalized": fold(text)[:500],
            "language": language,
            "outcome": outcome,
            "score": score,
            "created_at": utcnow(),
        }
        deferred = deferred_writes.current()
        if deferred is not None and deferred.unanswered is None:
            deferred.unanswered = row  # written with the update's finish mark
            return
        await self.soft.execute(RECORD_UNANSWERED, row)

    def deferring(self) -> AbstractContextManager[DeferredWrites | None]:
        """While an update is handled from the inbox: on PostgreSQL, its noted language and
        unanswered question wait for its finish mark (see bot/db/deferred.py)."""
        return deferred_writes.collecting(self.engine.dialect.name == "postgresql")

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
        self._changed(user_id)
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

    # Numbers the workers share ------------------------------------------------
    async def counter(self, name: str) -> int:
        query = select(SharedCounter.value).where(SharedCounter.name == name)
        async with self.autocommit.connect() as connection:
            return int((await connection.execute(query)).scalar_one_or_none() or 0)

    async def bump_counter(self, name: str) -> int:
        """Add one to the shared number (0 when new); its new value."""
        statement = (
            upsert_insert(self.engine)(SharedCounter)
            .values(name=name, value=1, updated_at=utcnow())
            .on_conflict_do_update(
                index_elements=["name"],
                set_={"value": SharedCounter.value + 1, "updated_at": utcnow()},
            )
            .returning(SharedCounter.value)
        )
        async with self.autocommit.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())

    # Privacy -------------------------------------------------------------------
    async def forget_user(self, user_id: int) -> dict[str, int]:
        """Delete every row about this user; returns counts per kind (and ``ban_kept``:
        1 when a relay ban stays, which is all that does).

        The withdrawal of their staff posts is queued in the same transaction.
        """
        self._written.pop(user_id, None)
        self._changed(user_id)
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
                # Their conversation with staff: its topic or cards are deleted too.
                "conversations": await delete_conversations(
                    session, RelayConversation.user_id == user_id
                ),
                "forms": forms,
                "questions": await _deleted(
                    session, delete(UnansweredQuestion).where(UnansweredQuestion.user_id == user_id)
                ),
                "profile": await _deleted(
                    session, delete(UserProfile).where(UserProfile.user_id == user_id)
                ),
                # Kept, or /forget would lift a ban: the user is told it stays.
                "ban_kept": int(await session.get(RelayBan, user_id) is not None),
            }

    async def purge_before(
        self, cutoff: datetime, idle_forms_before: datetime | None = None
    ) -> dict[str, int]:
        """Retention: drop personal data older than ``cutoff``; withdraw its staff posts.
        Forms left unfinished since ``idle_forms_before`` go too: what a partner typed
        before consenting is not kept for the whole retention period."""
        forms_before = max(cutoff, idle_forms_before or cutoff)
        async with self.session.begin() as session:
            return {
                "leads": await delete_leads(session, Lead.updated_at < cutoff, EXPIRED),
                "conversations": await delete_conversations(
                    session, RelayConversation.last_activity_at < cutoff
                ),
                "forms": await _deleted(
                    session, delete(FormState).where(FormState.updated_at < forms_before)
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
    unsent_post = await session.scalar(
        select(OutboxItem.id).where(
            OutboxItem.lead_id == lead.id,
            OutboxItem.kind == "post",
            # A stuck one too: /retry sends it, once, with the new values.
            OutboxItem.status.in_(("pending", "stuck")),
        )
    )
    if unsent_post is not None:
        # The post still to be made will show the new values; one being made now from the
        # old ones is refreshed once it is recorded (see OutboxQueries.mark_sent).
        return
    if lead.staff_message_id is None or organisation_changed:
        # Nobody re-reads an old post: a changed organisation is news, so post again.
        session.add(OutboxItem(lead_id=lead.id, kind="post"))
    else:
        session.add(OutboxItem(lead_id=lead.id, kind="refresh"))


async def _deleted(session: AsyncSession, statement: Delete) -> int:
    """Run a DELETE and say how many rows it removed."""
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount or 0)
