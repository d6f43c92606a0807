"""Staff: buttons on lead posts and the /leads, /lead, /export, /stats commands.

Who may use them, and where, is decided once, by ``StaffRoutes`` where they are
registered: the callbacks below only run for staff in the staff chat (or its topic)
or in a private chat, and buttons only act on messages in the staff chat.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from bot.callbacks import LeadButton
from bot.config import TelegramConfig
from bot.context import BotContext
from bot.db.store import LEAD_STATUSES
from bot.knowledge_reload import reload_knowledge
from bot.lead_copies import send_lead_copy
from bot.outbox import kick_delivery, withdraw_now
from bot.staff_access import StaffAccess, StaffChatFilter, in_staff_chat
from bot.views import display_name, lead_history, lead_status, leads_csv, send_text, staff_post
from handlers.common import reply, topic_of, user_language

Callback = Callable[[Update, BotContext], Awaitable[None]]
StaffHandler = BaseHandler[Update, BotContext, None]
ACTION_STATUS = {"claim": "claimed", "contacted": "contacted", "not_fit": "not_fit"}


class StaffRoutes:
    """Registers a staff command or button in one line, with its audience decided here."""

    def __init__(self, telegram: TelegramConfig) -> None:
        self.access = StaffAccess()
        # New messages only: editing an old "/export" must not run it again.
        self.where = filters.UpdateType.MESSAGE & (
            StaffChatFilter(telegram) | filters.ChatType.PRIVATE
        )

    def command(self, name: str, callback: Callback) -> StaffHandler:
        """/name for staff in the staff chat or a private chat; elsewhere it does not exist."""

        @functools.wraps(callback)
        async def for_staff(update: Update, context: BotContext) -> None:
            user = update.effective_user
            telegram = context.config.telegram
            if user is not None and await self.access.is_staff(context.bot, telegram, user.id):
                await callback(update, context)
            elif (
                update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
            ):
                await reply(
                    update, context, "staff/not_staff", await user_language(update, context)
                )
            else:
                label = context.texts.label("staff.not_allowed", telegram.staff_language)
                await _send(update, context, label)

        return CommandHandler(name, for_staff, filters=self.where)

    def button(self, pattern: re.Pattern[str], callback: Callback) -> StaffHandler:
        """A button that acts only on a message in the staff chat, pressed by staff."""

        @functools.wraps(callback)
        async def for_staff(update: Update, context: BotContext) -> None:
            query = update.callback_query
            assert query is not None
            telegram = context.config.telegram
            if in_staff_chat(update, telegram) and await self.access.is_staff(
                context.bot, telegram, query.from_user.id
            ):
                await callback(update, context)
                return
            label = context.texts.label("staff.not_allowed", telegram.staff_language)
            await query.answer(label, show_alert=True)

        return CallbackQueryHandler(for_staff, pattern=pattern)


async def on_lead_button(update: Update, context: BotContext) -> None:
    """lead:<action>:<id>: record who did what, and show it on the post."""
    query = update.callback_query
    button = LeadButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    lang = context.config.telegram.staff_language
    lead = await context.store.set_status(
        button.lead_id, ACTION_STATUS[button.action], display_name(query.from_user)
    )
    if lead is None:
        await query.answer(context.texts.label("staff.unknown_lead", lang), show_alert=True)
        return
    await query.answer(context.texts.label("staff.updated", lang))
    text, markup = staff_post(context.texts, lead, lang)
    await query.edit_message_text(text, reply_markup=markup)
    if await context.store.lead(lead.id) is None and query.message is not None:
        # The partner's /forget (or retention) came while the edit was on its way, and its
        # withdrawal may have landed first: the edit must not bring the details back.
        message = query.message
        await withdraw_now(
            context.bot,
            context.services,
            message.chat.id,
            message.message_id,
            lead.id,
            False,
            context.services.clock(),
        )


async def leads_command(update: Update, context: BotContext) -> None:
    """/leads [status]: the most recent leads."""
    status = lead_status(context.texts, " ".join(context.args)) if context.args else None
    if context.args and status is None:
        await staff_answer(update, context, "staff/usage", statuses=LEAD_STATUSES)
        return
    leads = await context.store.recent_leads(status, limit=20)
    await staff_answer(update, context, "staff/leads", leads=leads, status=status)


async def lead_command(update: Update, context: BotContext) -> None:
    """/lead ID: one lead in full (with its buttons in the staff chat), then its history."""
    lang = context.config.telegram.staff_language
    if not context.args or not context.args[0].lstrip("#").isdigit():
        await staff_answer(update, context, "staff/usage", statuses=LEAD_STATUSES)
        return
    lead = await context.store.lead(int(context.args[0].lstrip("#")))
    if lead is None:
        await staff_answer(update, context, "staff/not_found")
        return
    text, markup = staff_post(context.texts, lead, lang)
    # Buttons act only in the staff chat, so a private copy shows none.
    staff_chat = update.effective_chat is not None and (
        update.effective_chat.id == context.config.telegram.staff_chat_id
    )
    # Each message is recorded, so the partner's /forget (or retention) withdraws it.
    shown = await send_lead_details(update, context, lead.id, text, markup if staff_chat else None)
    if shown and lead.history:
        await send_lead_details(update, context, lead.id, lead_history(context.texts, lead, lang))


async def export_command(update: Update, context: BotContext) -> None:
    """/export: every lead as CSV, safe to open in a spreadsheet."""
    leads = await context.store.all_leads()
    now = context.services.clock()
    lang = context.config.telegram.staff_language
    caption = context.texts.render(
        "staff/export_caption", lang, count=len(leads), when=now.strftime("%Y-%m-%d %H:%M")
    )
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(leads_csv(leads), filename=f"partnerbot-leads-{now:%Y%m%d-%H%M}.csv"),
        caption=caption,
        message_thread_id=topic_of(update),
    )


async def stats_command(update: Update, context: BotContext) -> None:
    """/stats: leads by status, sector, language and source; top unanswered questions;
    what waits for the staff chat and what is stuck."""
    lang = context.config.telegram.staff_language
    stats = context.texts.render("staff/stats", lang, stats=await context.store.stats())
    health = await context.store.delivery_health(context.services.clock())
    delivery = context.texts.render("staff/delivery", lang, health=health)
    bans = context.texts.render("staff/relay/bans", lang, bans=await context.store.bans())
    await _send(update, context, f"{stats}\n\n{delivery}\n\n{bans}")


async def retry_command(update: Update, context: BotContext) -> None:
    """/retry [item id]: requeue one stuck delivery, or all of them, and deliver at once."""
    args = context.args or []
    item = args[0].lstrip("#") if args else None
    if len(args) > 1 or (item is not None and not item.isdigit()):
        await staff_answer(update, context, "staff/retry_usage")
        return
    item_id = int(item) if item is not None else None
    count = await context.store.retry_stuck(item_id)
    if count:
        kick_delivery(context)
    await staff_answer(update, context, "staff/retried", count=count, item_id=item_id)


async def reload_command(update: Update, context: BotContext) -> None:
    """/reload: load the knowledge base again (every worker follows); say what is wrong
    with it if it was refused."""
    outcome = await reload_knowledge(context.services)
    await staff_answer(update, context, "staff/reload", outcome=outcome)


async def _send(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send to the chat (and topic) the update came from."""
    assert update.effective_chat is not None
    await send_text(
        context.bot,
        update.effective_chat.id,
        text,
        markup,
        message_thread_id=topic_of(update),
    )


async def send_lead_details(
    update: Update,
    context: BotContext,
    lead_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Send a lead's details to the chat (and topic) asked from; False if the lead is gone."""
    assert update.effective_chat is not None
    return await send_lead_copy(
        context.bot,
        context.services,
        update.effective_chat.id,
        lead_id,
        text,
        markup,
        message_thread_id=topic_of(update),
    )


async def staff_answer(
    update: Update, context: BotContext, template: str, **values: object
) -> None:
    """Render a staff template in the staff language, in the chat (and topic) asked from."""
    lang = context.config.telegram.staff_language
    await _send(update, context, context.texts.render(template, lang, **values))


def staff_handlers(telegram: TelegramConfig) -> list[StaffHandler]:
    staff = StaffRoutes(telegram)
    return [
        staff.button(LeadButton.pattern(), on_lead_button),
        staff.command("leads", leads_command),
        staff.command("lead", lead_command),
        staff.command("export", export_command),
        staff.command("stats", stats_command),
        staff.command("retry", retry_command),
        staff.command("reload", reload_command),
    ]
