"""The hot path's statements without the engine (bot/db/direct.py), on SQLite and PostgreSQL.

The direct forms must read and write exactly what the engine would: same values, same
types, the same SQLAlchemy errors (the inbox tells an outage from a bug by them).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, exc, select

from bot.db import sqlite_inline
from bot.db.dialect import upsert_insert
from bot.db.direct import EngineStatements, PostgresStatements, SqliteStatements
from bot.db.inbox_queries import _store_one_statement
from bot.db.models import InboxUpdate, UnansweredQuestion, UserProfile
from bot.db.store import Store
from bot.db.user_queries import _USER_STATE
from bot.inbox import is_database_outage
from tests.conftest import _reset_postgres

FORM = {"step": "email", "answers": {"name": "<b>منى</b>", "consent": True}, "n": [1, 2.5]}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = Store.from_url(database_url)
    yield store
    await store.close()


async def test_a_file_database_runs_them_on_the_driver(store: Store) -> None:
    assert isinstance(store.direct, SqliteStatements | PostgresStatements)


async def test_the_state_reads_as_the_engine_reads_it(store: Store) -> None:
    await store.save_form(7, FORM)
    await store.update_profile(7, language="en", source="expo")
    await store.note_written_language(7, "ar")
    engine = EngineStatements(store.autocommit)
    for user in (7, 8):
        direct = await store.direct.fetchone(_USER_STATE, {"user_id": user})
        assert direct == await engine.fetchone(_USER_STATE, {"user_id": user})
    state = await store.user_state(7)
    assert state.form == FORM
    assert (state.language, state.written_language, state.source) == ("en", "ar", "expo")


async def test_every_row_reads_as_the_engine_reads_it(store: Store) -> None:
    """fetchall (the inbox's claim): several rows, JSON and datetimes converted alike."""
    payloads: dict[int, dict[str, object]] = {
        n: {"update_id": n, "message": {"text": f"<b>سؤال</b> {n}", "n": [n, 2.5]}} for n in (1, 3)
    }
    payloads |= {n + 1: {"update_id": n + 1} for n in list(payloads)}
    await store.store_updates([(n, n, "message", data) for n, data in payloads.items()])
    query = select(InboxUpdate.update_id, InboxUpdate.payload, InboxUpdate.received_at).order_by(
        InboxUpdate.update_id
    )
    direct = await store.direct.fetchall(query, {})
    assert direct == await EngineStatements(store.autocommit).fetchall(query, {})
    assert [(n, data) for n, data, _ in direct] == sorted(payloads.items())
    assert all(received.year >= 2026 for _, _, received in direct)
    assert await store.direct.fetchall(query.where(InboxUpdate.update_id < 0), {}) == []


async def test_what_they_write_reads_back_through_the_orm(store: Store) -> None:
    await store.note_written_language(9, "ar")
    await store.record_unanswered(9, "  Do you fund <i>start-ups</i>?", "en", "fallback", 41.5)
    async with store.session() as session:
        profile = await session.get(UserProfile, 9)
        question = (await session.execute(select(UnansweredQuestion))).scalar_one()
    assert profile is not None and profile.written_language == "ar"
    assert profile.created_at == profile.updated_at  # a datetime, as the ORM stores it
    assert question.text == "  Do you fund <i>start-ups</i>?" and question.score == 41.5
    assert question.created_at.year >= 2026 and question.user_id == 9


async def test_the_written_language_is_written_only_when_it_changes(store: Store) -> None:
    await store.note_written_language(5, "en")
    async with store.session() as session:
        first = (await session.get(UserProfile, 5)).updated_at  # type: ignore[union-attr]
    store._written.clear()  # as another process would, without this one's memory
    await store.note_written_language(5, "en")
    async with store.session() as session:
        assert (await session.get(UserProfile, 5)).updated_at == first  # type: ignore[union-attr]


async def test_a_batch_is_one_transaction_all_or_none(store: Store) -> None:
    """fetchmany (the inbox's batches): rows in order, and a failing row undoes the rest,
    on the driver and through the engine (an in-memory database) alike."""
    insert = _store_one_statement(upsert_insert(store.engine))
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {"update_id": n, "user_key": n, "kind": "message", "payload": {"n": n}, "now": now}
        for n in (4, 5, 6)
    ]
    for statements in (store.direct, EngineStatements(store.autocommit, store.engine)):
        await _reset_inbox(store)
        assert await statements.fetchmany(insert, rows) == [(4,), (5,), (6,)]
        assert await statements.fetchmany(insert, rows[1:]) == []  # repeats return nothing
        broken = [{**rows[0], "update_id": 7}, {**rows[1], "update_id": 8, "kind": None}]
        with pytest.raises(exc.IntegrityError):  # kind is NOT NULL
            await statements.fetchmany(insert, broken)
        stored = await store.direct.fetchall(select(InboxUpdate.update_id), {})
        assert sorted(stored) == [(4,), (5,), (6,)]  # 7 was undone with 8
        assert await statements.fetchmany(insert, []) == []


async def test_two_workers_storing_overlapping_batches_keep_each_update_once(
    store: Store, database_url: str
) -> None:
    """Telegram's re-delivery can hand the same updates to two workers at once, in another
    order: each is new to exactly one of them, and neither waits on the other for good."""
    other = Store.from_url(database_url)
    try:
        ids = list(range(100, 140))
        batch = [(n, n % 7, "message", {"update_id": n}) for n in ids]
        for _ in range(5):
            await _reset_inbox(store)
            new = await asyncio.wait_for(
                asyncio.gather(
                    store.store_updates(batch), other.store_updates(list(reversed(batch)))
                ),
                30,
            )
            assert sorted([*new[0], *new[1]]) == ids  # each once, by one of the two
    finally:
        await other.close()


async def _reset_inbox(store: Store) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(delete(InboxUpdate))


async def test_concurrent_writes_all_land(store: Store) -> None:
    await asyncio.gather(
        *(store.record_unanswered(u, f"q{u}", "en", "fallback", 1.0) for u in range(40)),
        *(store.note_written_language(u, "ar" if u % 2 else "en") for u in range(40)),
    )
    assert (await store.top_unanswered(100)).__len__() == 40
    states = await asyncio.gather(*(store.user_state(u) for u in range(40)))
    assert [s.written_language for s in states] == ["ar" if u % 2 else "en" for u in range(40)]


async def test_postgres_hits_count_once_each_under_overlap(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("the hit and the state in one statement is PostgreSQL's")
    counts = await asyncio.gather(*(store.hit_with_state(3, 100) for _ in range(25)))
    assert sorted(counts) == list(range(1, 26))


async def test_a_missing_parameter_is_an_error_not_a_null(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.direct.fetchone(_USER_STATE, {})


async def test_a_locked_sqlite_file_is_an_outage_after_the_wait(
    store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(sqlite_inline, "BUSY_WAIT", 0.2)
    holder = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(exc.OperationalError) as error:
            await store.record_unanswered(1, "q", "en", "fallback", 1.0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_database_outage(error.value)
    await store.record_unanswered(1, "q", "en", "fallback", 1.0)  # the lock is gone: it works


async def test_an_unreachable_postgres_is_an_outage() -> None:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    direct = PostgresStatements("postgresql+asyncpg://nobody@127.0.0.1:1/none", dialect(), 2)
    with pytest.raises(exc.OperationalError) as error:
        await direct.fetchone(_USER_STATE, {"user_id": 1})
    assert is_database_outage(error.value)
    await direct.close()


async def test_a_store_that_is_never_used_creates_no_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite3"
    store = Store.from_url(f"sqlite+aiosqlite:///{path}")
    await store.close()
    assert not path.exists()  # read-only commands must not leave an empty database behind


async def test_a_closed_store_refuses_statements(store: Store) -> None:
    await store.user_state(1)
    await store.close()
    with pytest.raises(RuntimeError):
        await store.direct.fetchone(_USER_STATE, {"user_id": 1})


async def test_the_urls_options_reach_the_driver_as_the_engine_reads_them(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("asyncpg's connection options")
    # An option of SQLAlchemy's adapter, not a server setting: the server would refuse it.
    store = Store.from_url(database_url + "?prepared_statement_cache_size=0")
    try:
        assert (await store.user_state(1)).form is None
        # ... and turned off, the driver's own cache is off too (pgbouncer).
        assert isinstance(store.direct, PostgresStatements)
        pool = await store.direct._ready_pool()
        async with pool.acquire() as connection:
            assert connection._stmt_cache.get_max_size() == 0
    finally:
        await store.close()


async def test_a_database_before_its_first_migration_has_no_revision(database_url: str) -> None:
    from bot.db.migrate import current_revision

    if database_url.startswith("postgresql"):
        await _reset_postgres(database_url)  # PostgreSQL says so by code, in any language
        assert await current_revision(database_url) is None
    else:
        os.remove(database_url.split("///", 1)[1])
        assert await current_revision(database_url) is None
