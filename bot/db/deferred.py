"""Writes an update's handling makes that can wait for its finish mark (PostgreSQL).

Two of a partner message's writes are only read later: the language they wrote in (for
the next button's reply) and the question left unanswered (for maintainers). Made as
they happen, each cost a round trip of its own. While the inbox handles an update on
PostgreSQL they are collected here instead, and written by the statement that marks the
update handled, batched with other updates' marks, and only while this worker's lease
still holds: exactly once, where the round trips made them at least once. One user's
next update is taken only after that mark, so it sees them. An update postponed by an
outage drops them; handling it again makes them again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert

from bot.db.models import UnansweredQuestion

UNANSWERED_FIELDS = ("user_id", "text", "normalized", "language", "outcome", "score", "created_at")
# An unanswered question's row (a parameter per field), when it is written at once.
RECORD_UNANSWERED = (
    insert(UnansweredQuestion)
    .values(
        {f: bindparam(f, type_=UnansweredQuestion.__table__.c[f].type) for f in UNANSWERED_FIELDS}
    )
    .inline()
)


@dataclass
class DeferredWrites:
    written_language: tuple[int, str] | None = None  # (user, language): the latest wins
    # The update's unanswered question (a row to insert); a second one, which no handler
    # makes today, is written at once.
    unanswered: dict[str, Any] | None = None
    # Set when the update's handling is over. A task or timer started during it (a job the
    # scheduler runs later) inherits the collector; it writes at once instead.
    closed: bool = False

    def __bool__(self) -> bool:
        return self.written_language is not None or self.unanswered is not None


_CURRENT: ContextVar[DeferredWrites | None] = ContextVar("deferred_writes", default=None)


def current() -> DeferredWrites | None:
    """The collector of the update being handled here, if its writes may wait."""
    writes = _CURRENT.get()
    return None if writes is None or writes.closed else writes


@contextmanager
def collecting(enabled: bool) -> Iterator[DeferredWrites | None]:
    """Collect the writes made in this block when ``enabled``."""
    if not enabled:
        yield None
        return
    writes = DeferredWrites()
    token = _CURRENT.set(writes)
    try:
        yield writes
    finally:
        writes.closed = True
        _CURRENT.reset(token)
