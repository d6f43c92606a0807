"""Questions through the real Application: greeting, menu, answers, fallback, odd input."""

from __future__ import annotations

import json

import pytest
from telegram.ext import ExtBot

from bot.local_api import LocalUser
from bot.texts import RLM, Texts
from bot.views import send_text
from tests.conftest import Harness

TEXTS = Texts()


async def test_start_greets_in_english_with_topics_menu(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/start")
    text = bot.last_text(english_user.id)
    assert text.startswith("Hello Sam!")
    labels = [label for row in bot.last_buttons(english_user.id) for label, _ in row]
    assert "Information sharing" in labels
    assert "🤝 Become a partner" in labels


async def test_start_greets_in_arabic_and_orders_buttons_right_to_left(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/start")
    text = bot.last_text(arabic_user.id)
    assert text.startswith(RLM + "مرحبًا سارة")
    assert all(line.startswith(RLM) for line in text.split("\n") if line.strip())
    rows = bot.last_buttons(arabic_user.id)
    menu = [e for e in bot.services.kb.menu()]
    first_row = rows[0]
    # The first topic sits at the right end of the row for a right-to-left reader.
    assert first_row[-1] == (menu[0].title["ar"], f"kb:ar:{menu[0].id}")
    assert all(len(data.encode()) <= 64 for row in rows for _, data in row)


async def test_english_question_gets_the_entry_with_related_buttons(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "how can we share threat data with interpol?")
    entry = bot.services.kb["information-sharing"]
    text = bot.last_text(english_user.id)
    assert text.startswith(f"<b>{entry.title['en']}</b>")
    data = [d for row in bot.last_buttons(english_user.id) for _, d in row]
    assert [f"kb:en:{r}" for r in entry.related] == [d for d in data if d.startswith("kb:")]
    assert "form:start:en" in data  # offer_form entries end with "Become a partner"


async def test_a_reply_goes_out_as_html_without_link_previews(
    bot: Harness, english_user: LocalUser
) -> None:
    """Replies are sent by name (bot/views.py send_text), so the bot's defaults must be
    given there: without HTML the title's <b> would show, and a link would unfold."""
    await bot.send(english_user, "how can we share threat data with interpol?")
    [call] = [
        c
        for c in bot.api.calls
        if c.method == "sendMessage" and int(c.params["chat_id"]) == english_user.id
    ][-1:]
    assert call.params["parse_mode"] == "HTML"
    preview = call.params["link_preview_options"]
    preview = json.loads(preview) if isinstance(preview, str) else preview
    assert preview == {"is_disabled": True}


async def test_keyboards_are_shared_but_each_reply_gets_its_own_language_and_order(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyboards are built once and shared (bot/views.py): the same layout in the other
    language must still come out in that language and right-to-left, and a layout whose
    wire form was dropped from the cache must still go out whole."""
    from bot import views

    question = "how can we share threat data with interpol?"
    await bot.send(english_user, question)
    first = bot.last_buttons(english_user.id)
    await bot.send(arabic_user, "كيف نشارك بيانات التهديدات مع الإنتربول؟")
    arabic = bot.last_buttons(arabic_user.id)
    assert arabic and all(
        data.split(":")[1] == "ar" for row in arabic for _, data in row if data.startswith("kb:")
    )
    entry = bot.services.kb["information-sharing"]
    # The first related topic sits at the right end of its row for an Arabic reader.
    assert arabic[0][-1] == (
        bot.services.kb[entry.related[0]].title["ar"],
        f"kb:ar:{entry.related[0]}",
    )
    monkeypatch.setattr(views, "_wire_forms", {})  # as after the cache was cleared
    await bot.send(english_user, question)
    assert bot.last_buttons(english_user.id) == first
    await bot.send(english_user, question)
    assert bot.last_buttons(english_user.id) == first


async def test_question_is_answered_in_the_language_it_is_written_in(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "ما هي خيارات الشراكة؟")
    entry = bot.services.kb["partnership-options"]
    assert bot.last_text(english_user.id).startswith(RLM + f"<b>{entry.title['ar']}</b>")


async def test_out_of_scope_question_gets_the_honest_fallback_and_is_stored(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "who won the champions league")
    text = bot.last_text(english_user.id)
    assert text == TEXTS.render("fallback", "en", victim_hint=False)
    assert "/apply" in text and "only answer" not in text
    data = [d for row in bot.last_buttons(english_user.id) for _, d in row]
    assert data == ["menu:en", "form:start:en", "talk:open:en"]
    assert await bot.store.top_unanswered() == [("who won the champions league", 1)]


async def test_topic_button_shows_entry_and_answers_callback(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/topics")
    calls = await bot.press(english_user, "kb:en:expert-secondment")
    assert calls[0].method == "answerCallbackQuery"
    assert bot.last_text(english_user.id).startswith(
        "<b>" + bot.services.kb["expert-secondment"].title["en"]
    )


async def test_language_switch_is_remembered_in_the_database(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/language")
    await bot.press(english_user, "lang:ar")
    assert "بالعربية" in bot.last_text(english_user.id)
    profile = await bot.store.profile(english_user.id)
    assert profile is not None and profile.language == "ar"
    await bot.send(english_user, "/help")
    assert bot.last_text(english_user.id) == TEXTS.render("help", "ar")


@pytest.mark.parametrize(
    "text",
    [
        "😀😀😀",
        "x" * 4096,
        "<script>alert(1)</script>",
        "'; DROP TABLE leads; --",
        "شراكة partnership مع interpol?",
        "\u200f\u200e",
    ],
)
async def test_odd_text_gets_a_sensible_reply(
    bot: Harness, english_user: LocalUser, text: str
) -> None:
    calls = await bot.send(english_user, text)
    sent = [c for c in calls if c.method == "sendMessage"]
    assert sent, "the bot must always reply"
    assert all(len(c.params["text"]) <= 4096 for c in sent)
    assert not any("went wrong" in c.params["text"] for c in sent)
    assert "<script>" not in "".join(c.params["text"] for c in sent)


async def test_sticker_and_photo_get_a_text_only_notice(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send_update(bot.updates.sticker(arabic_user))
    assert "الرسائل النصية" in bot.last_text(arabic_user.id)
    await bot.send_update(bot.updates.photo(arabic_user))
    assert "الرسائل النصية" in bot.last_text(arabic_user.id)


async def test_rate_limit_tells_the_user_once(make_bot, english_user: LocalUser) -> None:  # type: ignore[no-untyped-def]
    harness = await make_bot({"bot": {"rate_limit_messages": 3, "rate_limit_seconds": 60}})
    for _ in range(3):
        await harness.send(english_user, "hello")
    replies_before = len(harness.texts(english_user.id))
    await harness.send(english_user, "hello")
    await harness.send(english_user, "hello")
    new = harness.texts(english_user.id)[replies_before:]
    assert len(new) == 1 and "very quickly" in new[0]


async def test_a_failing_handler_logs_no_personal_data_and_tells_the_user(
    bot: Harness,
    english_user: LocalUser,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "my email is jane@example.com"

    async def broken(*args: object, **kwargs: object) -> None:
        raise ValueError(f"cannot store {secret}")

    monkeypatch.setattr(bot.services.store, "record_unanswered", broken)
    await bot.send(english_user, secret)
    assert "went wrong" in bot.last_text(english_user.id)
    assert "ValueError" in caplog.text
    assert "jane@example.com" not in caplog.text


async def test_out_of_scope_cues_reach_the_bot(bot: Harness, english_user: LocalUser) -> None:
    """The knowledge base's out-of-scope cues apply in the bot, not only in `ask`."""
    await bot.send(english_user, "what is the fee to attend the interpol europol conference")
    assert not bot.last_text(english_user.id).startswith("<b>")


async def test_buttons_under_an_arabic_answer_answer_in_arabic(
    bot: Harness, english_user: LocalUser
) -> None:
    """An English-app user who asks in Arabic keeps getting Arabic from the buttons."""
    await bot.send(english_user, "ما هي خيارات الشراكة؟")
    await bot.press(english_user, "kb:ar:expert-secondment")
    assert bot.last_text(english_user.id).startswith(
        RLM + "<b>" + bot.services.kb["expert-secondment"].title["ar"]
    )
    await bot.press(english_user, "form:start:ar")
    assert "رائع" in bot.texts(english_user.id)[-2]


async def test_a_message_asking_two_things_offers_the_second_topic_first(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(
        english_user,
        "We are a bank in Dubai with a big fraud team. What is expert secondment? "
        "And how does information sharing work?",
    )
    assert "<b>Information sharing</b>" in bot.last_text(english_user.id)
    first_button = bot.last_buttons(english_user.id)[0][0]
    assert first_button == ("Expert secondment", "kb:en:expert-secondment")


async def test_an_empty_message_is_a_bug_not_a_silent_nothing() -> None:
    """send_text refuses "" loudly (Telegram would refuse it too): a template that renders
    to nothing must show in the log, not drop the user's reply and its buttons."""
    with pytest.raises(ValueError):
        await send_text(ExtBot("123:abc"), 1, "")


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("en", "I lost my passport in Paris, what do I do"),
        ("ar", "ضاع جوازي في باريس وش اسوي"),
        ("ar", "ابي فيزا لفرنسا"),
    ],
)
async def test_a_personal_request_is_told_where_to_go_instead(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, lang: str, question: str
) -> None:
    """Found by a walk-through: a lost passport got the same "no answer" as a question the
    bot simply missed, and an offer to apply for a partnership."""
    user = arabic_user if lang == "ar" else english_user
    await bot.send(user, question)
    hint = TEXTS.render("_hints", lang, hints=frozenset({"personal"}))
    assert hint and hint in bot.last_text(user.id)


async def test_a_partnership_question_left_unanswered_gets_no_personal_hint(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "zxqv plorf partnership wibble?")
    assert "embassy" not in bot.last_text(english_user.id)
