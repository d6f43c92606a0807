"""The relay's sends to the partner: staff answers (copied, or signed), their edits, and
the notices of a conversation closed by staff or for inactivity."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram.ext import ExtBot

from bot.db.models import OutboxItem, RelayConversation, RelayMessage
from bot.normalize import Lang
from bot.relay import fits
from bot.relay.calls import Made, edit_copy, idle_hours
from bot.relay.views import talk_keyboard

if TYPE_CHECKING:
    from bot.context import Services


async def to_partner(
    bot: ExtBot[None], services: Services, item: OutboxItem, row: RelayConversation
) -> Made:
    texts, relay = services.texts, services.config.relay
    lang: Lang = "ar" if row.language == "ar" else "en"
    payload = item.payload or {}
    if item.kind == "relay_tell":
        text = texts.render(f"relay/{payload['template']}", lang, hours=idle_hours(services.config))
        await bot.send_message(row.user_id, text, reply_markup=talk_keyboard(texts, lang))
        return Made()
    assert item.chat_id is not None and item.message_id is not None
    signer = payload.get("signer") if relay.sign_replies else None
    signature = texts.render("relay/signature", lang, name=signer) if signer else None
    if item.kind == "relay_edit_out":
        copy = await services.store.copy_of("out", item.chat_id, item.message_id)
        if copy is not None:
            await edit_copy(bot, copy, payload, None, signature if copy.form == "signed" else None)
        return Made()
    media = payload.get("kind") != "text"
    if signature is not None and fits(signature, payload.get("length", 0), media=media):
        body = f"{payload.get('html', '')}\n\n{signature}"
        if media:
            new_id = (
                await bot.copy_message(row.user_id, item.chat_id, item.message_id, caption=body)
            ).message_id
        else:
            new_id = (await bot.send_message(row.user_id, body)).message_id
        form = "signed"
    else:
        new_id = (await bot.copy_message(row.user_id, item.chat_id, item.message_id)).message_id
        form = "copy"
    copy = RelayMessage(
        user_id=row.user_id,
        direction="out",
        source_chat_id=item.chat_id,
        source_message_id=item.message_id,
        copy_chat_id=row.user_id,
        copy_message_id=new_id,
        form=form,
    )
    return Made(copy)
