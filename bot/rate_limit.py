"""Per-user message rate limit (sliding window), so one person cannot flood the bot.

Kept in process memory on purpose: it guards this process's work, and losing
it on restart costs nothing. Users who went quiet for a whole window are
forgotten, so memory follows the number of active users, not of all users ever.
"""

from __future__ import annotations

from collections import deque
from enum import Enum


class Verdict(Enum):
    ALLOWED = "allowed"
    LIMITED = "limited"  # over the limit; tell the user once
    SILENT = "silent"  # still over the limit; already told


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[int, deque[float]] = {}
        self._told: dict[int, float] = {}
        self._swept = 0.0

    def __len__(self) -> int:
        """How many users are remembered."""
        return len(self._hits)

    def check(self, key: int, now: float) -> Verdict:
        if now - self._swept >= self.window:
            self._forget_quiet(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._told.pop(key, None)
            return Verdict.ALLOWED
        if now - self._told.get(key, -self.window) >= self.window:
            self._told[key] = now
            return Verdict.LIMITED
        return Verdict.SILENT

    def _forget_quiet(self, now: float) -> None:
        """Drop users with no hit inside the window (and no pending "told" note)."""
        self._swept = now
        quiet = [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]
        for key in quiet:
            del self._hits[key]
            self._told.pop(key, None)


def window_verdict(hits: int, limit: int) -> Verdict:
    """A fixed window's verdict from its count, this message included (shared stores)."""
    if hits <= limit:
        return Verdict.ALLOWED
    return Verdict.LIMITED if hits == limit + 1 else Verdict.SILENT
