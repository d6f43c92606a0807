"""Alembic, driven from code: ``partnerbot db upgrade`` and the upgrade on start.

A worker starts against a database that is usually up to date already. It reads the
revision first and loads Alembic only when there is something to upgrade: Alembic and
what it brings (Mako, Pygments, Click) are about 10 MB of every worker's memory.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(str(resources.files("bot.db") / "migrations"))
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE


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
