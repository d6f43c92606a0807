"""Runs before every other handler: the per-user rate limit."""

from __future__ import annotations

import time

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.context import BotContext
from bot.rate_limit import Verdict
from handlers.common import reply, user_language


async def rate_limit(update: Update, context: BotContext) -> None:
    """Drop messages over the limit; say so once per window."""
    user = update.effective_user
    if user is None or update.message is None or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    verdict = context.services.limiter.check(user.id, time.monotonic())
    if verdict is Verdict.ALLOWED:
        return
    if verdict is Verdict.LIMITED:
        await reply(update, context, "rate_limited", await user_language(update, context))
    raise ApplicationHandlerStop


def guard_handler() -> BaseHandler[Update, BotContext, None]:
    return TypeHandler(Update, rate_limit)
