"""Delivery of leads to the staff chat: at least once, retried with backoff, never twice.

A lead and its outbox row are committed together before anything is sent
(``Store.submit_lead``). Each pass leases due rows, so two bot processes never
post the same row; a post that fails is rescheduled (Telegram's ``retry_after``
when it gives one, exponential backoff otherwise) and survives restarts because
the schedule is in the database.
"""

from __future__ import annotations

import logging
import warnings
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.views import staff_post

if TYPE_CHECKING:
    from bot.context import BotContext, Services

log = logging.getLogger(__name__)


def backoff(attempts: int, base: float, ceiling: float) -> timedelta:
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), ceiling))


def _retry_after(exc: RetryAfter) -> timedelta:
    """Telegram's wait, whichever type this PTB version returns (int now, timedelta later)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


async def deliver_due(bot: ExtBot[None], services: Services, now: datetime | None = None) -> int:
    """One delivery pass; returns how many items were delivered."""
    config = services.config
    chat_id = config.telegram.staff_chat_id
    if chat_id is None:
        return 0  # leads stay queued until a staff chat is configured
    now = now or services.clock()
    delivered = 0
    lang = config.telegram.staff_language
    for item, lead in await services.store.claim_due(now):
        text, markup = staff_post(services.texts, lead, lang)
        try:
            if item.kind == "refresh" and lead.staff_message_id is not None and lead.staff_chat_id:
                try:
                    await bot.edit_message_text(
                        text,
                        chat_id=lead.staff_chat_id,
                        message_id=lead.staff_message_id,
                        reply_markup=markup,
                    )
                except BadRequest as exc:
                    if "not modified" not in str(exc).lower():
                        raise
                await services.store.mark_sent(item.id, lead.staff_chat_id, None)
            else:
                message = await bot.send_message(
                    chat_id,
                    text,
                    reply_markup=markup,
                    message_thread_id=config.telegram.staff_topic_id,
                )
                await services.store.mark_sent(item.id, chat_id, message.message_id)
            delivered += 1
        except RetryAfter as exc:
            wait = _retry_after(exc)
            await services.store.mark_retry(item.id, "RetryAfter", now + wait)
            log.warning("outbox item %s: rate limited by Telegram, retrying in %s", item.id, wait)
        except BadRequest as exc:
            # A subclass of NetworkError, but not transient ("chat not found"): see below.
            await _needs_a_person(services, item.id, exc, now)
        except NetworkError as exc:
            delay = backoff(
                item.attempts,
                config.delivery.backoff_base_seconds,
                config.delivery.backoff_max_seconds,
            )
            await services.store.mark_retry(item.id, type(exc).__name__, now + delay)
            log.warning("outbox item %s: %s, retrying in %s", item.id, type(exc).__name__, delay)
        except TelegramError as exc:
            await _needs_a_person(services, item.id, exc, now)
    return delivered


async def _needs_a_person(
    services: Services, item_id: int, exc: TelegramError, now: datetime
) -> None:
    """Wrong chat id, bot removed from the chat...: needs a person, so retry slowly."""
    delay = timedelta(seconds=services.config.delivery.backoff_max_seconds)
    await services.store.mark_retry(item_id, f"{type(exc).__name__}: {exc}", now + delay)
    log.error("outbox item %s: %s; check telegram.staff_chat_id", item_id, type(exc).__name__)


async def delivery_job(context: BotContext) -> None:
    """JobQueue callback: deliver whatever is due."""
    await deliver_due(context.bot, context.services)
