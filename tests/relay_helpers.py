"""Steps shared by the relay tests: a partner writes, staff answer, what each side sees."""

from __future__ import annotations

from typing import Any

from bot.db.models import OutboxItem
from bot.local_api import ApiCall, LocalUser
from bot.texts import Texts
from tests.conftest import STAFF_CHAT, Harness

TEXTS = Texts()
SENDS = ("sendMessage", "copyMessage")


async def partner_writes(bot: Harness, user: LocalUser, text: str) -> int:
    """A text from the partner; returns its message id."""
    update = bot.updates.text(user, text)
    await bot.send_update(update)
    assert update.message is not None
    return update.message.message_id


async def deliver_all(bot: Harness, passes: int = 10) -> None:
    """Delivery passes until nothing is due (the JobQueue's polling, compressed)."""
    for _ in range(passes):
        if not await bot.deliver():
            return


def staff_sends(bot: Harness) -> list[ApiCall]:
    return [
        c for c in bot.api.calls if c.method in SENDS and int(c.params["chat_id"]) == STAFF_CHAT
    ]


def partner_sends(bot: Harness, user: LocalUser) -> list[ApiCall]:
    return [c for c in bot.api.calls if c.method in SENDS and int(c.params["chat_id"]) == user.id]


def newest_staff_message(bot: Harness) -> dict[str, Any]:
    """The bot's newest message in the staff chat, as Telegram would show it in a reply."""
    key = max(k for k in bot.api.messages if k[0] == STAFF_CHAT)
    return bot.api.messages[key]


async def staff_replies(
    bot: Harness, staff: LocalUser, to: dict[str, Any], **fields: Any
) -> list[ApiCall]:
    """A staff member answers with Telegram's reply to ``to`` (a card in the staff chat)."""
    fields.setdefault("text", "Happy to meet on Tuesday.")
    if fields["text"].startswith("/"):
        length = len(fields["text"].split()[0])
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    update = bot.updates.message(staff, STAFF_CHAT, reply_to_message=to, **fields)
    return await bot.send_update(update)


async def relay_rows(bot: Harness) -> list[OutboxItem]:
    return [i for i in await bot.store.outbox() if i.kind.startswith("relay")]


def card(name: str, text: str, username: str | None = None, lang: str = "en") -> str:
    handle = f" · @{username}" if username else ""
    line = f"💬 <b>{name}</b>{handle}:"
    if lang == "ar":
        line = (
            "\u200f"
            + f"💬 <b>\u2068{name}\u2069</b>"
            + (f" · \u2068@{username}\u2069" if username else "")
            + ":"
        )
    return f"{line}\n{text}"
