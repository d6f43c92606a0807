"""What differs between PostgreSQL and SQLite, in one place: the database's clock (for
leases several processes must agree on) and the INSERT that takes ON CONFLICT."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Interval, func, literal
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine


def db_now(engine: AsyncEngine, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
    """The database's clock as naive UTC, plus ``plus``: every process sees one clock."""
    if engine.dialect.name == "postgresql":
        return func.timezone("UTC", func.now(), type_=DateTime()) + literal(plus, Interval())
    # The format SQLAlchemy stores SQLite datetimes in, so text comparison orders them.
    return func.strftime(
        "%Y-%m-%d %H:%M:%f", "now", f"{plus.total_seconds():+.3f} seconds", type_=DateTime()
    )


def upsert_insert(engine: AsyncEngine) -> Callable[[Any], Any]:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    return postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
