"""What the relay's sends share: what a send made, and edits, closes and deletes that
may find their work already done."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.config import Config
from bot.db.models import RelayMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Made:
    """What a send made: a copy to map, values to record on the conversation."""

    copy: RelayMessage | None = None
    conversation: dict[str, Any] | None = None


async def edit_copy(
    bot: ExtBot[None],
    copy: RelayMessage,
    payload: dict[str, Any],
    header: str | None,
    signature: str | None = None,
) -> None:
    """Edit a copy to the source's new text or caption, keeping its header or signature."""
    body = payload.get("html", "")
    if header is not None:
        body = f"{header}\n{body}"
    if signature is not None:
        body = f"{body}\n\n{signature}"
    chat, message = copy.copy_chat_id, copy.copy_message_id
    if payload.get("kind") == "text":
        await quietly(bot.edit_message_text(body, chat_id=chat, message_id=message))
    else:
        await quietly(bot.edit_message_caption(chat_id=chat, message_id=message, caption=body))


def idle_hours(config: Config) -> int:
    return max(round(config.relay.idle_close_hours), 1)


async def quietly(call: Any) -> None:
    """An edit, close or delete that may find its work done already (or the message gone)."""
    try:
        await call
    except BadRequest as exc:
        log.info("relay: %s ignored", type(exc).__name__)
