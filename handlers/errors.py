"""The last line of defence: log without personal data, tell the user what to do next."""

from __future__ import annotations

import logging
import traceback

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.bot_api_request import retry_wait
from bot.context import BotContext
from bot.inbox import POSTPONED, is_bot_api_outage, is_database_outage
from handlers.common import reply, user_language

log = logging.getLogger("partnerbot.errors")


def _postponable(error: BaseException | None) -> float | None:
    """Seconds at least to wait before handling the update again, when ``error`` is an
    outage or Telegram's "retry after" that outlasted the flood limiter's own retries;
    None when it is a failure of the update itself."""
    if isinstance(error, RetryAfter):
        return retry_wait(error).total_seconds()
    if error is not None and (is_database_outage(error) or is_bot_api_outage(error)):
        return 0.0
    return None


async def on_error(update: object, context: BotContext) -> None:
    """Log the exception type, the update id and where it failed, never the message.

    An exception's text can quote what the user typed (a validation error, a
    Telegram "can't parse" error), so only the stack frames are logged.
    """
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    wait = _postponable(error)
    if wait is not None and update_id is not None:
        postponed = context.bot_data.get(POSTPONED)
        if postponed is not None:
            # Served from the inbox: the update is handled again once the database or
            # the Bot API is back (or Telegram's wait is over), so no apology now (it
            # would be a second reply, or fail too) and no trace per update; and no
            # later handler group either, which would act on a half-handled update.
            postponed[update_id] = wait
            raise ApplicationHandlerStop
    frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    log.error("update %s failed: %s\n%s", update_id, type(error).__name__, frames)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    try:
        lang = await user_language(update, context)
    except Exception:  # the database itself may be what failed
        lang = context.config.bot.default_language
    try:
        await reply(update, context, "error", lang)
    except TelegramError:
        log.error("could not tell update %s's user about the failure", update_id)
