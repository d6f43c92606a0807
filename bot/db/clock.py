"""The database's clock, for leases that several processes must agree on."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, Interval, func, literal
from sqlalchemy.ext.asyncio import AsyncEngine


def db_now(engine: AsyncEngine, plus: timedelta = timedelta(0)) -> ColumnElement[datetime]:
    """The database's clock as naive UTC, plus ``plus``: every process sees one clock."""
    if engine.dialect.name == "postgresql":
        return func.timezone("UTC", func.now(), type_=DateTime()) + literal(plus, Interval())
    # The format SQLAlchemy stores SQLite datetimes in, so text comparison orders them.
    return func.strftime(
        "%Y-%m-%d %H:%M:%f", "now", f"{plus.total_seconds():+.3f} seconds", type_=DateTime()
    )
