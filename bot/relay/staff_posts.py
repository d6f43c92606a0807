"""The relay's sends to the staff chat: a conversation's first message (in a topic of
its own in a forum), the partner's messages as copies or cards, edits and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import ReplyParameters
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.db.models import OutboxItem, RelayConversation, RelayMessage
from bot.normalize import Lang
from bot.relay import fits
from bot.relay.calls import Made, edit_copy, idle_hours, quietly
from bot.relay.views import card_line, head_post, partner_topic_name

if TYPE_CHECKING:
    from bot.context import Services


async def staff_is_forum(bot: ExtBot[None], services: Services, chat_id: int) -> bool:
    setting = services.config.relay.forum
    if isinstance(setting, bool):
        return setting
    if chat_id not in services.forum_chats:
        services.forum_chats[chat_id] = bool((await bot.get_chat(chat_id)).is_forum)
    return services.forum_chats[chat_id]


async def to_staff(
    bot: ExtBot[None], services: Services, item: OutboxItem, row: RelayConversation
) -> Made:
    config, texts = services.config, services.texts
    lang: Lang = config.telegram.staff_language
    chat_id = row.staff_chat_id or config.telegram.staff_chat_id
    assert chat_id is not None  # delivery waits for a staff chat
    payload = item.payload or {}
    if item.kind == "relay_head":
        return await _head(bot, services, row, chat_id)
    thread = row.topic_id or config.telegram.staff_topic_id
    if item.kind == "relay_note":
        text = texts.render(
            f"staff/relay/{payload['note']}",
            lang,
            by=payload.get("by"),
            row=row,
            hours=idle_hours(config),
        )
        sent = await bot.send_message(
            chat_id, text, message_thread_id=thread, reply_parameters=_under(row)
        )
        if row.topic_id is not None and row.status == "closed":
            await quietly(bot.close_forum_topic(chat_id, row.topic_id))
        return Made(_mapping(row.user_id, "note", 0, chat_id, sent.message_id, "note"))
    assert item.message_id is not None
    if item.kind == "relay_edit_in":
        copy = await services.store.copy_of("in", row.user_id, item.message_id)
        if copy is not None:
            header = card_line(texts, row, lang) if copy.form == "card" else None
            await edit_copy(bot, copy, payload, header)
        return Made()
    # relay_in: a copy in the partner's topic, or a card (who wrote it, then the message).
    header = None if row.topic_id else card_line(texts, row, lang)
    media = payload.get("kind") != "text"
    if header is not None and fits(header, payload.get("length", 0), media=media):
        body = "\n".join(filter(None, [header, payload.get("html")]))
        if media:
            new_id = (
                await bot.copy_message(
                    chat_id, row.user_id, item.message_id, caption=body, message_thread_id=thread
                )
            ).message_id
        else:
            new_id = (await bot.send_message(chat_id, body, message_thread_id=thread)).message_id
        form = "card"
    else:
        new_id = (
            await bot.copy_message(
                chat_id,
                row.user_id,
                item.message_id,
                message_thread_id=thread,
                reply_parameters=None if row.topic_id else _under(row),
            )
        ).message_id
        form = "copy"
    return Made(_mapping(row.user_id, "in", item.message_id, chat_id, new_id, form))


async def _head(
    bot: ExtBot[None], services: Services, row: RelayConversation, chat_id: int
) -> Made:
    """The conversation's first message: in a topic of its own (made or reopened) in a
    forum, else as a card in the staff chat."""
    store, texts = services.store, services.texts
    lang: Lang = services.config.telegram.staff_language
    lead = await store.latest_lead(row.user_id)
    reopened = row.head_message_id is not None
    topic = row.topic_id
    if await staff_is_forum(bot, services, chat_id):
        if topic is not None and not await _reopened(bot, chat_id, topic):
            topic = None  # staff deleted the topic: make a new one
        if topic is None:
            name = partner_topic_name(texts, row, lead, lang)
            topic = (await bot.create_forum_topic(chat_id, name)).message_thread_id
            if not await store.set_topic(row.user_id, chat_id, topic):
                return Made()  # forgotten meanwhile: the topic is queued for deletion
    thread = topic or services.config.telegram.staff_topic_id
    text, markup = head_post(texts, row, lead, lang, reopened=reopened, forum=topic is not None)
    sent = await bot.send_message(chat_id, text, reply_markup=markup, message_thread_id=thread)
    return Made(
        _mapping(row.user_id, "head", 0, chat_id, sent.message_id, "head"),
        {"head_message_id": sent.message_id, "staff_chat_id": chat_id, "topic_id": topic},
    )


async def _reopened(bot: ExtBot[None], chat_id: int, topic: int) -> bool:
    """Reopen a partner's topic; False when it no longer exists."""
    try:
        await bot.reopen_forum_topic(chat_id, topic)
    except BadRequest as exc:
        reason = str(exc).lower()
        if "not_modified" in reason or "not modified" in reason:
            return True  # open already
        if "thread" in reason or "topic_id_invalid" in reason or "not found" in reason:
            return False
        raise
    return True


def _under(row: RelayConversation) -> ReplyParameters | None:
    """In a plain group, notes and long copies answer the conversation's first message."""
    if row.topic_id is not None or row.head_message_id is None:
        return None
    return ReplyParameters(row.head_message_id, allow_sending_without_reply=True)


def _mapping(
    user_id: int, direction: str, source: int, chat_id: int, message_id: int, form: str
) -> RelayMessage:
    return RelayMessage(
        user_id=user_id,
        direction=direction,
        source_chat_id=user_id,
        source_message_id=source,
        copy_chat_id=chat_id,
        copy_message_id=message_id,
        form=form,
    )
