"""The partner's own rows on the hot path: profile, written language, open form.

Part of ``Store`` (a mixin). Every partner message needs the open form and the
language choices; ``user_state`` reads them in one statement, and ``user_version``
lets a caller keep that read for the rest of an update: it changes whenever this
process writes the user's form or profile. (Another process never writes them while
this one handles the user's update: one user's updates are handled one at a time.)
All Core statements: the ORM's unit of work buys nothing for single-row reads and
upserts, and cost about twice the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, DateTime, Select, String, bindparam, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import deferred as deferred_writes
from bot.db.dialect import upsert_insert
from bot.db.direct import DirectStatements
from bot.db.models import FormState, RateHit, RelayBan, RelayConversation, UserProfile, utcnow
from bot.db.relay_queries import OPEN

WRITTEN_TTL = 60.0  # seconds a noted written language is not written again
CACHE_SIZE = 10_000  # users remembered per process (written languages, write versions)


@dataclass(frozen=True)
class UserState:
    """What handling a partner's update needs to know about them."""

    form: dict[str, Any] | None
    language: str | None  # chosen with /language
    written_language: str | None
    source: str | None  # the /start deep-link parameter
    # As the update arrived (only the relay gate, first in line, reads them):
    relay_open: bool  # a conversation with staff is open
    banned: bool  # staff banned the user from the relay


def _state(row: Any) -> UserState:
    form, language, written, source, relay, ban = row
    return UserState(form, language, written, source, relay == OPEN, ban is not None)


def state_columns(user_id: Any) -> list[Any]:
    """The columns of a ``UserState`` for the user ``user_id`` (a parameter or a column)."""

    def of(column: Any, key: Any) -> Any:
        return select(column).where(key == user_id).scalar_subquery()

    return [
        of(FormState.state, FormState.user_id),
        of(UserProfile.language, UserProfile.user_id),
        of(UserProfile.written_language, UserProfile.user_id),
        of(UserProfile.source, UserProfile.user_id),
        of(RelayConversation.status, RelayConversation.user_id),
        of(RelayBan.user_id, RelayBan.user_id),
    ]


def _user_state_query() -> Select[Any]:
    return select(*state_columns(bindparam("user_id", type_=BigInteger())))


# Built once, like the inbox's statements: every partner message runs it, and building
# it cost more CPU than running it.
_USER_STATE = _user_state_query()


@cache  # built once per dialect's INSERT, as the other hot statements
def hit_statement(insert: Any) -> Any:
    """Count one message in a rate-limit window (parameters ``user_id``, ``window``); the
    count so far."""
    return (
        insert(RateHit)
        .values(
            user_id=bindparam("user_id", type_=BigInteger()),
            window=bindparam("window", type_=BigInteger()),
            hits=1,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "window"], set_={"hits": RateHit.hits + 1}
        )
        .returning(RateHit.hits)
    )


def _hit_and_state_query() -> Select[Any]:
    """PostgreSQL: count a rate-limit hit (parameters ``user_id``, ``window``) and read
    the user's state, in one statement (a data-modifying WITH)."""
    hit = hit_statement(postgresql_insert).cte("hit")
    return select(select(hit.c.hits).scalar_subquery(), *_USER_STATE.selected_columns)


_HIT_AND_STATE = _hit_and_state_query()


@cache  # built once per dialect's INSERT: building it cost more CPU than running it
def _note_written_statement(insert: Any) -> Any:
    """The user's written language (parameters ``user_id``, ``language``, ``now``), set
    only when it changed."""
    language = bindparam("language", type_=String())
    now = bindparam("now", type_=DateTime())
    return (
        insert(UserProfile)
        .values(
            user_id=bindparam("user_id", type_=BigInteger()),
            written_language=language,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id"],
            set_={"written_language": language, "updated_at": now},
            where=or_(
                UserProfile.written_language.is_(None), UserProfile.written_language != language
            ),
        )
    )


PREFETCH_SECONDS = 1.0  # how long a state read with the rate-limit hit waits to be used


class UserQueries:
    engine: AsyncEngine
    direct: DirectStatements  # the hot path's statements, without the engine
    soft: DirectStatements  # those a power cut may lose without harm (see Store.soft)
    autocommit: AsyncEngine  # one statement, one round trip: no BEGIN, COMMIT or ROLLBACK

    def __init__(self) -> None:
        super().__init__()
        self._written: dict[int, tuple[str, float]] = {}
        self._versions: dict[int, int] = {}
        # States read together with a rate-limit hit, or with the inbox's claim of the
        # update, for the user_state() call that follows in the same update:
        # (user_version then, when, state).
        self._prefetched: dict[int, tuple[int, float, UserState]] = {}
        # Rate-limit counts made by the inbox's claim of the update now being handled.
        self._precounted: dict[int, int] = {}

    def user_version(self, user_id: int) -> int:
        """Changes whenever this process writes the user's form or profile."""
        return self._versions.get(user_id, 0)

    def _changed(self, user_id: int) -> None:
        if len(self._versions) >= CACHE_SIZE:
            self._versions.clear()  # every kept read is then re-read: safe, just slower
        self._versions[user_id] = self._versions.get(user_id, 0) + 1

    async def user_state(self, user_id: int) -> UserState:
        """The open form, the profile's language and source, and the relay's state, in one
        round trip (none when it came with this update's rate-limit hit)."""
        kept = self._prefetched.pop(user_id, None)
        if (
            kept is not None
            and kept[0] == self.user_version(user_id)
            and time.monotonic() - kept[1] < PREFETCH_SECONDS
        ):
            state = kept[2]
        else:
            state = _state(await self.direct.fetchone(_USER_STATE, {"user_id": user_id}))
        deferred = deferred_writes.current()
        noted = deferred.written_language if deferred is not None else None
        if noted is not None and noted[0] == user_id:  # noted in this update, not written yet
            state = replace(state, written_language=noted[1])
        return state

    async def hit_with_state(self, user_id: int, window: int) -> int:
        """PostgreSQL: count one message in the user's rate-limit window and read their
        state in the same round trip; the count so far. The state is kept for the
        ``user_state`` call that follows (every partner message makes both)."""
        row = await self.direct.fetchone(_HIT_AND_STATE, {"user_id": user_id, "window": window})
        assert row is not None  # a SELECT without FROM has one row
        if len(self._prefetched) >= CACHE_SIZE:
            self._prefetched.clear()  # updates stopped by the limit never collect theirs
        self._prefetched[user_id] = (self.user_version(user_id), time.monotonic(), _state(row[1:]))
        return int(row[0])

    def use_claimed(self, user_id: int, state_row: Sequence[Any], hits: int | None) -> None:
        """Keep what the inbox's claim read for the user's update about to be handled: their
        state and, when it counted one, the update's rate-limit hit. The claim saw every
        earlier update of the user finished (one is handled at a time), so the state is as
        fresh as a read at the start of handling."""
        self._prefetched[user_id] = (
            self.user_version(user_id),
            time.monotonic(),
            _state(state_row),
        )
        if hits is not None:
            self._precounted[user_id] = hits

    def forget_claimed(self, user_id: int) -> None:
        """The update was handled: what its claim read is not for the next one."""
        self._prefetched.pop(user_id, None)
        self._precounted.pop(user_id, None)

    async def profile(self, user_id: int) -> UserProfile | None:
        async with self.autocommit.connect() as connection:
            row = (
                await connection.execute(select(UserProfile).where(UserProfile.user_id == user_id))
            ).one_or_none()
        return None if row is None else UserProfile(**row._asdict())

    async def update_profile(self, user_id: int, **values: Any) -> None:
        """Set profile fields (creating the profile), in one statement."""
        self._changed(user_id)
        statement = (
            upsert_insert(self.engine)(UserProfile)
            .values(user_id=user_id, created_at=utcnow(), updated_at=utcnow(), **values)
            .on_conflict_do_update(
                index_elements=["user_id"], set_={**values, "updated_at": utcnow()}
            )
        )
        async with self.autocommit.connect() as connection:
            await connection.execute(statement)

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
        self._changed(user_id)
        deferred = deferred_writes.current()
        if deferred is not None:
            # Written with the update's finish mark, and remembered once it is (a postponed
            # update drops it, and must not find it remembered when handled again).
            deferred.written_language = (user_id, language)
            return
        self.noted_written_language(user_id, language)
        await self.soft.execute(
            _note_written_statement(upsert_insert(self.engine)),
            {"user_id": user_id, "language": language, "now": utcnow()},
        )

    def noted_written_language(self, user_id: int, language: str) -> None:
        """The user's written language is stored: not written again for a while."""
        if len(self._written) >= CACHE_SIZE:
            self._written.clear()
        self._written[user_id] = (language, time.monotonic())

    # Form state ------------------------------------------------------------
    async def load_form(self, user_id: int) -> FormState | None:
        async with self.autocommit.connect() as connection:
            row = (
                await connection.execute(select(FormState).where(FormState.user_id == user_id))
            ).one_or_none()
        return None if row is None else FormState(**row._asdict())

    async def save_form(self, user_id: int, state: dict[str, Any]) -> None:
        self._changed(user_id)
        now = utcnow()
        statement = (
            upsert_insert(self.engine)(FormState)
            .values(user_id=user_id, state=state, updated_at=now)
            .on_conflict_do_update(
                index_elements=["user_id"], set_={"state": state, "updated_at": now}
            )
        )
        async with self.autocommit.connect() as connection:
            await connection.execute(statement)

    async def delete_form(self, user_id: int) -> None:
        self._changed(user_id)
        async with self.autocommit.connect() as connection:
            await connection.execute(delete(FormState).where(FormState.user_id == user_id))
