"""Staff: buttons on lead posts and the /leads, /lead, /export, /stats commands."""

from __future__ import annotations

import csv
import io

from telegram import ChatMember, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.db.store import LEAD_STATUSES
from bot.views import display_name, send_text, staff_post
from handlers.common import reply, user_language

ACTION_STATUS = {"claim": "claimed", "contacted": "contacted", "not_fit": "not_fit"}
EXPORT_COLUMNS = (
    "id",
    "created_at",
    "status",
    "score",
    "qualified",
    "repeat_count",
    "organisation",
    "sector",
    "sector_detail",
    "country",
    "name",
    "role",
    "email",
    "phone",
    "interests",
    "message",
    "language",
    "source",
    "username",
    "handled_by",
    "handled_at",
)


async def is_staff(context: BotContext, user_id: int) -> bool:
    """Listed in the config, or an administrator of the staff chat."""
    if context.config.is_staff_user(user_id):
        return True
    chat_id = context.config.telegram.staff_chat_id
    if chat_id is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def on_lead_button(update: Update, context: BotContext) -> None:
    """lead:<action>:<id>: record who did what, and show it on the post."""
    query = update.callback_query
    assert query is not None and query.data is not None
    lang = context.config.telegram.staff_language
    if not await is_staff(context, query.from_user.id):
        await query.answer(context.texts.label("staff.not_allowed", lang), show_alert=True)
        return
    _, action, lead_id = query.data.split(":")
    lead = await context.store.set_status(
        int(lead_id), ACTION_STATUS[action], display_name(query.from_user)
    )
    if lead is None:
        await query.answer(context.texts.label("staff.unknown_lead", lang), show_alert=True)
        return
    await query.answer(context.texts.label("staff.updated", lang))
    text, markup = staff_post(context.texts, lead, lang)
    await query.edit_message_text(text, reply_markup=markup)


async def _staff_only(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    if user is not None and await is_staff(context, user.id):
        return True
    await reply(update, context, "staff/not_staff", await user_language(update, context))
    return False


async def leads_command(update: Update, context: BotContext) -> None:
    """/leads [status]: the most recent leads."""
    if not await _staff_only(update, context):
        return
    lang = context.config.telegram.staff_language
    status = context.args[0].lower() if context.args else None
    if status is not None and status not in LEAD_STATUSES:
        await reply(update, context, "staff/usage", lang, statuses=LEAD_STATUSES)
        return
    leads = await context.store.recent_leads(status, limit=20)
    await reply(update, context, "staff/leads", lang, leads=leads, status=status)


async def lead_command(update: Update, context: BotContext) -> None:
    """/lead ID: one lead in full, with its buttons."""
    if not await _staff_only(update, context):
        return
    lang = context.config.telegram.staff_language
    if not context.args or not context.args[0].lstrip("#").isdigit():
        await reply(update, context, "staff/usage", lang, statuses=LEAD_STATUSES)
        return
    lead = await context.store.lead(int(context.args[0].lstrip("#")))
    if lead is None:
        await reply(update, context, "staff/not_found", lang)
        return
    text, markup = staff_post(context.texts, lead, lang)
    assert update.effective_chat is not None
    await send_text(context.bot, update.effective_chat.id, text, markup)


async def export_command(update: Update, context: BotContext) -> None:
    """/export: every lead as CSV, UTF-8 with a BOM so spreadsheets show Arabic right."""
    if not await _staff_only(update, context):
        return
    leads = await context.store.all_leads()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for lead in leads:
        row = [getattr(lead, column) for column in EXPORT_COLUMNS]
        row[EXPORT_COLUMNS.index("interests")] = ";".join(lead.interests)
        writer.writerow(["" if value is None else value for value in row])
    now = context.services.clock()
    lang = context.config.telegram.staff_language
    caption = context.texts.render(
        "staff/export_caption", lang, count=len(leads), when=now.strftime("%Y-%m-%d %H:%M")
    )
    data = buffer.getvalue().encode("utf-8-sig")
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(data, filename=f"partnerbot-leads-{now:%Y%m%d-%H%M}.csv"),
        caption=caption,
    )


async def stats_command(update: Update, context: BotContext) -> None:
    """/stats: leads by status, sector, language and source; top unanswered questions."""
    if not await _staff_only(update, context):
        return
    stats = await context.store.stats()
    await reply(update, context, "staff/stats", context.config.telegram.staff_language, stats=stats)


def staff_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    return [
        CallbackQueryHandler(on_lead_button, pattern=r"^lead:(claim|contacted|not_fit):\d+$"),
        CommandHandler("leads", leads_command),
        CommandHandler("lead", lead_command),
        CommandHandler("export", export_command),
        CommandHandler("stats", stats_command),
    ]
