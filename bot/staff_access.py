"""Who counts as staff, and where staff commands and buttons may be used.

A staff member is listed in ``telegram.staff_user_ids`` or is an administrator of
the staff chat. The second needs a getChatMember call, so its answer is kept per
user for ``telegram.staff_admin_cache_seconds`` in a bounded cache. A call that
fails (Telegram error, timeout) means "not staff" and is not remembered, so the
next press asks again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Bot, ChatMember, Message, Update
from telegram.error import TelegramError
from telegram.ext import filters

from bot.config import TelegramConfig

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
# A check slower than this is treated as a failure: a staff member waits on it.
CHECK_TIMEOUT_SECONDS = 10.0


class StaffAccess:
    """The staff check, with getChatMember answers cached per user."""

    def __init__(self, max_users: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_users = max_users
        self.clock = clock
        self._admins: OrderedDict[int, tuple[bool, float]] = OrderedDict()

    async def is_staff(self, bot: Bot, telegram: TelegramConfig, user_id: int) -> bool:
        """Listed in the config, or an administrator of the staff chat."""
        if user_id in telegram.staff_user_ids:
            return True
        if telegram.staff_chat_id is None:
            return False
        now = self.clock()
        cached = self._admins.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                member = await bot.get_chat_member(telegram.staff_chat_id, user_id)
        except (TelegramError, TimeoutError) as exc:
            log.warning("staff check for a user failed: %s", type(exc).__name__)
            self._admins.pop(user_id, None)
            return False
        admin = member.status in ADMIN_STATUSES
        self._remember(user_id, admin, now + telegram.staff_admin_cache_seconds)
        return admin

    def _remember(self, user_id: int, admin: bool, until: float) -> None:
        self._admins[user_id] = (admin, until)
        self._admins.move_to_end(user_id)
        while len(self._admins) > self.max_users:
            self._admins.popitem(last=False)


class StaffChatFilter(filters.MessageFilter):
    """Messages in the staff chat, and only in its topic when one is configured."""

    def __init__(self, telegram: TelegramConfig) -> None:
        super().__init__(name="StaffChatFilter")
        self.chat_id = telegram.staff_chat_id
        self.topic_id = telegram.staff_topic_id

    def filter(self, message: Message) -> bool:
        if self.chat_id is None or message.chat.id != self.chat_id:
            return False
        return self.topic_id is None or message.message_thread_id == self.topic_id


def in_staff_chat(update: Update, telegram: TelegramConfig) -> bool:
    """Whether a button press is on a message in the staff chat."""
    query = update.callback_query
    message = query.message if query is not None else None
    return (
        message is not None
        and telegram.staff_chat_id is not None
        and message.chat.id == telegram.staff_chat_id
    )
