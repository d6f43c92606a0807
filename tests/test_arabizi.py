"""Arabizi (Arabic typed in Latin letters) read in Arabic letters for matching."""

from __future__ import annotations

import pytest

from bot.arabizi import (
    arabic_skeleton,
    is_arabizi,
    read_arabizi,
    reads_as_arabizi,
    romanized,
    sounds,
    to_arabic_script,
)
from bot.knowledge import load_knowledge_base
from bot.matching import Matcher


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("ta7leel", "تحليل"),  # 7 is ح, a doubled vowel a long one
        ("tahdeedat", "تهديدات"),  # the feminine plural
        ("n2adem", "نقدم"),  # 2 as the Levant and Egypt say ق
        ("2ana", "انا"),  # at the start, the glottal stop on an alif
        ("ma3", "مع"),  # a short vowel is not written
        ("sharikti", "شريكتي"),  # i read long, final i is ي
        ("wala", "ولا"),  # a short word's final a is an alif
        ("mkafa7a", "مكفحه"),  # a longer word's final a is the feminine ة (folded)
        ("khobara", "خوبره"),
        ("3andna", "عندنا"),  # the pronoun -na ends in an alif
        ("ikhtara2", "اخترق"),  # a final 2 as ق (ء is tried when spelling as the base does)
    ],
)
def test_arabizi_words_in_arabic_letters(latin: str, arabic: str) -> None:
    assert to_arabic_script(latin) == arabic


def test_a_reading_keeps_known_words_punctuation_and_joins_the_article() -> None:
    known = {"software", "interpol"}.__contains__
    text = "momken n2adem software ta7leel? w el shiraka."
    assert read_arabizi(text, known) == "مومكن نقدم software تحليل? و الشيركه."
    # An article before a kept English word goes with it.
    assert read_arabizi("lel interpol", known).split() == ["interpol"]
    # So does the preposition ب typed apart.
    assert read_arabizi("bi masari", known) == "بمسري"


def test_numbers_codes_and_addresses_are_copied_as_typed() -> None:
    text = "fi 2024 covid19 b2b mp3 50 info@sharika.com https://sharika.com/ta3awon ma3"
    read = read_arabizi(text, lambda w: False)
    assert read == "في 2024 covid19 b2b mp3 50 info@sharika.com https://sharika.com/ta3awon مع"


def test_known_english_words_do_not_make_a_message_english() -> None:
    """ "kif mumkin sharikti tsa3ed el interpol bel cybercrime": half its words are English
    the base knows, which say nothing of the language the rest is written in."""
    words = frozenset({"kif", "mumkin"})
    text = "kif mumkin sharikti tsa3ed el interpol bel cybercrime?"
    known = {"interpol", "cybercrime", "the"}.__contains__
    assert not is_arabizi(text, words)
    assert reads_as_arabizi(text, words, known)
    # English with one Arabic courtesy word stays English.
    assert not reads_as_arabizi("what are the partnership options mumkin", words, lambda w: True)
    assert not reads_as_arabizi("what are the partnership options?", words, known)
    assert not reads_as_arabizi("ما هي خيارات الشراكة kif", words, known)


def test_words_read_as_arabic_count_once_arabizi_shows() -> None:
    """Unlisted words whose Arabic reading is a word ("feeh" فيه, "sanawy" سنوي) count for
    Arabizi once a listed word or a digit for a letter shows it; after the article alone
    they do not ("El Nino hit Lima" is English)."""
    words = frozenset({"shu"})
    known = {"interpol", "the"}.__contains__
    arabic = {"feeh", "sanawy", "meen", "nino", "lima"}.__contains__
    text = "feeh mo2tamar sanawy ben el interpol? meen byenazamo?"
    assert not reads_as_arabizi(text, words, known)  # 2 Arabic-like words of 7
    assert reads_as_arabizi(text, words, known, arabic)
    assert not reads_as_arabizi("El Nino hit Lima hard", words, known, arabic)


def test_without_a_listed_word_most_words_must_read_as_the_bases_arabic() -> None:
    """No listed word, no digit: three words at least, and three in five with the
    article, read as Arabic words of the base, and no English grammar."""
    words = frozenset({"shu"})
    known = {"data", "interpol"}.__contains__
    arabic = {"nmawel", "dawrat", "tadreeb", "shorta", "lima", "nino"}.__contains__
    english = {"the", "can", "we"}.__contains__
    assert reads_as_arabizi("nmawel dawrat tadreeb lal shorta", words, known, arabic, english)
    assert reads_as_arabizi("dawrat tadreeb shorta", words, known, arabic, english)
    # Two such words are not enough, nor half of the message, nor English grammar.
    assert not reads_as_arabizi("dawrat tadreeb", words, known, arabic, english)
    assert not reads_as_arabizi(
        "dawrat tadreeb shorta zorb blix qux", words, known, arabic, english
    )
    assert not reads_as_arabizi("can we fund dawrat tadreeb shorta", words, known, arabic, english)
    # Words the base knows in English are not read as Arabic.
    assert not reads_as_arabizi("data interpol shorta", words, known, arabic, english)
    assert not reads_as_arabizi("El Nino hit Lima hard", words, known, arabic, english)


def test_one_function_word_alone_is_no_english_grammar() -> None:
    """ "an" (عن), "ya" (يا) are Arabic words typed in Latin letters as much as English
    ones: one alone does not make a message English; two function words do."""
    words = frozenset({"bidi"})
    known = {"data"}.__contains__
    arabic = {"naaref", "mawad", "tadreeb"}.__contains__
    english = {"an", "the", "for", "ya"}.__contains__
    assert reads_as_arabizi("bidi naaref an mawad tadreeb", words, known, arabic, english)
    assert reads_as_arabizi("ya naaref mawad tadreeb", words, known, arabic, english)
    assert not reads_as_arabizi("bidi the mawad for tadreeb", words, known, arabic, english)


@pytest.mark.parametrize(
    "text", ["nqadem dawrat tadreeb lel shorta", "tadreeb lel shorta dawrat sanawiya"]
)
def test_arabizi_of_unlisted_words_is_answered_in_arabic(matcher: Matcher, text: str) -> None:
    assert not set(text.split()) & load_knowledge_base().arabizi  # none of its words is listed
    result = matcher.match(text)
    assert (result.lang, result.outcome, result.entry_id) == ("ar", "answer", "training-support")


@pytest.mark.parametrize(
    "text",
    [
        "be partners",  # "be" is no preposition
        "Can a company based in El Salvador be a partner?",
        "Could Al Jazeera be a media partner?",
        "Tab key does not work on the form",  # "tab" is listed; "key" spells كي
        "Salam, can my firm sell in your mall?",  # English grammar around a greeting
        "We make CO2 sensors, can we partner?",
    ],
)
def test_english_with_an_arabic_looking_word_stays_english(matcher: Matcher, text: str) -> None:
    assert not matcher.is_arabizi(text)
    assert matcher.match(text).lang == "en"


def test_a_first_waw_or_ya_is_a_consonant_and_a_first_hamza_an_alef() -> None:
    assert arabic_skeleton("واحد") != arabic_skeleton("احد")
    assert arabic_skeleton("يمكن") != arabic_skeleton("اماكن")
    assert arabic_skeleton("ءمن") == arabic_skeleton("امن")  # "2amn" and "amn"


def test_a_listed_word_with_a_digit_is_no_code() -> None:
    """ "m3" is مع when listed as Arabizi; "mp3" stays a code."""
    read = read_arabizi(
        "shu el shiraka m3 el interpol mp3", lambda w: w == "interpol", listed={"m3"}
    )
    assert read == "شو الشيركه مع interpol mp3"


def test_spellings_are_compared_by_sound_and_skeleton() -> None:
    assert arabic_skeleton("الشراكات") == arabic_skeleton("شركات") == "شركت"
    # "shirakat" sounds like شراكات, not شركات: vowels that Arabic leaves unwritten tell.
    typed = sounds("shirakat")
    assert romanized("شراكات") == "shrakat"
    from rapidfuzz import fuzz

    assert fuzz.ratio(typed, romanized("شراكات")) > fuzz.ratio(typed, romanized("شركات"))


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_knowledge_base(load_knowledge_base())


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("momken nib3at mohandes men sharikatna y2da fatra 3andkom?", "expert-secondment"),
        ("fi tadreeb lel mo7a22i2in?", "training-support"),
        ("kam taklofet el shiraka?", "partnership-cost"),  # -et: the ة before its complement
        ("shukran ktir 3al ma3lumat", "thanks"),  # -an: the adverb's alif
    ],
)
def test_arabizi_questions_are_answered(matcher: Matcher, text: str, entry_id: str) -> None:
    result = matcher.match(text)
    assert (result.entry_id, result.lang) == (entry_id, "ar")


def test_arabizi_words_are_spelled_as_the_base_spells_them(matcher: Matcher) -> None:
    # Rendered شريكات, the nearest-sounding word of the base with its skeleton is شراكات.
    assert "الشراكات?" in matcher.reading("shu anwa3 el shirakat?").split()
    # A word the base has no spelling for stays as rendered, and so does one whose
    # consonants are a base word's but whose sound is not ("masalan", المسوول).
    assert "زقزوق" in matcher.reading("shu zaqzouq 3andkom?")
    assert "مسلن" in matcher.reading("masalan shu 3andkom tadreeb?").split()
    # Arabizi types an emphatic letter as the plain one: "shorta" (شورته) is الشرطة.
    assert arabic_skeleton("شرطه") == arabic_skeleton("شورته")
    assert "الشرطه" in matcher.reading("shu dor el shorta 3andkom?").split()


def test_an_arabizi_message_of_unlisted_words_is_answered_in_arabic(matcher: Matcher) -> None:
    # Only "sharikat" and the article are listed; فيه, تدريب and سنوي are the base's words.
    result = matcher.match("feeh tadreeb sanawy lel sharikat?")
    assert (result.entry_id, result.lang) == ("training-support", "ar")
    assert matcher.reading("feeh tadreeb sanawy lel sharikat?").startswith("فيه تدريب سنوي")


def test_english_and_arabic_text_are_read_as_they_are(matcher: Matcher) -> None:
    for text in ("What is expert secondment?", "ما هي إعارة الخبراء؟", "zxqv plorf"):
        assert matcher.reading(text) is text


def test_an_arabizi_question_after_arabic_is_read_in_arabic_letters(matcher: Matcher) -> None:
    text = "السلام عليكم. momken nsharek data 3an el hacking m3 el interpol?"
    assert matcher.reading(text).startswith("السلام عليكم. ممكن نشارك data عن")
    result = matcher.match(text)
    assert (result.entry_id, result.lang) == ("information-sharing", "ar")


def test_arabizi_that_only_tells_amid_arabic_stays_as_typed(matcher: Matcher) -> None:
    """Context: its unknown words are left out, where a misread one would speak for a
    topic (charika, a company, reads as شريكة, a partner)."""
    text = "مرحبا. ana sakin fi tunis w na5dem fi charika sghira. مين الأمين العام للإنتربول؟"
    assert matcher.reading(text) == text
    assert matcher.match(text).outcome != "answer"
    english = "Hello, we are a bank. كيف نساهم معكم؟"
    assert matcher.reading(english) == english
