"""The copies of a lead staff ask for with /lead: recorded as they are sent, so that
/forget and retention take them back as they take back the lead's staff post.

A copy is recorded right after Telegram accepts it. If its lead was deleted meanwhile,
the deletion could not see it, so it is withdrawn here at once (queued durably first).
As for staff posts, a process that crashes between Telegram accepting a copy and
recording it never learns that copy's id.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.outbox import withdraw_now
from bot.views import sent_messages

if TYPE_CHECKING:
    from bot.context import Services


async def send_lead_copy(
    bot: ExtBot[None],
    services: Services,
    chat_id: int,
    lead_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    message_thread_id: int | None = None,
) -> bool:
    """Send ``text``, which shows lead ``lead_id``'s details, and record each message;
    False if the lead is gone (what was sent is being withdrawn)."""
    messages = sent_messages(bot, chat_id, text, markup, message_thread_id)
    async with aclosing(messages):
        async for message_id in messages:
            if not await services.store.record_copy(lead_id, chat_id, message_id):
                now = services.clock()
                await withdraw_now(bot, services, chat_id, message_id, lead_id, False, now)
                return False
    return True
