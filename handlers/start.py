"""Greeting, help, the topics menu and the language switch."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import LanguageButton, MenuButton
from bot.context import BotContext
from bot.views import inline, topics_keyboard
from handlers.common import PRIVATE_MESSAGE, reply, user_language
from handlers.form_flow import offer_resume

# Deep-link payloads are campaign names; Telegram allows [A-Za-z0-9_-], up to 64.
SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def start(update: Update, context: BotContext) -> None:
    """/start [source]: greet in the user's language and show the topics."""
    user = update.effective_user
    assert user is not None
    if context.args and SOURCE.match(context.args[0]):
        await context.store.update_profile(user.id, source=context.args[0])
    lang = await user_language(update, context)
    await reply(
        update,
        context,
        "start",
        lang,
        topics_keyboard(context.kb, context.texts, lang),
        name=user.first_name,
    )
    await offer_resume(update, context, lang)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what the bot does and its commands."""
    await reply(update, context, "help", await user_language(update, context))


async def topics(update: Update, context: BotContext) -> None:
    """/topics or the Topics button: the menu of knowledge-base entries."""
    query = update.callback_query
    if query:
        await query.answer()
    button = MenuButton.unpack(query.data) if query else None
    lang = button.lang if button else await user_language(update, context)
    await reply(update, context, "topics", lang, topics_keyboard(context.kb, context.texts, lang))


async def language(update: Update, context: BotContext) -> None:
    """/language: offer both languages."""
    lang = await user_language(update, context)
    rows = [
        [
            (context.texts.label("lang_ar", lang), LanguageButton("ar").pack()),
            (context.texts.label("lang_en", lang), LanguageButton("en").pack()),
        ]
    ]
    await reply(update, context, "language_choose", lang, inline(rows, lang))


async def set_language(update: Update, context: BotContext) -> None:
    """lang:xx button: remember the choice in the database."""
    query = update.callback_query
    button = LanguageButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    await query.answer()
    lang = button.lang
    await context.store.update_profile(query.from_user.id, language=lang)
    await reply(
        update, context, "language_set", lang, topics_keyboard(context.kb, context.texts, lang)
    )


def start_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = PRIVATE_MESSAGE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", help_command, filters=private),
        CommandHandler("topics", topics, filters=private),
        CommandHandler("language", language, filters=private),
        CallbackQueryHandler(topics, pattern=MenuButton.pattern()),
        CallbackQueryHandler(set_language, pattern=LanguageButton.pattern()),
    ]
