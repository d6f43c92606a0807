"""Small helpers shared by the handler modules: who is talking, in which language."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import filters

from bot.context import BotContext
from bot.normalize import Lang
from bot.user_text import clean_text
from bot.views import send_text

# A partner's new messages in a private chat. An edit is not answered again (a question
# answered twice, a form step taken twice); it still counts toward the rate limit.
PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def button_language(code: str) -> Lang | None:
    """The language carried in a button's callback data ("ar"/"en"), if any."""
    return "ar" if code == "ar" else "en" if code == "en" else None


def topic_of(update: Update) -> int | None:
    """The forum topic an update came from, so the answer goes to the same topic."""
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


def incoming_text(update: Update) -> str:
    """The message's text (or shared phone number), cleaned at the edge before anything
    stores it."""
    message = update.effective_message
    if message is None:
        return ""
    if message.contact is not None:
        return clean_text(message.contact.phone_number).strip()
    return clean_text(message.text or "").strip()


async def user_language(update: Update, context: BotContext) -> Lang:
    """The stored choice (/language), else the language the user last wrote in, else
    Telegram's app language, else the default."""
    user = update.effective_user
    if user is None:
        return context.config.bot.default_language
    state = await context.user_state(user.id)
    for stored in (state.language, state.written_language):
        if stored in ("ar", "en"):
            return "ar" if stored == "ar" else "en"
    code = (user.language_code or "").lower()
    if code.startswith("ar"):
        return "ar"
    if code.startswith("en"):
        return "en"
    return context.config.bot.default_language


async def reply(
    update: Update,
    context: BotContext,
    template: str,
    lang: Lang,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
    **values: object,
) -> None:
    """Render ``template`` in ``lang`` and send it to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    text = context.texts.render(template, lang, **values)
    await send_text(context.bot, chat.id, text, markup, message_thread_id=topic_of(update))
