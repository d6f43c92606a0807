"""What the relay shows: the partner's buttons, the header staff see first, card lines."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.callbacks import MenuButton, RelayAction, RelayButton, TalkButton
from bot.db.models import Lead, RelayConversation
from bot.normalize import Lang
from bot.relay import topic_name
from bot.texts import Texts
from bot.views import inline, talk_button

HEAD_ACTIONS: tuple[RelayAction, ...] = ("close", "ban", "lead")


def talk_keyboard(texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    """ "Talk to our team", alone (after a confirmed lead, after a closed conversation)."""
    return inline([[talk_button(texts, lang)]], lang)


def open_keyboard(texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    """While talking to a person: the way back to the assistant."""
    return inline([[(texts.label("talk_back", lang), TalkButton("back", lang).pack())]], lang)


def back_keyboard(texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    """Back with the assistant: the topics, or a person again."""
    topics = (texts.label("topics", lang), MenuButton(lang).pack())
    return inline([[topics, talk_button(texts, lang)]], lang)


def head_post(
    texts: Texts,
    row: RelayConversation,
    lead: Lead | None,
    lang: Lang,
    *,
    reopened: bool,
    forum: bool,
) -> tuple[str, InlineKeyboardMarkup]:
    """The first message staff see of a conversation, with Close, Ban, Show lead."""
    text = texts.render(
        "staff/relay/head", lang, row=row, lead=lead, reopened=reopened, forum=forum
    )
    buttons = [
        (texts.label(f"relay.{action}", lang), RelayButton(action, row.user_id).pack())
        for action in HEAD_ACTIONS
    ]
    return text, inline([buttons], lang)


def partner_topic_name(texts: Texts, row: RelayConversation, lead: Lead | None, lang: Lang) -> str:
    flag = texts.label(f"relay.flag.{row.language}", lang)
    return topic_name(row.name, lead.organisation if lead else None, flag)


def card_line(texts: Texts, row: RelayConversation, lang: Lang) -> str:
    """The line above a relayed message in a plain staff group: who wrote it."""
    return texts.render("staff/relay/card", lang, row=row)
