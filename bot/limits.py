"""Where the per-user rate limit keeps its counts: this process, the database, or Redis.

With several worker processes a partner's messages land on any of them, so the limit
must be counted in one shared place ("database" or "redis"); a single process can keep
it in memory. Shared stores count fixed windows: one atomic increment per message.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

from bot.config import BotConfig
from bot.db.store import Store
from bot.logs import Outage
from bot.rate_limit import RateLimiter, Verdict, window_verdict

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("partnerbot.limits")


class RateLimit(Protocol):
    async def check(self, user_id: int) -> Verdict: ...


class MemoryLimit:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limiter = RateLimiter(limit, seconds)

    async def check(self, user_id: int) -> Verdict:
        return self.limiter.check(user_id, time.monotonic())


class DatabaseLimit:
    def __init__(self, store: Store, limit: int, seconds: float) -> None:
        self.store, self.limit, self.seconds = store, limit, seconds

    def window(self) -> int:
        return int(time.time() // self.seconds)

    async def check(self, user_id: int) -> Verdict:
        return window_verdict(await self.store.count_hit(user_id, self.window()), self.limit)


class RedisLimit:
    """While Redis is unreachable, messages are let through unlimited (logged once): the
    limit guards against floods, and refusing every partner would be worse."""

    def __init__(self, client: Redis, limit: int, seconds: float) -> None:
        self.client, self.limit, self.seconds = client, limit, seconds
        self.outage = Outage("Redis (rate limit)", log)

    async def check(self, user_id: int) -> Verdict:
        from redis.exceptions import RedisError

        window = int(time.time() // self.seconds)
        key = f"partnerbot:rate:{user_id}:{window}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, int(self.seconds) * 2)
                hits, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self.outage.failed(exc)
            return Verdict.ALLOWED
        self.outage.recovered()
        return window_verdict(int(hits), self.limit)


def rate_limit_for(config: BotConfig, store: Store) -> RateLimit:
    limit, seconds = config.rate_limit_messages, config.rate_limit_seconds
    if config.rate_limit_store == "database":
        return DatabaseLimit(store, limit, seconds)
    if config.rate_limit_store == "redis":
        # Imported only here: the client costs a worker about 19 MB it may never use.
        from redis.asyncio import Redis

        return RedisLimit(Redis.from_url(config.redis_url), limit, seconds)
    return MemoryLimit(limit, seconds)
