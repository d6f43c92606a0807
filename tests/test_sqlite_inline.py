"""SQLite statements run inline on the event loop (bot/db/sqlite_inline.py).

What must hold: a writer waiting for another writer's lock never blocks the loop
(the holder may be a coroutine of this process, whose commit needs the loop), the
wait ends as soon as the holder commits, it gives up after BUSY_WAIT, and rows,
rollbacks and errors behave as with aiosqlite.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, column, insert, literal_column, select, table, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db import sqlite_inline
from bot.db.store import Store


async def _store(path: Path) -> Store:
    store = Store.from_url(f"sqlite+aiosqlite:///{path}")
    async with store.engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        )
    return store


async def test_a_writer_waits_for_a_coroutine_holding_the_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    store = await _store(tmp_path / "a.sqlite3")
    holder_has_lock = asyncio.Event()
    ticks = 0

    async def holder() -> None:
        async with store.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (v) VALUES ('first')"))
            holder_has_lock.set()
            await asyncio.sleep(0.3)  # the write lock is held across turns of the loop

    async def waiter() -> float:
        await holder_has_lock.wait()
        started = time.monotonic()
        async with store.autocommit.connect() as connection:
            await connection.execute(text("INSERT INTO t (v) VALUES ('second')"))
        return time.monotonic() - started

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    _, waited = await asyncio.gather(holder(), waiter())
    tick_task.cancel()
    assert 0.2 < waited < 2.0  # it waited for the commit, then went ahead
    assert ticks >= 15  # the loop kept turning while it waited (a blocked loop: ~0)
    async with store.autocommit.connect() as connection:
        rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["first", "second"]
    await store.close()


async def test_a_writer_waits_for_another_process_and_gives_up_after_busy_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "b.sqlite3"
    store = await _store(path)
    # Another process takes the write lock and keeps it until told to stop.
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sqlite3, sys\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "c.execute('COMMIT')\n",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None and holder.stdin is not None
    try:
        assert (await holder.stdout.readline()).strip() == b"locked"
        monkeypatch.setattr(sqlite_inline, "BUSY_WAIT", 0.3)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="locked"):
            async with store.autocommit.connect() as connection:
                await connection.execute(text("INSERT INTO t (v) VALUES ('refused')"))
        assert 0.25 < time.monotonic() - started < 2.0

        monkeypatch.setattr(sqlite_inline, "BUSY_WAIT", 10.0)
        stdin = holder.stdin
        asyncio.get_running_loop().call_later(0.2, stdin.write, b"go\n")
        async with store.autocommit.connect() as connection:
            await connection.execute(text("INSERT INTO t (v) VALUES ('after')"))
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
    async with store.autocommit.connect() as connection:
        rows = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
    assert rows == ["after"]
    await store.close()


async def test_rollback_and_errors_behave_as_a_driver_should(tmp_path: Path) -> None:
    store = await _store(tmp_path / "c.sqlite3")
    with pytest.raises(RuntimeError):
        async with store.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (id, v) VALUES (1, 'gone')"))
            raise RuntimeError
    async with store.engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (id, v) VALUES (1, 'kept')"))
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (id, v) VALUES (1, 'twice')"))
    async with store.session() as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["kept"]
    await store.close()


def test_an_error_that_waiting_cannot_clear_is_raised_at_once() -> None:
    calls = 0

    def corrupt() -> None:
        nonlocal calls
        calls += 1
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="I/O"):
        asyncio.run(sqlite_inline.when_unlocked(corrupt))
    assert calls == 1


async def test_only_the_writes_a_power_cut_may_lose_skip_the_disk_sync(tmp_path: Path) -> None:
    """Updates stored, forms and leads commit with the write-ahead log synced to disk
    (synchronous FULL); the rate-limit count, the noted language and the unanswered
    question, written on every message, go through a connection that leaves the sync to
    the next synced commit (NORMAL). What it writes is read at once by the others."""
    store = await _store(tmp_path / "s.sqlite3")
    query = select(literal_column("synchronous")).select_from(text("pragma_synchronous()"))
    assert await store.direct.fetchone(query, {}) == (2,)  # FULL
    assert await store.soft.fetchone(query, {}) == (1,)  # NORMAL
    async with store.engine.connect() as connection:
        assert (await connection.execute(query)).scalar_one() == 2
    t = table("t", column("v"))
    await store.soft.execute(insert(t).values(v=bindparam("v")), {"v": "soft"})
    assert await store.direct.fetchone(select(t.c.v), {}) == ("soft",)
    await store.close()


class _Recording:
    """Passes statements on to a connection and notes the table each one writes."""

    def __init__(self, inner: Any, log: list[tuple[str, str]], name: str) -> None:
        self._inner, self._log, self._name = inner, log, name

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._inner, method)
        if method not in ("fetchone", "fetchall", "fetchmany", "execute"):
            return call

        async def recorded(statement: Any, *args: Any) -> Any:
            table = getattr(getattr(statement, "table", None), "name", None)
            if table is not None:  # a write; reads have no single table
                self._log.append((self._name, f"{type(statement).__name__} {table}"))
            return await call(statement, *args)

        return recorded


async def test_each_write_of_a_partner_message_goes_through_the_connection_meant_for_it(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """New updates and finish marks are synced; the claim, the rate-limit count, the
    noted language and the unanswered question are not (see Store.soft)."""
    path = tmp_path / "r.sqlite3"
    shutil.copy(sqlite_template, path)
    store = Store.from_url(f"sqlite+aiosqlite:///{path}")
    log: list[tuple[str, str]] = []
    store.direct = _Recording(store.direct, log, "synced")  # type: ignore[assignment]
    store.soft = _Recording(store.soft, log, "soft")  # type: ignore[assignment]
    await store.store_updates([(1, 7, "message", {"update_id": 1})])
    [claim] = await store.claim_updates(timedelta(seconds=60), 5)
    await store.count_hit(7, 100)
    await store.note_written_language(7, "ar")
    await store.record_unanswered(7, "سؤال", "ar", "fallback", 10.0)
    assert await store.finish_updates([(claim, "done")]) == 1
    await store.close()
    assert log == [
        ("synced", "Insert inbox"),
        ("soft", "Update inbox"),
        ("soft", "Insert rate_hits"),
        ("soft", "Delete rate_hits"),  # the first hit of a window forgets the older ones
        ("soft", "Insert user_profiles"),
        ("soft", "Insert unanswered_questions"),
        ("synced", "Update inbox"),
    ]
