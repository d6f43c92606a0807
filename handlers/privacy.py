"""/privacy and /forget: the notice, and deleting everything stored about a user."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.context import BotContext
from bot.views import inline
from handlers.common import reply, user_language

log = logging.getLogger(__name__)


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy: the notice in the user's language."""
    lang = await user_language(update, context)
    await reply(
        update, context, "privacy", lang, retention_days=int(context.config.privacy.retention_days)
    )


async def forget(update: Update, context: BotContext) -> None:
    """/forget: ask before deleting."""
    lang = await user_language(update, context)
    texts = context.texts
    rows = [
        [
            (texts.label("forget_yes", lang), "forget:yes"),
            (texts.label("forget_no", lang), "forget:no"),
        ]
    ]
    await reply(update, context, "forget_confirm", lang, inline(rows, lang))


async def on_forget_button(update: Update, context: BotContext) -> None:
    """forget:yes|no."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    lang = await user_language(update, context)  # read before the profile is deleted
    await query.edit_message_reply_markup(None)
    if query.data != "forget:yes":
        await reply(update, context, "forget_kept", lang)
        return
    posts = await context.store.staff_posts_of(query.from_user.id)
    counts = await context.store.forget_user(query.from_user.id)
    await withdraw_staff_posts(context, posts)
    await reply(update, context, "forgotten", lang, counts=counts)


async def withdraw_staff_posts(context: BotContext, posts: list[tuple[int, int, int]]) -> None:
    """The staff chat's copies of deleted leads: replace them with a note, buttons removed."""
    staff_lang = context.config.telegram.staff_language
    for lead_id, chat_id, message_id in posts:
        text = context.texts.render("staff/forgotten", staff_lang, lead_id=lead_id)
        try:
            await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:  # deleted by staff already, bot removed from the chat...
            log.warning("could not withdraw the staff post of lead %s: %s", lead_id, exc)


def privacy_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("privacy", privacy, filters=private),
        CommandHandler("forget", forget, filters=private),
        CallbackQueryHandler(on_forget_button, pattern=r"^forget:(yes|no)$"),
    ]
