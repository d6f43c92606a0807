"""Folding, stemming, stop words and language detection."""

from __future__ import annotations

import pytest

from bot.normalize import (
    content_words,
    deep_stem,
    default_lexicon,
    detect_language,
    fold,
    is_content,
    readings,
    stem,
    tokens,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("إِعَارَةُ الخُبَرَاءِ", "اعاره الخبرا"),  # harakat gone, hamza on the line dropped
        ("شراكــــة", "شراكه"),  # tatweel
        ("أ إ آ ٱ ا", "ا ا ا ا ا"),  # alef forms
        ("مستوى", "مستوي"),  # alef maqsura
        ("الشراكة", "الشراكه"),  # taa marbuta
        ("٢٠١٣ ۲۰۱۹", "2013 2019"),  # Arabic-Indic and Persian digits
        ("ما هي؟ نعم، لا؛ حسنا", "ما هي نعم لا حسنا"),  # Arabic punctuation
        ("شر\u200bاكة\u200f", "شراكه"),  # zero-width and bidi marks
        ("Partnership OPTIONS!", "partnership options"),
        ("مرحبااااا شكراااا", "مرحبا شكرا"),  # a stretched word: no letter three times
        ("hiiii, sooo goood", "hii soo good"),  # English keeps its doubled letters
        ("ممكن 2000", "ممكن 2000"),  # two alike letters and digits stay
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_english_case_and_plurals_share_a_stem() -> None:
    assert stem("partners") == stem("partner")
    assert tokens("Training Courses") == tokens("training course")


def test_arabic_article_and_plural_are_stripped() -> None:
    # A feminine plural meets its singular in the ة ending, written either way.
    assert stem(fold("الشركات")) == stem(fold("شركة")) == stem(fold("شركه"))
    assert stem(fold("الدورات")) == stem(fold("دورة"))
    assert deep_stem(fold("بتشتغلوا")) == deep_stem(fold("يشتغل"))


def test_a_pronoun_ending_is_not_the_feminine_ending() -> None:
    """ "دوركم" (your role) is not "دورة" (a course): the bare ه is never stripped."""
    assert stem(fold("دوركم")) == stem(fold("دور"))
    assert stem(fold("دوركم")) != stem(fold("دورة"))
    assert stem(fold("دوركم")) != stem(fold("الدورات"))


@pytest.mark.parametrize(
    "text", ["what is the", "شو هو اللي", "وش ايش بدنا عايز", "please tell me", "we would love to"]
)
def test_stop_words_only_give_no_tokens(text: str) -> None:
    assert tokens(text) == []


def test_stop_words_are_folded() -> None:
    assert all(word == fold(word) for word in default_lexicon().stop_words)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("what are the partnership options", "en"),
        ("ما هي خيارات الشراكة", "ar"),
        ("partnership options ايش هي", "ar"),  # two Arabic words make it Arabic
        ("how do we become شركاء", "en"),  # one Arabic word in English does not
        ("123 !!", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cn u send sum1", ["send"]),  # chat shorthand expands into stop words
        ("mena wg", ["mena", "workinggroup"]),  # shorthand for a compound
        ("how many staff work at the working groups", ["number", "staff", "work", "workinggroups"]),
        ("in-kind support", ["inkind", "support"]),  # a compound is one word
        ("how do we sign up", ["signup"]),
        ("ما يقدرش يحارب", ["يحارب"]),  # negation suffix off: يقدر is a stop word
        ("other ways besides data and training", ["other", "ways", "besides"]),  # excluded span
        ("ways to partner", ["ways", "partner"]),  # "ways" carries the question
        ("can we lend a hand", ["help"]),  # an idiom is one word, not a loan
        ("our firm wants to chip in", ["firm", "wants", "contribute"]),
        ("hand over threat feeds", ["give", "threat", "feeds"]),
        ("could he be based at your office", ["stationed", "office"]),
        ("when is the next meeting", ["next", "meeting"]),  # "next" is a synonym, no idiom
        ("ما عدا التدريب", ["عدا"]),
        ("information technology companies", ["infotech", "companies"]),  # not "information"
        ("شركات تقنية المعلومات", ["شركات", "infotech"]),
        ("information security", ["infosec"]),
        ("أحد خبرائنا لعدة أشهر", ["خبراينا", "اشهر"]),
        ("besides data, staff, tools or training?", ["besides"]),  # the span takes the list
        ("can police win on their own", ["police", "win", "alone"]),
        ("under some kind of agreement", ["agreement"]),  # a hedge, not a question of kinds
        ("how many groups", ["number", "groups"]),
        ("ما الطريقة وحابين نعرف", ["نعرف"]),  # stop words behind ال and و
        ("الدول الأعضاء", ["الدول", "الاعضا"]),  # "countries", not the dialect "these"
        ("فريقنا قوي ماشاء الله", ["فريقنا", "قوي"]),  # a formula, no topic
        ("إن شاء الله نتعاون", ["نتعاون"]),
        ("إن شاء الله تعالى نتعاون", ["نتعاون"]),  # not تعالى, "come" in dialect
        ("inshallah we partner", ["partner"]),
    ],
)
def test_content_words_handle_chat_and_dialect(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


def test_iraqi_gaf_and_dialect_stop_words() -> None:
    assert content_words("شلون نگدر نتعاون ويا الإنتربول") == ["نتعاون", "الانتربول"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("تدريب الضباط بتوعكم", ["تدريب", "الضباط"]),  # a possessive particle with a pronoun
        ("بالفلوس ولا مجانا", ["بالفلوس", "مجانا"]),  # the spoken "or"
        ("نساعد بيها ونتعاون معه", ["نساعد", "ونتعاون"]),  # prepositions with a pronoun
    ],
)
def test_dialect_particles_are_stop_words(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


@pytest.mark.parametrize(
    ("word", "same_as"),
    [
        ("فبالتدريب", "التدريب"),  # so + with + the
        ("وكالشركات", "شركة"),  # and + like + the, plural
        ("بياناتكم", "بيانات"),  # a pronoun before the plural ending
        ("تشتغلوا", "تشتغل"),  # the verb's plural ending
    ],
)
def test_clitics_stack_around_a_word(word: str, same_as: str) -> None:
    assert stem(fold(word)) == stem(fold(same_as))


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("فكينيا", "كينيا"),  # ف before a bare word
        ("لشركتنا", "شركه"),  # ل, and the ة written ت before a pronoun
        ("عالنت", "النت"),  # dialect ع (on the)
        ("هالمؤتمر", "موتمر"),  # dialect ه (this)
        ("بنشتغل", "نشتغل"),  # dialect present-tense ب
        ("حنشارك", "نشارك"),  # dialect future ح
        ("مايقدرش", "يقدر"),  # negation wrapped around the verb
    ],
)
def test_readings_split_off_ambiguous_clitics(word: str, reading: str) -> None:
    assert reading in readings(fold(word))


def test_ambiguous_letters_stay_in_the_stem() -> None:
    """A split that could be a root letter is only a reading, never the stem."""
    assert stem(fold("بيانات")) == stem(fold("البيانات"))  # not ب + يانات
    assert stem(fold("عالمية")) == "عالم"  # global, not ع + ال + مية
    assert stem(fold("فريق")) == "فريق"
    assert "نبل" not in readings(fold("منبلش"))  # «we start», not a negation


@pytest.mark.parametrize(
    ("word", "masdar"),
    [
        ("ندرب", "تدريب"),  # form II: C1 C2 C3 -> تفعيل
        ("بنحلل", "تحليل"),  # dialect tense marker ب
        ("ندربلكم", "تدريب"),  # a pronoun after the dative ل
        ("وننظم", "تنظيم"),  # the conjunction و
        ("نشارك", "مشاركه"),  # form III: C1 ا C2 C3 -> مفاعلة
        ("كنشاركو", "مشاركه"),  # Maghrebi ك and plural -و
        ("تكافحوا", "مكافحه"),  # plural -وا
        ("يتدربوا", "تدرب"),  # form V: the masdar تفعّل
        ("يتدربوا", "تدريب"),  # and form II of the same root
        ("نتعاون", "تعاون"),  # form VI
        ("بنستخدم", "استخدام"),  # form X
    ],
)
def test_a_verb_reads_as_its_masdar(word: str, masdar: str) -> None:
    assert masdar in readings(fold(word))
    assert stem(fold(word)) != masdar  # only a reading: the matcher checks it is a known word


def test_a_form_v_or_vi_verb_reads_as_itself_in_another_person() -> None:
    # Its masdar تشارك is also "you share" (form III): the same verb comes first.
    found = readings(fold("تتشارك"))
    assert found.index("نتشارك") < found.index("تشارك")


def test_after_a_dialect_tense_marker_any_verb_reads_in_the_other_persons() -> None:
    """كيحضر (Moroccan ك, "he attends") is a verb beyond doubt: it reads as نحضر too; a
    bare يحضر, which might be a noun, does not."""
    assert "نحضر" in readings(fold("كيحضر"))
    assert "نحضر" in readings(fold("بيحضر"))
    assert "نحضر" not in readings(fold("يحضر"))


def test_a_pronoun_after_the_dative_lam_marks_a_verb() -> None:
    """نبعتلكم ("we send you") is a verb, as only verbs take the dative ل with a pronoun:
    it reads as نبعت and in the other persons. A noun with a pronoun ending (شركتكم) is
    no verb."""
    found = readings(fold("نبعتلكم"))
    assert "نبعت" in found and "يبعت" in found
    assert "ندرب" in readings(fold("يدربلنا"))
    assert not any(r.startswith(("ي", "ن")) for r in readings(fold("شركتكم")))


def test_masdar_readings_keep_their_last_letters() -> None:
    """A masdar is a whole noun: تعدين (mining) is not cut to تعد (is considered)."""
    assert "تعدين" in readings(fold("اعدن"))
    assert "تعد" not in readings(fold("اعدن"))


@pytest.mark.parametrize(
    ("word", "not_meant"),
    [
        ("يكونوا", "تكوين"),
        ("بيكون", "تكوين"),
        ("يتكون", "تكوين"),
        ("نزور", "تزوير"),
        ("يقوموا", "تقويم"),
    ],
)
def test_a_weak_middle_letter_gets_no_form_ii_masdar(word: str, not_meant: str) -> None:
    """يكون is form I of كان, not form II: it is not تكوين (training); نزور (we visit)
    is not تزوير (forgery)."""
    assert not_meant not in readings(fold(word))


def test_nouns_fit_no_verb_pattern_they_do_not_have() -> None:
    assert "مشاركه" not in readings(fold("مشاكل"))
    assert all(not r.startswith("تب") for r in readings(fold("بيانات")))


def test_after_the_article_a_final_ya_is_the_adjective_ending() -> None:
    """The article and "my" never stand on one noun: الرقمي (digital) is not رقم (a number)."""
    assert stem(fold("الرقمي")) == stem(fold("الرقمية")) == "رقمي"
    assert stem(fold("الرقمي")) != stem(fold("رقم"))
    assert stem(fold("الدوليين")) == stem(fold("الدولي"))
    # Without the article the ي may be "my", and still comes off.
    assert stem(fold("بياناتي")) == stem(fold("بيانات"))


@pytest.mark.parametrize(
    ("word", "counts"),
    [
        ("وهل", False),  # and + هل
        ("فكيف", False),  # so + كيف
        ("ومن", False),
        ("وشو", False),
        ("فهم", True),  # understanding: هم is no question word
        ("ومين", True),  # مين is a question word the base counts, so it still does
    ],
)
def test_a_question_word_behind_and_or_so_stays_one(word: str, counts: bool) -> None:
    assert is_content(word) is counts


def test_a_clause_that_opens_with_and_plus_a_question_word_asks() -> None:
    from bot.matching.clauses import message_clauses

    lexicon = default_lexicon()
    clauses = message_clauses("نحن بنك في الكويت. وهل تجتمع الأفرقة الإقليمية بشكل دوري", lexicon)
    assert [asks for _, asks in clauses] == [False, True]
