"""/privacy and /forget: the notice, and deleting everything stored about a user."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.callbacks import ForgetButton
from bot.context import BotContext
from bot.outbox import kick_delivery
from bot.views import inline
from handlers.common import PRIVATE_MESSAGE, reply, user_language


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
            (texts.label("forget_yes", lang), ForgetButton("yes").pack()),
            (texts.label("forget_no", lang), ForgetButton("no").pack()),
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
    button = ForgetButton.unpack(query.data)
    if button is None or button.choice != "yes":
        await reply(update, context, "forget_kept", lang)
        return
    # The staff chat's copies are withdrawn through the outbox, queued in the same
    # transaction as the deletion: a crash or a 429 cannot leave them behind.
    counts = await context.store.forget_user(query.from_user.id)
    kick_delivery(context)
    await reply(update, context, "forgotten", lang, counts=counts)


def privacy_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = PRIVATE_MESSAGE
    return [
        CommandHandler("privacy", privacy, filters=private),
        CommandHandler("forget", forget, filters=private),
        CallbackQueryHandler(on_forget_button, pattern=ForgetButton.pattern()),
    ]
