"""Talking to a person, the partner's side: /contact, "Talk to our team", "Back to the
assistant", and the gate that sends an open conversation's messages to staff.

The gate sees every private update before the form and the matcher: a banned partner's
updates stop there unanswered (except /forget and /privacy), and while a conversation
is open their messages and edits go to staff through the outbox, not to the matcher.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    TypeHandler,
    filters,
)

from bot.callbacks import ForgetButton, FormButton, TalkButton
from bot.context import BotContext
from bot.outbox import kick_delivery
from bot.relay import kind_of, telegram_length
from bot.relay.views import back_keyboard, open_keyboard
from bot.user_text import clean_text
from handlers.common import PRIVATE_MESSAGE, reply, user_language

# What a banned partner may still do: read the privacy notice and delete their data.
PRIVACY_COMMANDS = ("/forget", "/privacy")
# Commands that leave the conversation: the form needs the partner's typed answers.
LEAVING_COMMANDS = ("/apply",)


def relay_payload(message: Message) -> dict[str, Any] | None:
    """What the outbox needs to copy ``message`` (its text as HTML for cards and edits);
    None for kinds that are not relayed."""
    kind = kind_of(
        {
            "text": message.text is not None,
            "photo": bool(message.photo),
            "document": message.document is not None,
            "voice": message.voice is not None,
        }
    )
    if kind is None:
        return None
    if kind == "text":
        raw, html = message.text or "", message.text_html
    else:
        raw, html = message.caption or "", message.caption_html if message.caption else ""
    return {"kind": kind, "html": clean_text(html), "length": telegram_length(raw)}


def _command(message: Message | None) -> str | None:
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text.split()[0].split("@")[0].lower()


def _privacy(update: Update) -> bool:
    query = update.callback_query
    if query is not None:
        return ForgetButton.unpack(query.data) is not None
    return _command(update.message) in PRIVACY_COMMANDS


async def gate(update: Update, context: BotContext) -> None:
    """Every private update: drop a banned partner's; relay an open conversation's."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    state = await context.user_state(user.id)
    if state.banned and not _privacy(update):
        if update.callback_query is not None:
            await update.callback_query.answer()  # stop the spinner, say nothing
        raise ApplicationHandlerStop
    if not state.relay_open:
        return
    query = update.callback_query
    if query is not None:
        button = FormButton.unpack(query.data)
        if button is not None and button.action == "start":
            await _leave(update, context)
        return
    message = update.message or update.edited_message
    if message is None or filters.StatusUpdate.ALL.check_update(update):
        return
    command = _command(message)
    if command is not None:
        if command in LEAVING_COMMANDS:
            await _leave(update, context)
        return
    payload = relay_payload(message)
    now = context.services.clock()
    if update.edited_message is not None:
        if payload is not None and await context.store.queue_edit_to_staff(
            user.id, message.message_id, payload
        ):
            kick_delivery(context)
    elif payload is None:
        await reply(update, context, "relay/cannot_send", await user_language(update, context))
    elif await context.store.queue_to_staff(user.id, message.message_id, payload, now):
        kick_delivery(context)
    raise ApplicationHandlerStop


async def _leave(update: Update, context: BotContext) -> None:
    assert update.effective_user is not None
    now = context.services.clock()
    if await context.store.close_conversation(
        update.effective_user.id, "partner_left", None, None, now
    ):
        kick_delivery(context)


async def contact(update: Update, context: BotContext) -> None:
    """/contact or "Talk to our team": open a conversation with a person."""
    user = update.effective_user
    assert user is not None
    query = update.callback_query
    button = TalkButton.unpack(query.data) if query else None
    if query is not None:
        await query.answer()
    lang = button.lang if button else await user_language(update, context)
    name = clean_text(user.full_name)[:200]
    opened = await context.store.open_conversation(
        user.id, lang, name, user.username, context.services.clock()
    )
    if opened:
        kick_delivery(context)
    hours = context.config.relay.reply_time_hours
    markup = open_keyboard(context.texts, lang)
    await reply(update, context, "relay/opened", lang, markup, hours=hours, again=not opened)


async def back(update: Update, context: BotContext) -> None:
    """ "Back to the assistant": close the conversation; questions are answered again."""
    query = update.callback_query
    button = TalkButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    await query.answer()
    await _leave(update, context)
    await reply(
        update, context, "relay/back", button.lang, back_keyboard(context.texts, button.lang)
    )


def relay_gate() -> BaseHandler[Update, BotContext, None]:
    return TypeHandler(Update, gate)


async def on_talk_button(update: Update, context: BotContext) -> None:
    """talk:open|back:<lang>."""
    query = update.callback_query
    button = TalkButton.unpack(query.data if query else None)
    assert button is not None  # the handler's pattern says so
    await (contact if button.action == "open" else back)(update, context)


def relay_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CommandHandler("contact", contact, filters=PRIVATE_MESSAGE),
        CallbackQueryHandler(on_talk_button, pattern=TalkButton.pattern()),
    ]
