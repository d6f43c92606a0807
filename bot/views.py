"""Telegram-facing views: keyboards, the staff post, and sending long texts.

Arabic readers scan a row of buttons from the right, so rows are reversed
for them. Callback data carries ids only (far below 64 bytes) and, for topic
buttons, the language they were shown in: a question asked in Arabic gets
Arabic buttons, and pressing one must answer in Arabic too.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram import User as TelegramUser
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.callbacks import FormButton, LeadAction, LeadButton, MenuButton, TalkButton, TopicButton
from bot.db.models import Lead
from bot.db.store import HISTORY_FIELDS, LEAD_STATUSES
from bot.knowledge import Entry, KnowledgeBase
from bot.normalize import Lang
from bot.texts import Texts, split_message

Rows = Sequence[Sequence[tuple[str, str]]]
STAFF_ACTIONS: tuple[LeadAction, ...] = ("claim", "contacted", "not_fit")
LANGS: tuple[Lang, ...] = ("en", "ar")
# The lead's form values (HISTORY_FIELDS) between its bookkeeping columns.
EXPORT_COLUMNS = (
    "id",
    "created_at",
    "status",
    "score",
    "qualified",
    "repeat_count",
    *HISTORY_FIELDS,
    "language",
    "source",
    "username",
    "handled_by",
    "handled_at",
)
# A cell starting with one of these is read as a formula by spreadsheets (OWASP "CSV
# Injection"), including the full-width forms some of them also accept.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


# Keyboards repeat: a few hundred layouts (an entry's topics, the menu, a form step, per
# language) serve every reply. A markup is immutable, so each layout is built, and turned
# into what goes on the wire, once; doing both for every reply was about 7% of a webhook
# worker's CPU (bench_bot's profile, 2026-12-06). Staff posts carry a lead's id and
# are rare: the bound keeps them from piling up.
KEYBOARD_CACHE_SIZE = 1024
# id of a shared markup -> (the markup, kept so that its id is not reused; its wire form)
_wire_forms: dict[int, tuple[InlineKeyboardMarkup, dict[str, object]]] = {}


def inline(rows: Rows, lang: Lang) -> InlineKeyboardMarkup:
    return _shared_markup(tuple(tuple(row) for row in rows), lang)


@lru_cache(maxsize=KEYBOARD_CACHE_SIZE)
def _shared_markup(
    rows: tuple[tuple[tuple[str, str], ...], ...], lang: Lang
) -> InlineKeyboardMarkup:
    ordered = [reversed(row) if lang == "ar" else row for row in rows]
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in ordered]
    )
    if len(_wire_forms) >= KEYBOARD_CACHE_SIZE:
        _wire_forms.clear()  # markups still in use are then serialised per send: safe
    _wire_forms[id(markup)] = (markup, markup.to_dict())
    return markup


def wire_form(markup: object) -> object:
    """What the Bot API receives for ``markup``: a shared keyboard's serialised form,
    made once; any other markup as it is (the request layer serialises it)."""
    kept = _wire_forms.get(id(markup))
    return kept[1] if kept is not None and kept[0] is markup else markup


def pairs(buttons: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Two buttons a row: short labels read best that way on a phone."""
    return [list(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


def topics_keyboard(kb: KnowledgeBase, texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    topics = [(entry.title[lang], TopicButton(lang, entry.id).pack()) for entry in kb.menu()]
    apply = (texts.label("apply", lang), FormButton("start", lang).pack())
    return inline([*pairs(topics), [apply, talk_button(texts, lang)]], lang)


def talk_button(texts: Texts, lang: Lang) -> tuple[str, str]:
    """ "Talk to our team": a conversation with a person (handlers.relay)."""
    return texts.label("talk", lang), TalkButton("open", lang).pack()


def entry_keyboard(
    kb: KnowledgeBase,
    texts: Texts,
    entry: Entry,
    lang: Lang,
    also: Sequence[str] = (),
    *,
    offer_form: bool = True,
) -> InlineKeyboardMarkup:
    """The answer's buttons: the other topics the message asked about first, then the
    entry's related topics, then the topics menu (and the form when the entry offers it,
    unless ``offer_form`` is False: the partner is filling it in)."""
    topics = [*also, *(r for r in entry.related if r not in also)]
    rows = pairs([(kb[t].title[lang], TopicButton(lang, t).pack()) for t in topics])
    last = [(texts.label("topics", lang), MenuButton(lang).pack())]
    if entry.offer_form and offer_form:
        last.insert(0, (texts.label("apply", lang), FormButton("start", lang).pack()))
    return inline([*rows, last], lang)


def choices_keyboard(
    kb: KnowledgeBase, texts: Texts, ids: Sequence[str], lang: Lang
) -> InlineKeyboardMarkup:
    rows = [[(kb[i].title[lang], TopicButton(lang, i).pack())] for i in ids]
    last = [(texts.label("topics", lang), MenuButton(lang).pack()), talk_button(texts, lang)]
    return inline([*rows, last], lang)


def fallback_keyboard(texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (texts.label("topics", lang), MenuButton(lang).pack()),
                (texts.label("apply", lang), FormButton("start", lang).pack()),
            ],
            [talk_button(texts, lang)],
        ],
        lang,
    )


def contact_keyboard(texts: Texts, lang: Lang) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(texts.label("share_contact", lang), request_contact=True)],
            [KeyboardButton(texts.label("skip", lang))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def staff_post(texts: Texts, lead: Lead, lang: Lang) -> tuple[str, InlineKeyboardMarkup]:
    interests = [texts.label(f"interest.{i}", lang) for i in lead.interests]
    text = texts.render("staff/lead", lang, lead=lead, interests=interests)
    buttons = [
        (texts.label(f"staff.{action}", lang), LeadButton(action, lead.id).pack())
        for action in STAFF_ACTIONS
    ]
    return text, inline([buttons], lang)


def lead_history(texts: Texts, lead: Lead, lang: Lang) -> str:
    """The values of a lead's earlier submissions, oldest first, for /lead ID."""
    return texts.render("staff/lead_history", lang, lead=lead)


def lead_status(texts: Texts, argument: str) -> str | None:
    """The status a /leads argument names: its key, or its name in either language."""
    wanted = " ".join(argument.split()).casefold()
    for status in LEAD_STATUSES:
        names = {texts.label(f"staff.status_arg.{status}", lang).casefold() for lang in LANGS}
        if wanted == status or wanted in names:
            return status
    return None


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def leads_csv(leads: Iterable[Lead]) -> bytes:
    """Every lead as CSV, UTF-8 with a BOM so spreadsheets show Arabic right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for lead in leads:
        row = [getattr(lead, column) for column in EXPORT_COLUMNS]
        row[EXPORT_COLUMNS.index("interests")] = ";".join(lead.interests)
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def display_name(user: TelegramUser) -> str:
    """Who pressed a staff button, as stored on the lead."""
    # The bare id, not "id 777": the stored name is shown to staff in either language.
    handle = f"@{user.username}" if user.username else str(user.id)
    return f"{user.full_name} ({handle})"


async def send_text(
    bot: ExtBot[None],
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
    message_thread_id: int | None = None,
) -> None:
    """Send ``text`` in as many messages as Telegram's limit needs; buttons go on the last.

    Through ``do_api_request`` rather than ``send_message``: nobody reads the message
    Telegram sends back, and making a ``Message`` of it cost 0.11 ms of CPU per reply, a
    twentieth of a webhook update's (bench_bot, 2026-12-06). The flood limiter sees the
    request as it sees any other. The bot's defaults are given here, as
    ``do_api_request`` does not add them.
    """
    for parameters in message_requests(bot, chat_id, text, markup, message_thread_id):
        await send_request(bot, parameters)


def message_requests(
    bot: ExtBot[None],
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
    message_thread_id: int | None = None,
) -> list[dict[str, object]]:
    """The sendMessage parameters of each message ``text`` takes; buttons on the last."""
    defaults = bot.defaults
    common: dict[str, object] = {"chat_id": chat_id}
    if defaults is not None:
        common["parse_mode"] = defaults.parse_mode
        common["link_preview_options"] = defaults.link_preview_options
    if message_thread_id is not None:
        common["message_thread_id"] = message_thread_id
    chunks = list(split_message(text))
    if not chunks:
        raise ValueError("an empty message: Telegram sends none")
    requests = [{**common, "text": chunk} for chunk in chunks]
    if markup is not None:
        requests[-1]["reply_markup"] = wire_form(markup)
    return requests


async def send_request(bot: ExtBot[None], parameters: dict[str, object]) -> int:
    """Send one of ``message_requests``; the id of the message Telegram made."""
    sent = await bot.do_api_request("sendMessage", api_kwargs=parameters)
    return int(sent["message_id"])


# send_text asks for sendMessage by name on purpose (see there), where PTB warns that a
# method for it exists.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)
