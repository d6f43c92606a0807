"""Per-user message rate limit (sliding window), so one person cannot flood the bot.

Kept in process memory on purpose: it guards this process's work, and losing
it on restart costs nothing.
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

    def check(self, key: int, now: float) -> Verdict:
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
