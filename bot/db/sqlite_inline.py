"""SQLite for the async engine without a thread per connection.

aiosqlite runs every call (cursor, execute, fetch, close, commit, each isolation
change) on the connection's own thread and wakes the event loop for its answer:
about 44 such hops per update cost a polling worker ~2 ms of CPU, several times the
statements' own work (a ``select 1`` through the engine: 0.92 ms of CPU with
aiosqlite, 0.10 ms inline). A local SQLite statement takes microseconds, so here it
runs inline on the event loop: these classes give SQLAlchemy's aiosqlite adapter
aiosqlite's async interface over a plain ``sqlite3`` connection (the engine's
``async_creator``).

Waiting for another writer is the one thing that must not block the loop: the
writer holding the lock may be a coroutine of this very process (SQLAlchemy commits
a session in a task of its own, so a transaction stays open across a turn of the
loop), and blocking in SQLite's busy handler would keep it from ever committing. So
connections have no busy timeout; a statement that finds the database locked is
tried again after an ``asyncio.sleep`` that lets the holder finish, for up to
``BUSY_WAIT`` seconds, as SQLite's own busy handler would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from typing import Any, TypeVar

BUSY_WAIT = 10.0  # seconds a statement waits for another writer before failing
_FIRST_RETRY, _LONGEST_RETRY = 0.001, 0.05

T = TypeVar("T")


async def when_unlocked(call: Callable[..., T], *args: Any) -> T:
    """``call(*args)``, tried again while another connection holds the write lock.

    Only plain SQLITE_BUSY is waited out: its extended codes (a stale snapshot in a
    write-ahead log) do not clear by waiting, and SQLite's handler fails them at once too.
    """
    deadline: float | None = None
    delay = _FIRST_RETRY
    while True:
        try:
            return call(*args)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + BUSY_WAIT
            elif now >= deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LONGEST_RETRY)


class InlineCursor:
    """An aiosqlite-style cursor over a sqlite3 cursor."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:  # SQLAlchemy 2.1 enters aiosqlite's cursors
        return self

    def __await__(self) -> Generator[Any, None, InlineCursor]:  # earlier versions await them
        return self.__aenter__().__await__()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        await when_unlocked(self._cursor.execute, sql, () if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = list(parameters)  # a retry must see every row again
        await when_unlocked(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Immediate:
    """Stands in for aiosqlite's request queue, which SQLAlchemy's adapter uses
    directly to change a connection's isolation level: the request runs at once."""

    __slots__ = ()

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except Exception as exc:  # handed to the awaiting adapter, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection:
    """An aiosqlite-style connection over a sqlite3 connection, running inline."""

    _tx = _Immediate()

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # None once closed

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        await when_unlocked(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def inline_creator(database: str) -> Callable[[], Awaitable[InlineConnection]]:
    """An ``async_creator`` opening ``database`` (a path, or ':memory:')."""

    async def connect() -> InlineConnection:
        # check_same_thread off: the garbage collector may close a connection from
        # another thread; every statement still runs on the event loop's thread.
        connection = sqlite3.connect(database, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=0")  # waits happen in when_unlocked
        return InlineConnection(connection)

    return connect
