"""Talking to a person, the staff side: answers in a partner's topic or as replies to
their cards, the Close / Ban / Show lead buttons, and /close, /ban, /unban.

Audience as for the lead buttons (``StaffRoutes``): staff by user, and by chat. These
commands work in every topic of the staff chat (a partner's topic is where they are
used), and /ban ID and /unban ID in a staff member's private chat too.
"""

from __future__ import annotations

import functools

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot.callbacks import RelayButton
from bot.config import TelegramConfig
from bot.context import BotContext
from bot.db.models import RelayConversation
from bot.outbox import kick_delivery
from bot.views import display_name, staff_post
from handlers.relay import relay_payload
from handlers.staff import Callback, StaffHandler, StaffRoutes, send_lead_details, staff_answer


class RelayRoutes(StaffRoutes):
    """StaffRoutes for the relay: any topic of the staff chat, or a private chat."""

    def __init__(self, telegram: TelegramConfig) -> None:
        super().__init__(telegram)
        ids = [telegram.staff_chat_id] if telegram.staff_chat_id is not None else []
        self.staff_chat = filters.Chat(chat_id=ids)
        self.where = filters.UpdateType.MESSAGE & (self.staff_chat | filters.ChatType.PRIVATE)

    def messages(self, callback: Callback) -> StaffHandler:
        """Staff chat messages (and edits) that answer a partner; others pass untouched."""

        @functools.wraps(callback)
        async def for_staff(update: Update, context: BotContext) -> None:
            user = update.effective_user
            if user is not None and await self.access.is_staff(
                context.bot, context.config.telegram, user.id
            ):
                await callback(update, context)

        kinds = filters.UpdateType.MESSAGE | filters.UpdateType.EDITED_MESSAGE
        return MessageHandler(
            self.staff_chat & kinds & ~filters.COMMAND & ~filters.StatusUpdate.ALL, for_staff
        )


async def _target(message: Message, context: BotContext) -> RelayConversation | None:
    """The conversation a staff message is about: its topic, or the card it replies to."""
    thread = message.message_thread_id if message.is_topic_message else None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    return await context.store.staff_target(message.chat.id, thread, reply_to)


async def staff_message(update: Update, context: BotContext) -> None:
    """A staff answer in a partner's topic or to their card: queued to the partner."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    payload = relay_payload(message)
    if update.edited_message is not None:  # found by the copy it made, if any
        if payload is not None and await context.store.queue_edit_to_partner(
            message.chat.id, message.message_id, payload | {"signer": user.first_name}
        ):
            kick_delivery(context)
        return
    row = await _target(message, context)
    if row is None:
        return  # an ordinary staff-chat message
    if payload is None:
        await _answer(update, context, "cannot_send")
        return
    payload["signer"] = user.first_name
    now = context.services.clock()
    if await context.store.queue_to_partner(
        row.user_id, message.chat.id, message.message_id, payload, now
    ):
        kick_delivery(context)


async def on_relay_button(update: Update, context: BotContext) -> None:
    """relay:close|ban|lead:<user id> on a conversation's first message."""
    query = update.callback_query
    button = RelayButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    lang = context.config.telegram.staff_language
    texts, store = context.texts, context.store
    if button.action == "lead":
        lead = await store.latest_lead(button.user_id)
        if lead is None:
            await query.answer(texts.render("staff/relay/alert", lang, what="no_lead"), True)
            return
        await query.answer()
        text, markup = staff_post(texts, lead, lang)
        # Recorded, as /lead's copies are, so the partner's /forget withdraws it.
        await send_lead_details(update, context, lead.id, text, markup)
        return
    by = display_name(query.from_user)
    now = context.services.clock()
    if button.action == "ban":
        await store.ban(button.user_id, None, by)
        await store.close_conversation(button.user_id, "banned", by, None, now)
        what = "banned"
    elif await store.close_conversation(button.user_id, "closed_by", by, "closed", now):
        what = "closed"
    else:
        what = "already_closed"
    kick_delivery(context)
    await query.answer(texts.render("staff/relay/alert", lang, what=what), show_alert=True)


async def close_command(update: Update, context: BotContext) -> None:
    """/close in a partner's topic, or as a reply to their card."""
    assert update.effective_message is not None and update.effective_user is not None
    row = await _target(update.effective_message, context)
    if row is None:
        await _answer(update, context, "usage")
        return
    by = display_name(update.effective_user)
    now = context.services.clock()
    if await context.store.close_conversation(row.user_id, "closed_by", by, "closed", now):
        kick_delivery(context)  # the note in the topic or under the card confirms it
    else:
        await _answer(update, context, "already_closed")


async def ban_command(update: Update, context: BotContext) -> None:
    """/ban REASON in a topic or as a reply; /ban USER_ID REASON anywhere staff work."""
    user_id, reason = await _who(update, context)
    if user_id is None or not reason:
        await _answer(update, context, "usage")
        return
    assert update.effective_user is not None
    by = display_name(update.effective_user)
    await context.store.ban(user_id, reason[:300], by)
    now = context.services.clock()
    if await context.store.close_conversation(user_id, "banned", by, None, now):
        kick_delivery(context)
    await _answer(update, context, "banned", user_id=user_id)


async def unban_command(update: Update, context: BotContext) -> None:
    """/unban in a topic or as a reply, or /unban USER_ID."""
    user_id, _ = await _who(update, context)
    if user_id is None:
        await _answer(update, context, "usage")
        return
    lifted = await context.store.unban(user_id)
    await _answer(update, context, "unbanned" if lifted else "not_banned", user_id=user_id)


async def _who(update: Update, context: BotContext) -> tuple[int | None, str]:
    """The partner a /ban or /unban names (first argument) or is used on; the rest."""
    args = list(context.args or [])
    if args and args[0].isdigit():
        return int(args[0]), " ".join(args[1:])
    assert update.effective_message is not None
    if update.effective_message.chat.type == "private":
        return None, ""
    row = await _target(update.effective_message, context)
    return (row.user_id if row else None), " ".join(args)


async def _answer(update: Update, context: BotContext, what: str, **values: object) -> None:
    await staff_answer(update, context, "staff/relay/result", what=what, **values)


def relay_staff_handlers(telegram: TelegramConfig) -> list[StaffHandler]:
    staff = RelayRoutes(telegram)
    return [
        staff.button(RelayButton.pattern(), on_relay_button),
        staff.command("close", close_command),
        staff.command("ban", ban_command),
        staff.command("unban", unban_command),
        staff.messages(staff_message),
    ]
