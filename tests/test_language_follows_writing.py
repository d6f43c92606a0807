"""The conversation follows the language the partner writes in, Arabizi included."""

from __future__ import annotations

from bot.knowledge import KnowledgeBase
from bot.local_api import LocalUser
from tests.conftest import Harness
from tests.test_lead_form import TEXTS, prompt


async def test_english_app_user_who_writes_arabic_gets_arabic_commands_and_form(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "ما هي خيارات الشراكة؟")
    await bot.send(english_user, "/help")
    assert bot.last_text(english_user.id) == TEXTS.render("help", "ar")
    await bot.send(english_user, "/topics")
    assert bot.last_text(english_user.id) == TEXTS.render("topics", "ar")
    await bot.send(english_user, "/apply")
    assert bot.last_text(english_user.id) == prompt("organisation", "ar")
    await bot.send(english_user, "x")  # too short: the error is Arabic too
    assert bot.texts(english_user.id)[-2] == TEXTS.render(
        "form/error", "ar", error="too_short", limit=2
    )


async def test_writing_english_again_switches_back(bot: Harness, arabic_user: LocalUser) -> None:
    await bot.send(arabic_user, "what is expert secondment?")
    await bot.send(arabic_user, "/help")
    assert bot.last_text(arabic_user.id) == TEXTS.render("help", "en")


async def test_a_language_chosen_with_the_command_wins(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/language")
    await bot.press(english_user, "lang:en")
    await bot.send(english_user, "ما هي خيارات الشراكة؟")
    await bot.send(english_user, "/help")
    assert bot.last_text(english_user.id) == TEXTS.render("help", "en")


async def test_arabizi_is_answered_in_arabic(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "shu 3andkom partnership options?")
    reply = bot.last_text(english_user.id)
    assert any("\u0600" <= ch <= "\u06ff" for ch in reply)
    assert "partnership" not in reply.lower()
    await bot.send(english_user, "kifash n9dro nt3awnou m3akom?")
    assert any("\u0600" <= ch <= "\u06ff" for ch in bot.last_text(english_user.id))
    await bot.send(english_user, "/help")
    assert bot.last_text(english_user.id) == TEXTS.render("help", "ar")


async def test_arabizi_is_matched_in_arabic_letters(
    bot: Harness, english_user: LocalUser, kb: KnowledgeBase
) -> None:
    """Its words read in Arabic letters meet the Arabic phrasings: the right answer, in
    Arabic, not a fallback."""
    await bot.send(english_user, "momken nib3at mohandes men sharikatna y2da fatra 3andkom?")
    reply = bot.last_text(english_user.id)
    assert kb["expert-secondment"].title["ar"] in reply
