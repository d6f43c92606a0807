"""Maintainer commands that read the database: ``partnerbot kb unanswered``."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy.exc import DBAPIError

from bot.config import Config
from bot.db.store import Store


async def _top_unanswered(url: str, limit: int) -> list[tuple[str, int]]:
    store = Store.from_url(url)
    try:
        return await store.top_unanswered(limit)
    finally:
        await store.close()


def print_unanswered(config: Config, limit: int) -> int:
    """Questions the bot could not answer directly, grouped and most frequent first.

    Read-only: it never migrates, so pointing it at a production database is safe.
    """
    try:
        rows = asyncio.run(_top_unanswered(config.database.url, limit))
    except DBAPIError as exc:
        print(
            f"partnerbot: cannot read the database ({type(exc.orig).__name__}); "
            "check database.url, or run 'partnerbot db upgrade' on a new database",
            file=sys.stderr,
        )
        return 1
    if not rows:
        print("no unanswered questions stored")
        return 0
    width = len(str(rows[0][1]))
    for text, count in rows:
        print(f"{count:>{width}}  {text}")
    return 0
