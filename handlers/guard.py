"""Runs before every other handler: the per-user rate limit."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.context import BotContext
from bot.rate_limit import Verdict
from handlers.common import reply, user_language


async def rate_limit(update: Update, context: BotContext) -> None:
    """Drop a partner's messages, edits and button presses over the limit; say so once."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return  # the staff chat is not limited
    verdict = await context.services.limiter.check(user.id)
    if verdict is Verdict.ALLOWED:
        return
    query = update.callback_query
    if verdict is Verdict.LIMITED:
        lang = await user_language(update, context)
        if query is not None:
            await query.answer(context.texts.render("rate_limited", lang), show_alert=True)
        else:
            await reply(update, context, "rate_limited", lang)
    elif query is not None:
        await query.answer()  # stop the button's spinner, say nothing more
    raise ApplicationHandlerStop


def guard_handler() -> BaseHandler[Update, BotContext, None]:
    return TypeHandler(Update, rate_limit)
