"""Rules of the relay between partners and staff, on plain values (no Telegram types).

What may be relayed, how a partner's topic is named, whether a header still fits a
message, when a conversation is idle, and when the weekly digest is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Message kinds that reach the other side; anything else gets a short "what you can send".
RELAYABLE = ("text", "photo", "document", "voice")
TEXT_LIMIT = 4096  # Telegram's limits, in UTF-16 code units
CAPTION_LIMIT = 1024
TOPIC_NAME_LIMIT = 128
DIGEST_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}  # PTB's


def kind_of(present: dict[str, bool]) -> str | None:
    """The relayable kind among the parts a message has (``{"text": True, ...}``), if any."""
    for kind in RELAYABLE:
        if present.get(kind):
            return kind
    return None


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fits(header: str, body_length: int, *, media: bool) -> bool:
    """Whether a header line still fits above a body of ``body_length`` (plain text)."""
    limit = CAPTION_LIMIT if media else TEXT_LIMIT
    return telegram_length(header) + 1 + body_length <= limit


def topic_name(name: str, organisation: str | None, flag: str) -> str:
    """ "Name · Organisation · EN", cut to Telegram's 128 characters."""
    parts = [" ".join(name.split()) or "?"]
    if organisation:
        parts.append(" ".join(organisation.split()))
    tail = f" · {flag}"
    head = " · ".join(parts)[: TOPIC_NAME_LIMIT - len(tail)].rstrip()
    return head + tail


def idle_cutoff(now: datetime, idle_hours: float) -> datetime:
    """Conversations whose last message is older than this are closed."""
    return now - timedelta(hours=idle_hours)


def digest_key(now: datetime) -> str:
    """One digest per ISO week, whichever process queues it."""
    year, week, _ = now.isocalendar()
    return f"digest:{year}-W{week:02d}"


def waited_hours(since: datetime, now: datetime) -> int:
    return max(int((now - since).total_seconds() // 3600), 0)
