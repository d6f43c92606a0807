"""Conversations with Arabic-speaking partners, through the real Application (issue 10).

Greetings are answered in kind, a company introducing itself is shown how to
contribute, practical questions the page does not answer (cost, contacts, the
list of partners, the next meeting) get an honest answer with the partner
button, and the fallback no longer tells a would-be partner that the bot "only
answers partnership questions".

The questions below are deliberately not phrasings of the knowledge base (see
``test_questions_here_are_not_phrasings_of_the_knowledge_base``): these tests
check that the matcher generalises, not that it looks up a sentence.
"""

from __future__ import annotations

import pytest

from bot.knowledge import load_knowledge_base
from bot.local_api import LocalUser
from bot.normalize import Lang, fold
from bot.texts import RLM, Texts
from tests.conftest import Harness

SALAM = ["السلام عليكم يا إخوان", "سلام عليكم ورحمة الله يا شباب"]
BLESSING = ["جزاكم الله كل خير", "جزاك الله خيرًا على التوضيح"]
HOW_ARE_YOU_AR = ["كيف حالكم يا جماعة؟", "شلونكم اليوم؟", "ازيك عامل ايه؟", "لاباس عليكم؟"]
HOW_ARE_YOU_EN = ["how's everything going?", "hope you're doing well"]
# A company introducing itself and offering help, in Egyptian, Gulf, Levantine and
# Maghrebi Arabic, and in English.
INTRODUCTIONS = [
    ("ar", "إحنا شركة برمجة صغيرة في الإسكندرية، إزاي نقدر نساعد الإنتربول؟"),
    ("ar", "حنا شركة ناشئة في الخبر ونبي نخدم الانتربول، وش نسوي؟"),
    ("ar", "نحنا شركة ناشئة بحلب، كيف فينا نساعد الإنتربول بمكافحة الجرايم الإلكترونية؟"),
    ("ar", "حنا شركة صغيرة فأكادير، كيفاش نقدرو نعاونو الأنتربول؟"),
    ("en", "We're a small fintech startup in Jeddah, how can we help INTERPOL?"),
]
# Practical questions the page does not answer: each gets its honest entry.
PRACTICAL = [
    ("ar", "هل الشراكة مع الانتربول مجانية ولا فيها رسوم؟", "partnership-cost"),
    ("en", "Is there a fee for partner companies?", "partnership-cost"),
    ("ar", "ممكن رقم هاتف فريق الشراكات؟", "contact-details"),
    ("en", "what is the phone number of the partnerships team?", "contact-details"),
    ("ar", "ممكن تعطونا قائمة بأسماء شركائكم الحاليين؟", "partner-list"),
    ("en", "can you give me the list of your current partners?", "partner-list"),
    ("ar", "متى المؤتمر الجاي للإنتربول واليوروبول؟", "event-dates"),
    ("ar", "وقتاش الاجتماع القادم؟", "event-dates"),
    ("en", "So when will the next Europol and INTERPOL conference be held?", "event-dates"),
]
# What must still be refused: salaries, jobs, tickets for individuals, hacking,
# general knowledge.
REFUSED = [
    "كم راتب الموظف في الانتربول؟",
    "how much do interpol employees earn",
    "ابغى وظيفة في الانتربول",
    "job vacancies at interpol",
    "سعر تذكرة حضور مؤتمر اليوروبول",
    "how much is a ticket for the europol conference",
    "ابي اخترق حساب صديقي",
    "hack my neighbour's wifi",
    "ما هي عاصمة الأردن؟",
    "what is the capital of morocco",
]
MOU = "نحتاج نوقع مذكرة تفاهم عشان نشارككم البيانات؟"
NEXT_CONFERENCE = "متى موعد مؤتمر اليوروبول المقبل؟"
UNRELATED = "وصفة الكبسة باللحم"
ALL_QUESTIONS = [
    *SALAM,
    *BLESSING,
    *HOW_ARE_YOU_AR,
    *HOW_ARE_YOU_EN,
    *(q for _, q in INTRODUCTIONS),
    *(q for _, q, _ in PRACTICAL),
    *REFUSED,
    MOU,
    NEXT_CONFERENCE,
    UNRELATED,
]


def expected_reply(bot: Harness, entry_id: str, lang: Lang) -> str:
    """The message the bot sends for ``entry_id``: small talk comes without a title."""
    entry = bot.services.kb[entry_id]
    title = None if entry.small_talk else entry.title[lang]
    return bot.services.texts.render(
        "answer", lang, title=title, answer=entry.answer[lang], invite=entry.invite.get(lang)
    )


def callback_data(bot: Harness, user: LocalUser) -> list[str]:
    return [data for row in bot.last_buttons(user.id) for _, data in row]


def test_questions_here_are_not_phrasings_of_the_knowledge_base() -> None:
    kb = load_knowledge_base()
    phrasings = {fold(v) for entry in kb.entries.values() for v in entry.variants()}
    assert [q for q in ALL_QUESTIONS if fold(q) in phrasings] == []


@pytest.mark.parametrize("text", SALAM)
async def test_salam_is_answered_in_kind_without_a_title(
    bot: Harness, arabic_user: LocalUser, text: str
) -> None:
    await bot.send(arabic_user, text)
    reply = bot.last_text(arabic_user.id)
    assert reply.startswith(RLM + "وعليكم السلام")
    assert "<b>" not in reply
    assert "/topics" in reply and "/apply" in reply
    assert reply == expected_reply(bot, "salam", "ar")


async def test_salam_in_latin_letters_is_answered_in_kind(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "Assalamu alaikum everyone")
    reply = bot.last_text(english_user.id)
    assert reply.startswith("Wa alaikum assalam")
    assert "<b>" not in reply


async def test_plain_hello_keeps_the_usual_greeting(bot: Harness, arabic_user: LocalUser) -> None:
    await bot.send(arabic_user, "مرحبا")
    assert bot.last_text(arabic_user.id) == expected_reply(bot, "greeting", "ar")
    assert not bot.last_text(arabic_user.id).startswith(RLM + "وعليكم السلام")


@pytest.mark.parametrize("text", BLESSING)
async def test_a_blessing_is_returned(bot: Harness, arabic_user: LocalUser, text: str) -> None:
    await bot.send(arabic_user, text)
    reply = bot.last_text(arabic_user.id)
    assert reply.startswith(RLM + "وإياكم")
    assert "<b>" not in reply


@pytest.mark.parametrize("text", HOW_ARE_YOU_AR)
async def test_how_are_you_in_dialect_gets_a_friendly_line_to_the_topics(
    bot: Harness, arabic_user: LocalUser, text: str
) -> None:
    await bot.send(arabic_user, text)
    reply = bot.last_text(arabic_user.id)
    assert reply == expected_reply(bot, "how-are-you", "ar")
    assert "/topics" in reply and "<b>" not in reply
    assert reply != bot.services.texts.render("fallback", "ar", victim_hint=False)


@pytest.mark.parametrize("text", HOW_ARE_YOU_EN)
async def test_how_are_you_in_english_gets_a_friendly_line_to_the_topics(
    bot: Harness, english_user: LocalUser, text: str
) -> None:
    await bot.send(english_user, text)
    reply = bot.last_text(english_user.id)
    assert reply == expected_reply(bot, "how-are-you", "en")
    assert "/topics" in reply


async def test_bare_how_are_you(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "how are you?")
    assert bot.last_text(english_user.id) == expected_reply(bot, "how-are-you", "en")


@pytest.mark.parametrize(("lang", "text"), INTRODUCTIONS)
async def test_a_company_introducing_itself_is_shown_how_to_contribute(
    bot: Harness, arabic_user: LocalUser, lang: Lang, text: str
) -> None:
    await bot.send(arabic_user, text)
    assert bot.last_text(arabic_user.id) == expected_reply(bot, "how-to-contribute", lang)
    assert f"form:start:{lang}" in callback_data(bot, arabic_user)


@pytest.mark.parametrize(("lang", "text", "entry_id"), PRACTICAL)
async def test_practical_questions_get_an_honest_answer_and_the_partner_button(
    bot: Harness, english_user: LocalUser, lang: Lang, text: str, entry_id: str
) -> None:
    await bot.send(english_user, text)
    reply = bot.last_text(english_user.id)
    assert reply == expected_reply(bot, entry_id, lang)
    assert reply != bot.services.texts.render("fallback", lang, victim_hint=False)
    assert any(data.startswith("form:start:") for data in callback_data(bot, english_user))


async def test_the_next_conference_is_not_answered_with_the_conference_itself(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, NEXT_CONFERENCE)
    conference = bot.services.kb["interpol-europol-conference"]
    assert bot.last_text(arabic_user.id) != expected_reply(bot, conference.id, "ar")
    assert bot.last_text(arabic_user.id) == expected_reply(bot, "event-dates", "ar")


async def test_a_memorandum_of_understanding_is_an_agreement(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, MOU)
    assert bot.last_text(arabic_user.id) == expected_reply(bot, "information-sharing", "ar")


@pytest.mark.parametrize("text", REFUSED)
async def test_what_the_page_never_answers_is_still_refused(
    bot: Harness, english_user: LocalUser, text: str
) -> None:
    await bot.send(english_user, text)
    reply = bot.last_text(english_user.id)
    assert "<b>" not in reply  # no entry answered: "did you mean" choices or the fallback


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_fallback_no_longer_says_it_only_answers_partnership_questions(lang: Lang) -> None:
    text = Texts().render("fallback", lang, victim_hint=False)
    assert "only" not in text.lower() and "فقط" not in text
    assert "/topics" in text and "/apply" in text


async def test_the_fallback_offers_topics_and_the_partner_button(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, UNRELATED)
    reply = bot.last_text(arabic_user.id)
    assert reply == bot.services.texts.render("fallback", "ar", victim_hint=False)
    assert reply.startswith(RLM + "عذرًا، لم نجد إجابة عن هذا السؤال")
    assert sorted(callback_data(bot, arabic_user)) == ["form:start:ar", "menu:ar", "talk:open:ar"]


@pytest.mark.parametrize(
    "text", ["ما هو دوركم في مكافحة الجريمة السيبرية؟", "شو دوركم بالضبط مع الشركات؟"]
)
async def test_your_role_is_not_read_as_courses(
    bot: Harness, arabic_user: LocalUser, text: str
) -> None:
    """«دوركم» (your role) once met «دورة» (a course) and got the training answer."""
    await bot.send(arabic_user, text)
    training = bot.services.kb["training-support"].title["ar"]
    assert training not in bot.last_text(arabic_user.id)
