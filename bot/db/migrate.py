"""Alembic, driven from code: ``partnerbot db upgrade`` and the upgrade on start.

A worker never loads Alembic itself: Alembic and what it brings (Mako, Pygments, Click)
would stay in its memory for good, about 10 MB. On start it reads the schema's revision;
when there is something to upgrade, a short-lived process of its own does it
(``upgrade_in_child``, which runs this module).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(str(resources.files("bot.db") / "migrations"))
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE
URL_VARIABLE = "PARTNERBOT_MIGRATE_URL"  # the child's database (not in argv: ps shows argv)
OUTAGE_EXIT = 75  # the child could not reach the database (EX_TEMPFAIL)


class MigrationError(RuntimeError):
    """The upgrade failed for a reason other than an unreachable database."""


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def newest_revision() -> str:
    """The head revision, from the migration files' names ("0007_shared_counters.py"
    holds revision "0007"; tests/test_migrations.py checks this against Alembic)."""
    names = (path.name for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return max(name.split("_", 1)[0] for name in names)


async def current_revision(url: str) -> str | None:
    """The database's revision; None before the first migration."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar_one_or_none()
    except DBAPIError as error:
        if _is_missing_table(error):
            return None
        raise
    finally:
        await engine.dispose()


def _is_missing_table(error: DBAPIError) -> bool:
    """PostgreSQL's undefined_table (by code: the text is in the server's language), or
    SQLite's "no such table"."""
    if getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
        return True
    return "no such table" in str(error.orig)


def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision. Synchronous: call it outside a running loop
    (or through ``asyncio.to_thread``), since Alembic's env runs its own loop."""
    if asyncio.run(current_revision(url)) == newest_revision():
        return
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def upgrade_in_child(url: str) -> None:
    """Bring the schema to the newest revision, in a process of its own when it is not there
    yet. An unreachable database raises SQLAlchemy's OperationalError (the caller waits
    and tries again); any other failure, ``MigrationError`` with the child's last line."""
    try:
        if await current_revision(url) == newest_revision():
            return
    except DBAPIError as error:
        if isinstance(error, OperationalError | InterfaceError):
            raise  # unreachable: the caller waits
        first = (str(error.orig).splitlines() or [""])[0]
        raise MigrationError(f"cannot read the schema's revision: {first}") from None
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.db.migrate",
        env={**os.environ, URL_VARIABLE: url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, stderr = await child.communicate()
    if child.returncode == 0:
        return
    lines = stderr.decode(errors="replace").strip().splitlines()
    reason = lines[-1] if lines else f"exit status {child.returncode}"
    if child.returncode == OUTAGE_EXIT:
        raise OperationalError("schema upgrade", None, ConnectionError(reason))
    raise MigrationError(f"schema upgrade failed: {reason}")


def _upgrade_from_environment() -> int:
    """The child: one line on stderr and an exit status that says whether to try again."""
    try:
        upgrade_database(os.environ[URL_VARIABLE])
    except Exception as error:
        first = (str(error).splitlines() or [""])[0]
        print(f"{type(error).__name__}: {first}", file=sys.stderr)
        outage = isinstance(error, OperationalError | InterfaceError | OSError | TimeoutError)
        return OUTAGE_EXIT if outage else 1
    return 0


if __name__ == "__main__":
    sys.exit(_upgrade_from_environment())
