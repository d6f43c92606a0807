"""The relay's scheduled work: closing idle conversations and the weekly digest."""

from __future__ import annotations

import logging
from datetime import UTC, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.outbox import kick_delivery
from bot.relay import DIGEST_DAYS, digest_key, idle_cutoff

if TYPE_CHECKING:
    from telegram.ext import JobQueue

    from bot.config import RelayConfig
    from bot.context import BotContext

log = logging.getLogger(__name__)
IDLE_CHECK = timedelta(minutes=10)


async def idle_close_job(context: BotContext) -> None:
    """Close conversations with no message for ``relay.idle_close_hours``; tell the partner."""
    now = context.services.clock()
    before = idle_cutoff(now, context.config.relay.idle_close_hours)
    closed = 0
    for user_id in await context.store.idle_conversations(before):
        if await context.store.close_conversation(
            user_id, "idle", None, "idle_closed", now, idle_before=before
        ):
            closed += 1
    if closed:
        log.info("relay: %s idle conversation(s) closed", closed)
        kick_delivery(context)


async def digest_job(context: BotContext) -> None:
    """Queue this week's digest for the staff chat (once, whichever process runs this)."""
    if await context.store.queue_digest(digest_key(context.services.clock())):
        kick_delivery(context)


def schedule_relay_jobs(job_queue: JobQueue[Any], relay: RelayConfig) -> None:
    job_queue.run_repeating(idle_close_job, interval=IDLE_CHECK, first=30)
    if relay.digest_day != "off":
        job_queue.run_daily(
            digest_job,
            time=time(relay.digest_hour, tzinfo=UTC),
            days=(DIGEST_DAYS[relay.digest_day],),
            name="relay_digest",
        )
