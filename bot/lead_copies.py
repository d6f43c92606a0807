"""The copies of a lead staff ask for with /lead: recorded as they are sent, so that
/forget and retention take them back as they take back the lead's staff post.

Each message is recorded before it is sent and given its id once Telegram accepts it. If
the lead was deleted meanwhile, the deletion could not see the id, so the message is
withdrawn here at once (queued durably first). A send that ends without an outcome (a
timeout, a dropped connection, a crash) leaves its record without an id: the copy may show
in a message the bot never learns, and deleting the lead asks staff to check for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.bot_api_request import may_have_landed
from bot.outbox import withdraw_now
from bot.views import message_requests, send_request

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
    False if the lead is gone (nothing more is sent, and what was is being withdrawn)."""
    store = services.store
    for parameters in message_requests(bot, chat_id, text, markup, message_thread_id):
        copy_id = await store.begin_copy(lead_id, chat_id)
        if copy_id is None:
            return False
        try:
            message_id = await send_request(bot, parameters)
        except TelegramError as exc:
            if not may_have_landed(exc):
                await store.drop_copy(copy_id)  # Telegram refused it: nothing shows
            raise
        if not await store.finish_copy(copy_id, lead_id, message_id):
            await withdraw_now(bot, services, chat_id, message_id, lead_id, False, services.clock())
            return False
    return True
