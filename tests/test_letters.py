"""Letters pasted into the chat: read without their salutation and sign-off; a request
made of wanting and knowing ("we would welcome guidance on") asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matching import Matcher
from bot.matching.letters import letter_body
from bot.normalize import fold

ROOT = Path(__file__).resolve().parent.parent

MUSCAT = (
    "السادة الكرام، تحية طيبة وبعد، نحن مصرف خاص في الخرطوم لديه فريق لمكافحة الاحتيال، "
    "ونأمل إفادتنا بالطريقة التي يمكن أن يسهم بها مصرفنا في جهود المنظمة. "
    "وتفضلوا بقبول فائق الاحترام، عثمان الطيب، رئيس قسم أمن المعلومات، الخرطوم"
)
RABAT = (
    "Dear INTERPOL team,\n"
    "We run a threat-intelligence company in Casablanca with forty analysts. We would "
    "welcome guidance on how a firm like ours can contribute to your work against "
    "cybercrime.\nBest regards,\nYoussef Amrani, Head of Partnerships, Rabat"
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(ROOT / "knowledge")


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher.from_knowledge_base(kb)


def test_a_letter_is_read_without_its_salutation_and_signature(kb: KnowledgeBase) -> None:
    assert letter_body(RABAT, kb.lexicon) == (
        "We run a threat-intelligence company in Casablanca with forty analysts. We would "
        "welcome guidance on how a firm like ours can contribute to your work against "
        "cybercrime."
    )
    body = letter_body(MUSCAT, kb.lexicon)
    assert body.startswith("نحن مصرف خاص") and body.endswith("جهود المنظمة.")


@pytest.mark.parametrize(
    "text",
    [
        "السادة الكرام، تحية طيبة وبعد،",  # only a salutation: a greeting, read whole
        "Best regards from our whole team",  # a sign-off that opens the message
        # A sign-off followed by a question: the letter goes on asking.
        "We are a bank in Accra. Thanks in advance, and when is the next conference?",
        "We are a bank in Accra. Regards, when is the next conference",  # a question word
        "نحن مصرف في عمّان. مع الشكر، نرجو إفادتنا بشروط الشراكة",  # a request: نرجو إفادتنا
        # More than a signature after it: still the letter.
        "We are a bank. Regards the conference, our board wants to send three people and "
        "needs to know the dates, the venue, the fee and the programme well ahead of time "
        "for planning",
        # A long first piece that opens with a salutation word is the letter itself.
        "Dear partners at INTERPOL I have read your page twice and wonder how a firm joins",
        "how can we contribute to your work?",
        # After a sign-off phrase, a piece that wants, asks or knows is the letter going on.
        "Our team is in Cairo. Respectfully, we need to know the fee to become a partner",
        "We are a bank in Lagos. Many thanks, but I lost my passport and need a new one",
        "نحن شركة في القاهرة. ودمتم، ما رسوم الشراكة",
        # A signature's pieces are short, and so is the sign-off's own piece.
        "We are a bank. Best regards, Omar. Our board meets on Monday and will decide then",
        "We are a bank. Cheers to the team for the great work against fraud in our region",
        # A salutation piece that asks or tells is the letter.
        "Dear team how can we join? We are a bank in Lagos.",
        "Greetings how do we share threat intel, we are a bank in Nairobi",
        "السيد المدير طلب مني السؤال عن إعارة الخبراء، نحن بنك في الكويت",
        "Dear colleagues in the partnerships team at the Nairobi bureau, we are a bank",
        "Dear Mr. Smith, how can we help",  # a full stop after a title ends no salutation
    ],
)
def test_what_is_no_salutation_or_sign_off_is_kept(kb: KnowledgeBase, text: str) -> None:
    assert letter_body(text, kb.lexicon) == text


@pytest.mark.parametrize(
    ("text", "expected", "question"),
    [
        (
            "Dear team, we are a bank in Accra with a fraud unit of twelve people. Secondment "
            "of one of our analysts to INTERPOL. Regards, Kofi Mensah, Head of Security, Accra",
            "expert-secondment",
            "Secondment",
        ),
        (
            "السادة الأفاضل، نحن شركة أمن معلومات في عمّان. إعارة أحد خبرائنا للعمل في مقر "
            "المنظمة. مع خالص التحية، م. سامر الخطيب، رئيس قسم الشراكات، عمّان",
            "expert-secondment",
            "إعارة",
        ),
        (
            "حضرات السادة، مصرفنا في الدوحة لديه وحدة لمكافحة الاحتيال. تبادل المعلومات عن "
            "التهديدات مع الإنتربول. وتقبلوا فائق الاحترام، علي المري، مدير الأمن، الدوحة",
            "information-sharing",
            "تبادل",
        ),
    ],
)
def test_a_signature_naming_a_city_or_a_title_is_not_the_question(
    matcher: Matcher, text: str, expected: str, question: str
) -> None:
    """Where no clause asks, the last clause that names a topic is the question. The
    signature's title ("Head of Security", «رئيس قسم الشراكات») names one: read with the
    letter, it was taken for the question, and the letter got no answer."""
    result = matcher.match(text)
    assert (result.outcome, result.entry_id) == ("answer", expected)
    assert (matcher.question_clause(text) or "").strip().startswith(question)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("would welcome guidance on how to join", 3),  # would ... guidance
        ("نرجو التكرم بتوضيح آلية الإعارة", 3),  # نرجو التكرم بتوضيح: ب before the knowing word
        ("ونأمل إفادتنا بالطريقة", 2),  # و before the word of wanting
        ("would like to partner with you on training", 0),  # wanting, nothing to know
        ("would like to partner on it and then to know more", 0),  # know too far off
    ],
)
def test_a_word_of_wanting_before_a_word_of_knowing_opens_a_question(
    kb: KnowledgeBase, text: str, size: int
) -> None:
    found = fold(text).split()
    assert kb.lexicon.opener_at(found, 0) == size


def test_a_letter_is_answered_in_its_own_language(matcher: Matcher) -> None:
    """An English question signed in Arabic is answered in English."""
    text = (
        "How can our bank share threat data? مع خالص التحية، سالم بن سعيد الحارثي، "
        "رئيس قسم أمن المعلومات، مسقط"
    )
    result = matcher.match(text)
    assert (result.lang, result.entry_id) == ("en", "information-sharing")
