"""Free-text questions: a direct answer, "did you mean" choices, or an honest fallback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.callbacks import TopicButton
from bot.context import BotContext
from bot.normalize import detect_language
from handlers.answering import (
    MATCH_INPUT_LIMIT,
    answer_question,
    reply_language,
    send_entry,
    send_fallback,
    wants_to_apply,
)
from handlers.common import PRIVATE_MESSAGE, incoming_text, reply, user_language
from handlers.form_flow import start_form


async def question(update: Update, context: BotContext) -> None:
    """Any text that is not a command and not part of a form."""
    text = incoming_text(update)
    if wants_to_apply(context, text[:MATCH_INPUT_LIMIT]):
        await start_form(
            update, context, await reply_language(update, context, text, detect_language(text))
        )
        return
    await answer_question(update, context, text)


async def show_entry(update: Update, context: BotContext) -> None:
    """kb:<lang>:<id> button: show that entry in the language of the button."""
    query = update.callback_query
    button = TopicButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    await query.answer()
    if button.entry_id in context.kb:
        await send_entry(update, context, context.kb[button.entry_id], button.lang)
    else:  # a button from an older knowledge base
        await send_fallback(update, context, button.lang, victim_hint=False)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes and the like."""
    await reply(update, context, "not_text", await user_language(update, context))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command no handler above took (/foo): one line pointing to /help."""
    await reply(update, context, "unknown_command", await user_language(update, context))


def question_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = PRIVATE_MESSAGE
    return [
        CallbackQueryHandler(show_entry, pattern=TopicButton.pattern()),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, question),
        MessageHandler(
            private & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, not_text
        ),
        # Registered last among the commands of bot.app: only what nothing else claimed.
        MessageHandler(private & filters.COMMAND, unknown_command),
    ]
