"""The hot path's single statements, run on the database driver without SQLAlchemy's engine.

Every partner message runs a few single statements: the partner's state (with the
rate-limit hit on PostgreSQL), the language they wrote in, the question left unanswered,
and the inbox's claim and, one update at a time, its store and finish. Through the async
engine each cost 0.25 ms of CPU on SQLite and 0.35 ms on PostgreSQL, around a driver call
of 0.01 and 0.09 ms (measured 2026-12-06): pool checkout, execution context, result
objects and the hop into a greenlet and back. The statements stay
SQLAlchemy constructs, compiled once per database with SQLAlchemy's own conversions for
their column types; only that per-call machinery is skipped.

``DirectStatements`` has three forms: a SQLite file (one connection of its own, run inline
on the event loop as the engine's are), PostgreSQL (a small asyncpg pool of its own), and,
for an in-memory SQLite database, which is one connection that only the engine may hold,
the engine itself. Driver errors come out as SQLAlchemy's, so callers (and the inbox's
outage detection) see one vocabulary whichever form runs.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import ReturnsRows

from bot.db.sqlite_inline import when_unlocked

Processor = Callable[[Any], Any] | None
Row = tuple[Any, ...]
_REQUIRED = object()  # a parameter the caller must give


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement compiled for one database: its SQL, positional parameters, conversions."""

    sql: str
    names: tuple[str, ...]  # the parameter for each placeholder, in order
    values: tuple[Any, ...]  # the statement's own value for each (a literal's), if any
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]  # per selected or returned column

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect) -> Prepared:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        names = tuple(compiled.positiontup or ())
        values = tuple(
            _REQUIRED if compiled.binds[name].required else compiled.binds[name].effective_value
            for name in names
        )
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        # A SELECT's columns, or what an INSERT returns (none without RETURNING).
        columns = cast(ReturnsRows, statement).exported_columns
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        return cls(compiled.string, names, values, binds, results)

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, own, convert in zip(self.names, self.values, self.binds, strict=True):
            value = parameters[name] if own is _REQUIRED else parameters.get(name, own)
            values.append(value if convert is None or value is None else convert(value))
        return values

    def row(self, raw: Sequence[Any] | None) -> Row | None:
        return None if raw is None else self.converted(raw)

    def converted(self, raw: Sequence[Any]) -> Row:
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(raw, self.results, strict=True)
        )


class DirectStatements(Protocol):
    """Runs one statement outside any transaction (each commits on its own)."""

    async def fetchone(self, statement: Executable, parameters: Mapping[str, Any]) -> Row | None:
        """The first row of a SELECT or a RETURNING, converted; None when there is none."""
        ...

    async def fetchall(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        """Every row of a SELECT or a RETURNING, converted."""
        ...

    async def fetchmany(
        self, statement: Executable, parameter_sets: Sequence[Mapping[str, Any]]
    ) -> list[Row]:
        """The statement once per parameter set, all or none (one round trip on
        PostgreSQL); every row they return, converted, in order."""
        ...

    async def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> None: ...

    async def close(self) -> None: ...


class _Compiling:
    """What both driver forms share: statements compiled once each (they are module
    constants, hashed by identity), and ``execute`` as a fetch whose row nobody reads."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._prepared: dict[Executable, Prepared] = {}

    def prepared(self, statement: Executable) -> Prepared:
        prepared = self._prepared.get(statement)
        if prepared is None:
            assert isinstance(statement, ClauseElement)
            prepared = self._prepared[statement] = Prepared.compile(statement, self._dialect)
        return prepared

    async def fetchone(self, statement: Executable, parameters: Mapping[str, Any]) -> Row | None:
        raise NotImplementedError

    async def fetchall(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        raise NotImplementedError

    async def fetchmany(
        self, statement: Executable, parameter_sets: Sequence[Mapping[str, Any]]
    ) -> list[Row]:
        raise NotImplementedError

    async def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> None:
        await self.fetchone(statement, parameters)  # no RETURNING: no row, same round trip


class SqliteStatements(_Compiling):
    """A SQLite file through one connection of its own. Statements run inline on the event
    loop, and one that finds another writer's lock waits on the loop (``when_unlocked``).

    ``synchronous``: "FULL" syncs the write-ahead log to disk at every commit, so a commit
    survives a power cut; "NORMAL" leaves that to the next FULL commit or checkpoint (a
    commit still survives the process being killed). A FULL commit cost 190 us of the
    event loop's time here against 14 us, so writes whose loss in a power cut harms nobody
    (a rate-limit count, a noted language, a claim's lease) go through a NORMAL connection
    (see ``Store.soft``). Either is safe only with the write-ahead log, which the
    connection turns on itself, whichever connection reaches a new file first.

    ``fetchone`` reads one row and leaves the cursor: a statement returning several rows
    must go through ``fetchall``, or the cursor would hold the write lock."""

    def __init__(
        self, database: str, dialect: Dialect, *, synchronous: Literal["FULL", "NORMAL"] = "FULL"
    ) -> None:
        super().__init__(dialect)
        self._database = database
        self._synchronous = synchronous
        self._connection: sqlite3.Connection | None = None  # opened at first use, as the
        # engine's are: a command that never touches the database must not create the file
        self._closed = False

    def _connected(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._connection is None:
            # Autocommit; check_same_thread off only so the garbage collector may close it.
            connection = sqlite3.connect(
                self._database, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA busy_timeout=0")  # waits happen in when_unlocked
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            self._connection = connection
        return self._connection

    async def fetchone(self, statement: Executable, parameters: Mapping[str, Any]) -> Row | None:
        prepared = self.prepared(statement)
        try:
            cursor = await when_unlocked(
                self._connected().execute, prepared.sql, prepared.arguments(parameters)
            )
            raw = cursor.fetchone()
        except sqlite3.Error as error:
            raise _translated(error, prepared.sql, sqlite3.Error) from error
        return prepared.row(raw)

    async def fetchall(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        prepared = self.prepared(statement)
        try:
            cursor = await when_unlocked(
                self._connected().execute, prepared.sql, prepared.arguments(parameters)
            )
            raws = cursor.fetchall()
        except sqlite3.Error as error:
            raise _translated(error, prepared.sql, sqlite3.Error) from error
        return [prepared.converted(raw) for raw in raws]

    async def fetchmany(
        self, statement: Executable, parameter_sets: Sequence[Mapping[str, Any]]
    ) -> list[Row]:
        prepared = self.prepared(statement)
        arguments = [prepared.arguments(parameters) for parameters in parameter_sets]
        try:
            raws = await when_unlocked(
                _in_one_transaction, self._connected(), prepared.sql, arguments
            )
        except sqlite3.Error as error:
            raise _translated(error, prepared.sql, sqlite3.Error) from error
        return [prepared.converted(raw) for raw in raws]

    async def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None


STATEMENT_TIMEOUT = 10.0  # seconds to get a connection, and for a statement's answer
# Options of SQLAlchemy's asyncpg adapter, which asyncpg's connect() does not take.
_ENGINE_ONLY_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")

# asyncpg's errors that mean the server is gone or going, not that the statement is wrong
# (as SQLAlchemy's asyncpg adapter classes them: its client errors are interface errors).
_PG_OUTAGE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a prepared statement outdated by a migration, and such
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
)


class PostgresStatements(_Compiling):
    """PostgreSQL through an asyncpg pool of its own (prepared statements cached per
    connection). A statement is one round trip: no reset when a connection goes back to the
    pool, since nothing here opens a transaction or sets anything on it."""

    def __init__(self, url: str, dialect: Dialect, size: int) -> None:
        super().__init__(dialect)
        # The URL read as SQLAlchemy's asyncpg dialect reads it (ssl=..., and so on), less
        # the options that are SQLAlchemy's own rather than asyncpg's.
        _, connect = dialect.create_connect_args(make_url(url))
        # No prepared-statement cache where the URL turns the engine's off (behind
        # pgbouncer in transaction mode a named statement may be gone on the next one).
        if str(connect.get("prepared_statement_cache_size", "")) == "0":
            connect["statement_cache_size"] = 0
        for option in _ENGINE_ONLY_OPTIONS:
            connect.pop(option, None)
        self._connect = connect
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._creating = asyncio.Lock()  # two first statements at once make one pool
        self._closed = False

    async def _ready_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._creating:
                if self._closed:
                    raise RuntimeError("the store is closed")
                if self._pool is None:  # connections are opened as statements need them
                    self._pool = await asyncpg.create_pool(
                        min_size=0,
                        max_size=self._size,
                        init=_json_codec,
                        reset=_keep,
                        # A server that stops answering (a failover, a half-open
                        # connection) is an outage after this, not a hung handler.
                        command_timeout=STATEMENT_TIMEOUT,
                        **self._connect,
                    )
        return self._pool

    async def fetchone(self, statement: Executable, parameters: Mapping[str, Any]) -> Row | None:
        prepared = self.prepared(statement)
        try:
            pool = await self._ready_pool()
            async with pool.acquire(timeout=STATEMENT_TIMEOUT) as connection:
                raw = await connection.fetchrow(prepared.sql, *prepared.arguments(parameters))
        except _PG_OUTAGE as error:
            raise exc.OperationalError(prepared.sql, None, error) from error
        except asyncpg.PostgresError as error:
            raise _pg_error(error, prepared.sql) from error
        return prepared.row(raw)

    async def fetchall(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        prepared = self.prepared(statement)
        try:
            pool = await self._ready_pool()
            async with pool.acquire(timeout=STATEMENT_TIMEOUT) as connection:
                raws = await connection.fetch(prepared.sql, *prepared.arguments(parameters))
        except _PG_OUTAGE as error:
            raise exc.OperationalError(prepared.sql, None, error) from error
        except asyncpg.PostgresError as error:
            raise _pg_error(error, prepared.sql) from error
        return [prepared.converted(raw) for raw in raws]

    async def fetchmany(
        self, statement: Executable, parameter_sets: Sequence[Mapping[str, Any]]
    ) -> list[Row]:
        prepared = self.prepared(statement)
        arguments = [prepared.arguments(parameters) for parameters in parameter_sets]
        try:
            pool = await self._ready_pool()
            async with pool.acquire(timeout=STATEMENT_TIMEOUT) as connection:
                # Pipelined: every execution in one round trip, in one implicit transaction.
                raws = await connection.fetchmany(prepared.sql, arguments)
        except _PG_OUTAGE as error:
            raise exc.OperationalError(prepared.sql, None, error) from error
        except asyncpg.PostgresError as error:
            raise _pg_error(error, prepared.sql) from error
        return [prepared.converted(raw) for raw in raws]

    async def close(self) -> None:
        async with self._creating:  # not while a pool is being made
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), STATEMENT_TIMEOUT)
            except TimeoutError:  # a statement still hangs: do not hang shutdown with it
                pool.terminate()


class EngineStatements:
    """Through the engine, for a database no second connection can reach (in-memory)."""

    def __init__(self, engine: AsyncEngine, transactions: AsyncEngine | None = None) -> None:
        self._engine = engine  # may be an autocommit engine: one statement, one commit
        self._transactions = transactions or engine  # for a batch, all or none

    async def fetchone(self, statement: Executable, parameters: Mapping[str, Any]) -> Row | None:
        async with self._engine.connect() as connection:
            row = (await connection.execute(statement, dict(parameters))).first()
        return None if row is None else tuple(row)

    async def fetchall(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement, dict(parameters))).all()
        return [tuple(row) for row in rows]

    async def fetchmany(
        self, statement: Executable, parameter_sets: Sequence[Mapping[str, Any]]
    ) -> list[Row]:
        rows: list[Row] = []
        async with self._transactions.begin() as connection:
            for parameters in parameter_sets:
                result = await connection.execute(statement, dict(parameters))
                rows.extend(tuple(row) for row in result.all())
        return rows

    async def execute(self, statement: Executable, parameters: Mapping[str, Any]) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(statement, dict(parameters))

    async def close(self) -> None:
        return None


def _in_one_transaction(
    connection: sqlite3.Connection, sql: str, arguments: Sequence[Sequence[Any]]
) -> list[Any]:
    """Run ``sql`` once per argument list in one write transaction; the rows returned.
    Taking the write lock first (IMMEDIATE) makes a busy database fail at BEGIN, where
    ``when_unlocked`` can simply try the whole again."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        raws = [raw for values in arguments for raw in connection.execute(sql, values).fetchall()]
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return raws


async def _json_codec(connection: asyncpg.Connection) -> None:
    """JSON as SQLAlchemy's asyncpg dialect reads it, so its conversions apply unchanged."""
    await connection.set_type_codec(
        "json", encoder=str, decoder=json.loads, schema="pg_catalog", format="text"
    )


async def _keep(connection: asyncpg.Connection) -> None:
    """No reset on release (asyncpg's default costs a round trip)."""


def _translated(error: Exception, sql: str, base: type[Exception]) -> exc.StatementError:
    """A driver's error as the SQLAlchemy exception its class name says (as the engine does)."""
    return exc.DBAPIError.instance(sql, None, error, base)


def _pg_error(error: asyncpg.PostgresError, sql: str) -> exc.DBAPIError:
    if isinstance(error, asyncpg.IntegrityConstraintViolationError):
        return exc.IntegrityError(sql, None, error)
    return exc.ProgrammingError(sql, None, error)
