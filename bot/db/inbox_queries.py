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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    DateTime,
    Integer,
    Select,
    String,
    Update,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db.deferred import UNANSWERED_FIELDS, DeferredWrites
from bot.db.dialect import db_now, upsert_insert
from bot.db.direct import DirectStatements
from bot.db.models import InboxUpdate, RateHit, UnansweredQuestion, UserProfile, utcnow
from bot.db.user_queries import state_columns


@dataclass(frozen=True)
class InboxClaim:
    """An update leased to this worker."""

    update_id: int
    payload: dict[str, Any]
    attempts: int
    token: str
    # PostgreSQL's claim also reads the user's state (``UserState``'s columns) and, when
    # asked to, counts the update's rate-limit hit: the round trip each update made for
    # them at the start of its handling (see ``Store.use_claimed``).
    user_key: int = 0
    state_row: tuple[Any, ...] | None = None
    hits: int | None = None


@dataclass(frozen=True)
class InboxLag:
    pending: int
    oldest_age: timedelta | None


# Updates are stored and finished on the driver (bot/db/direct.py): through the engine
# each statement cost about twice as much CPU, and they were two of a webhook update's
# three or four. A batch runs the one-row statement once per update, in one round trip.
@cache  # built once per dialect's INSERT
def _store_one_statement(insert: Any) -> Any:
    """One update kept unless it was before (parameters ``update_id``, ``user_key``,
    ``kind``, ``payload``, ``now``); returns its id when it is new."""
    now = bindparam("now", type_=DateTime())
    return (
        insert(InboxUpdate)
        .values(
            update_id=bindparam("update_id", type_=BigInteger()),
            user_key=bindparam("user_key", type_=BigInteger()),
            kind=bindparam("kind", type_=String()),
            payload=bindparam("payload", type_=InboxUpdate.__table__.c.payload.type),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(InboxUpdate.update_id)
    )


# Parameters ``status`` and ``now``: the update's outcome, its text dropped (SQL NULL).
_FINISHED_VALUES = {
    "status": bindparam("status", type_=String()),
    "payload": null(),
    "done_at": bindparam("now", type_=DateTime()),
    "lease_token": None,
}
_FINISH_ONE = (
    update(InboxUpdate)
    .where(
        InboxUpdate.update_id == bindparam("update_id", type_=BigInteger()),
        InboxUpdate.lease_token == bindparam("token", type_=String()),
    )
    .values(_FINISHED_VALUES)
    .returning(InboxUpdate.update_id)
)


def _finish_with_writes() -> Select[Any]:
    """PostgreSQL: ``_FINISH_ONE`` (parameters ``update_id``, ``token``, ``status``, ``now``)
    and, only when it matched (the lease held), the deferred writes: the user's written
    language (``writer``, ``language``; set only when it changed) and an unanswered
    question (``asked_<column>``), each when its parameter is not NULL."""
    done = _FINISH_ONE.cte("done")
    now = bindparam("now", type_=DateTime())
    writer = bindparam("writer", type_=BigInteger())
    language = bindparam("language", type_=String())
    note = postgresql_insert(UserProfile).from_select(
        ["user_id", "written_language", "created_at", "updated_at"],
        select(writer, language, now, now).select_from(done).where(language.is_not(None)),
    )
    note = note.on_conflict_do_update(
        index_elements=["user_id"],
        set_={"written_language": note.excluded.written_language, "updated_at": now},
        where=or_(
            UserProfile.written_language.is_(None),
            UserProfile.written_language != note.excluded.written_language,
        ),
    )
    columns = UnansweredQuestion.__table__.c
    asked = {
        name: bindparam(f"asked_{name}", type_=columns[name].type) for name in UNANSWERED_FIELDS
    }
    # Cast: a parameter selected as a value has no column to take its type from.
    values = [sql_cast(asked[name], columns[name].type) for name in UNANSWERED_FIELDS]
    record = insert(UnansweredQuestion).from_select(
        list(UNANSWERED_FIELDS),
        select(*values).select_from(done).where(asked["text"].is_not(None)),
    )
    return select(done.c.update_id).add_cte(note.cte("noted")).add_cte(record.cte("asked"))


_FINISH_WITH_WRITES = _finish_with_writes()


def _finish_row(claim: InboxClaim, status: str, now: datetime) -> dict[str, Any]:
    """``_FINISH_ONE``'s parameters for one update."""
    return {"update_id": claim.update_id, "token": claim.token, "status": status, "now": now}


class InboxQueries:
    engine: AsyncEngine
    autocommit: AsyncEngine  # one statement, one round trip: no BEGIN, COMMIT or ROLLBACK
    session: async_sessionmaker[AsyncSession]
    direct: DirectStatements
    soft: DirectStatements  # writes a power cut may lose without harm (see Store.soft)

    def __init__(self) -> None:
        super().__init__()
        # Statements built once: building them cost more CPU than running them.
        self._claims: dict[timedelta, Update] = {}
        self._claims_reading_state: dict[tuple[timedelta, bool], Select[Any]] = {}
        self._renewals: dict[timedelta, Update] = {}

    def _now(self, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
        return db_now(self.engine, plus)

    async def store_update(
        self, update_id: int, user_key: int, kind: str, payload: dict[str, Any]
    ) -> bool:
        """Keep an update until it is handled; False if it was stored before (a repeat)."""
        return bool(await self.store_updates([(update_id, user_key, kind, payload)]))

    async def store_updates(
        self, updates: Sequence[tuple[int, int, str, dict[str, Any]]]
    ) -> set[int]:
        """Keep updates (update_id, user, kind, payload) until handled, all or none, in one
        round trip; the ids that were new (the others are repeats)."""
        if not updates:
            return set()
        now = utcnow()
        # In id order, so two workers storing the same updates lock their rows in one order.
        rows = [
            {
                "update_id": update_id,
                "user_key": user_key,
                "kind": kind,
                "payload": payload,
                "now": now,
            }
            for update_id, user_key, kind, payload in sorted(updates, key=lambda u: u[0])
        ]
        statement = _store_one_statement(upsert_insert(self.engine))
        if len(rows) == 1:
            row = await self.direct.fetchone(statement, rows[0])
            return set() if row is None else {updates[0][0]}
        return {update_id for (update_id,) in await self.direct.fetchmany(statement, rows)}

    async def claim_updates(
        self, lease: timedelta, limit: int, window: int | None = None
    ) -> list[InboxClaim]:
        """Lease up to ``limit`` updates, each the oldest unfinished one of its user.

        On PostgreSQL each claim comes with its user's state, and with ``window`` (the
        database rate limit's current window) a private chat's update is counted in it.
        """
        token = secrets.token_hex(16)
        values = {"token": token, "limit": limit, "now": utcnow(), "window": window}
        if self.engine.dialect.name != "postgresql":
            # A claim lost in a power cut is made again: its lease is soft (see Store.soft).
            rows = await self.soft.fetchall(self._claim_statement(lease), values)
            claims = (
                InboxClaim(update_id, payload or {}, attempts, token)
                for update_id, payload, attempts in rows
            )
        else:
            statement = self._claim_reading_state(lease, counting=window is not None)
            claims = (
                InboxClaim(update_id, payload or {}, attempts, token, user_key, tuple(state), hits)
                for update_id, payload, attempts, user_key, hits, *state in await self.soft.fetchall(
                    statement, values
                )
            )
        return sorted(claims, key=lambda c: c.update_id)

    def _claim_reading_state(self, lease: timedelta, *, counting: bool) -> Select[Any]:
        """PostgreSQL: the claim (a data-modifying WITH), each claimed update's user state
        and, when ``counting``, its rate-limit hit (parameter ``window``) in one statement.
        A claim holds at most one update per user, so no user is counted twice in it."""
        key = (lease, counting)
        if key in self._claims_reading_state:
            return self._claims_reading_state[key]
        claimed = (
            self._claim_statement(lease)
            .returning(InboxUpdate.user_key)  # added to the id, payload and attempts
            .cte("claimed")
        )
        hits: Any = null()
        claimed_rows: Any = claimed
        if counting:
            payload = claimed.c.payload
            # The guard limits partners in private chats (handlers/guard.py).
            chat_type = func.coalesce(
                *(
                    payload[kind]["chat"]["type"].as_string()
                    for kind in ("message", "edited_message")
                ),
                payload["callback_query"]["message"]["chat"]["type"].as_string(),
            )
            hit = (
                postgresql_insert(RateHit)
                .from_select(
                    ["user_id", "window", "hits"],
                    select(
                        claimed.c.user_key, bindparam("window", type_=BigInteger()), literal(1)
                    ).where(chat_type == "private"),
                )
                .on_conflict_do_update(
                    index_elements=["user_id", "window"], set_={"hits": RateHit.hits + 1}
                )
                .returning(RateHit.user_id, RateHit.hits)
                .cte("hit")
            )
            hits = hit.c.hits
            claimed_rows = claimed.outerjoin(hit, hit.c.user_id == claimed.c.user_key)
        statement = select(
            claimed.c.update_id,
            claimed.c.payload,
            claimed.c.attempts,
            claimed.c.user_key,
            hits,
            *state_columns(claimed.c.user_key),
        ).select_from(claimed_rows)
        self._claims_reading_state[key] = statement
        return statement

    def _claim_statement(self, lease: timedelta) -> Update:
        """The claim, built once per lease length. Parameters: ``token``, ``limit``, ``now``."""
        if lease in self._claims:
            return self._claims[lease]
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
                InboxUpdate.next_attempt_at <= bindparam("now", type_=DateTime()),
                or_(InboxUpdate.locked_until.is_(None), InboxUpdate.locked_until < self._now()),
                ~waits_for_earlier,
            )
            .order_by(InboxUpdate.update_id)
            .limit(bindparam("limit", type_=Integer()))
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite runs one writer at a time
        )
        self._claims[lease] = (
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(due.scalar_subquery()))
            .values(
                lease_token=bindparam("token", type_=String()),
                locked_until=self._now(lease),
                attempts=InboxUpdate.attempts + 1,
            )
            .returning(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.attempts)
        )
        return self._claims[lease]

    async def finish_update(self, claim: InboxClaim, status: str = "done") -> bool:
        """Record the update handled (or given up on); its text is dropped. False when
        another worker holds it now."""
        return bool(await self.finish_updates([(claim, status)]))

    async def finish_updates(self, finished: Sequence[tuple[InboxClaim, str]]) -> int:
        """Record updates handled ("done") or given up on ("failed"), all or none, in one
        round trip; each only while this worker's lease on it holds. Their text is dropped.
        Returns how many were recorded."""
        return len(await self._finish(finished))

    async def _finish(self, finished: Sequence[tuple[InboxClaim, str]]) -> set[int]:
        if not finished:
            return set()
        now = utcnow()
        rows = [
            _finish_row(claim, status, now)
            for claim, status in sorted(finished, key=lambda f: f[0].update_id)
        ]
        if len(rows) == 1:
            row = await self.direct.fetchone(_FINISH_ONE, rows[0])
            return set() if row is None else {int(row[0])}
        return {update_id for (update_id,) in await self.direct.fetchmany(_FINISH_ONE, rows)}

    async def finish_with_writes(
        self, finished: Sequence[tuple[InboxClaim, str, DeferredWrites | None]]
    ) -> set[int]:
        """``finish_updates``, also making each update's deferred writes (bot/db/deferred.py)
        in the same round trip, each only if its lease still holds; the ids recorded."""
        if not any(writes for _, _, writes in finished):
            return await self._finish([(claim, status) for claim, status, _ in finished])
        now = utcnow()
        rows = []
        for claim, status, writes in sorted(finished, key=lambda f: f[0].update_id):
            language = writes.written_language if writes else None
            asked = writes.unanswered if writes else None
            rows.append(
                {
                    **_finish_row(claim, status, now),
                    "writer": language[0] if language else None,
                    "language": language[1] if language else None,
                    **{f"asked_{name}": (asked or {}).get(name) for name in UNANSWERED_FIELDS},
                }
            )
        return {
            update_id for (update_id,) in await self.direct.fetchmany(_FINISH_WITH_WRITES, rows)
        }

    async def postpone_update(
        self, claim: InboxClaim, delay: timedelta, patience: timedelta = timedelta(hours=1)
    ) -> None:
        """Hand the update back to be tried again after ``delay`` (the database or the Bot
        API failed). Within ``patience`` of its arrival the claim's attempt is given back:
        an outage is nobody's fault. Past it, postponements count, so an update that fails
        the same outage-like way every time is given up rather than retried forever."""
        async with self.autocommit.connect() as connection:
            await connection.execute(
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id == claim.update_id,
                    InboxUpdate.lease_token == claim.token,
                )
                .values(
                    lease_token=None,
                    locked_until=None,
                    next_attempt_at=utcnow() + delay,
                    attempts=case(
                        (InboxUpdate.received_at > utcnow() - patience, InboxUpdate.attempts - 1),
                        else_=InboxUpdate.attempts,
                    ),
                )
            )

    async def renew_updates(self, claims: Sequence[InboxClaim], lease: timedelta) -> int:
        """Extend the leases this worker still holds on ``claims``, in one round trip; how
        many it still held."""
        rows = [{"update_id": claim.update_id, "token": claim.token} for claim in claims]
        if not rows:
            return 0
        return len(await self.direct.fetchmany(self._renew_statement(lease), rows))

    def _renew_statement(self, lease: timedelta) -> Update:
        """Built once per lease length. Parameters: ``update_id``, ``token``."""
        if lease not in self._renewals:
            self._renewals[lease] = (
                update(InboxUpdate)
                .where(
                    InboxUpdate.update_id == bindparam("update_id", type_=BigInteger()),
                    InboxUpdate.lease_token == bindparam("token", type_=String()),
                    InboxUpdate.status == "pending",
                )
                .values(locked_until=self._now(lease))
                .returning(InboxUpdate.update_id)
            )
        return self._renewals[lease]

    async def inbox_lag(self) -> InboxLag:
        """How many updates wait, and for how long the oldest has waited."""
        query = select(func.count(), func.min(InboxUpdate.received_at)).where(
            InboxUpdate.status == "pending"
        )
        async with self.autocommit.connect() as connection:
            count, oldest = (await connection.execute(query)).one()
        return InboxLag(int(count), utcnow() - oldest if oldest is not None else None)

    async def purge_inbox(self, handled_before: datetime) -> int:
        """Forget handled updates' ids once Telegram can no longer send them again."""
        async with self.autocommit.connect() as connection:
            result = await connection.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.status != "pending", InboxUpdate.done_at < handled_before
                )
            )
            return int(cast(CursorResult[Any], result).rowcount or 0)
