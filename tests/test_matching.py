"""The matcher on the shipped knowledge base: outcomes and accuracy floors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.knowledge import OutOfScopeCue, load_knowledge_base
from bot.matching import Matcher, Scored, Thresholds
from bot.matching.clauses import message_clauses, told_words
from bot.matching.decision import decide
from bot.normalize import fold, is_content

ROOT = Path(__file__).resolve().parent.parent
OUR_SET = ROOT / "tests" / "data" / "questions.yaml"
HOLDOUT_SET = ROOT / "knowledge" / "examples" / "holdout_questions.yaml"
FINAL_SET = ROOT / "knowledge" / "examples" / "final_questions.yaml"
LAST_SET = ROOT / "knowledge" / "examples" / "last_questions.yaml"
FRESH_SET = ROOT / "knowledge" / "examples" / "fresh_questions.yaml"
SIXTH_SET = ROOT / "knowledge" / "examples" / "sixth_questions.yaml"
SEVENTH_SET = ROOT / "knowledge" / "examples" / "seventh_questions.yaml"
DEV_SETS = [ROOT.parent / "shared" / "eval" / "dev_questions.yaml"]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_knowledge_base(load_knowledge_base())


def test_direct_answer(matcher: Matcher) -> None:
    result = matcher.match("what are the partnership options?")
    assert (result.outcome, result.entry_id) == ("answer", "partnership-options")
    assert matcher.match("إعارة الخبراء").entry_id == "expert-secondment"


def test_did_you_mean_between_thresholds() -> None:
    m = Matcher(
        [("a", "expert secondment"), ("b", "expert group")],
        thresholds=Thresholds(answer=90, suggest=20),
    )
    result = m.match("expert")
    assert result.outcome == "suggest"
    assert result.entry_id is None
    assert set(result.suggestions) == {"a", "b"}


def test_fallback_on_unrelated_text(matcher: Matcher) -> None:
    result = matcher.match("zxqv plorf")
    assert (result.outcome, result.entry_id, result.suggestions) == ("fallback", None, ())


@pytest.mark.parametrize(
    "text",
    [
        "jobs at interpol",
        "crypto prices",
        "training for my dog",
        "hack my ex's account",
        "weather",
        "سعر الذهب اليوم",
    ],
)
def test_out_of_scope_gets_no_answer(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).entry_id is None


@pytest.mark.parametrize("text", ["", "   ", "?!", "what is the", "شو هو اللي", "why?", "ليش"])
def test_stop_words_and_empty_input_never_match(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.entry_id is None
    assert result.outcome == "fallback"


def test_typo_and_dialect(matcher: Matcher) -> None:
    assert matcher.match("partnershp optionz").entry_id == "partnership-options"
    assert matcher.match("بدنا نعير خبير لفترة").entry_id == "expert-secondment"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("thnks", "thanks"),  # one slip in a short word, read as typed and as stemmed
        ("secondmint", "expert-secondment"),
        ("threat analisys tools", "intelligence-analysis"),  # two vowels: the consonants match
        ("how can our company lend a hand", "how-to-contribute"),  # idiom, not a loan of staff
        ("ways to contribute", "how-to-contribute"),  # "ways" is no longer a stop word
        ("afrika working group meeting", "africa-working-group"),  # a sound-alike spelling
        ("can the police beat hackers on their own", "why-partnerships"),
        ("كم عدد الأفرقة الإقليمية", "regional-working-groups"),  # "how many" asks a number
    ],
)
def test_typos_and_idioms(matcher: Matcher, text: str, entry_id: str) -> None:
    assert matcher.match(text).entry_id == entry_id


def test_sound_alike_spellings(matcher: Matcher) -> None:
    assert dict(matcher.spelling.typos("kenia"))["kenya"] >= 0.95  # y and i sound alike
    assert dict(matcher.spelling.typos("afrika"))["africa"] >= 0.95  # so do c and k


_EQUALLY_NEAR = """
from bot.matching import Matcher
matcher = Matcher([("a", "band"), ("b", "brad"), ("c", "bran"), ("d", "rand"), ("e", "bend")])
print([s.entry_id for s in matcher.match("brand").ranked])
"""


def test_equally_near_spellings_rank_alike_in_every_process() -> None:
    """ "brand" is one letter from band, brad, bran and rand, and three near spellings are
    kept: which three, and in what order, must not depend on the process's hash seed
    (it did: six seeds gave six rankings), or two workers answer one question apart."""
    ranked = {
        subprocess.run(
            [sys.executable, "-c", _EQUALLY_NEAR],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4", "5", "6")
    }
    assert ranked == {"['c', 'b', 'a']\n"}  # the slip at the word's end first


def test_one_slip_costs_less_in_a_long_word(matcher: Matcher) -> None:
    expansions = dict(matcher.spelling.typos("softwear"))
    assert max(expansions.values()) >= 0.85
    assert dict(matcher.spelling.typos("thnks"))["thank"] >= 0.8
    assert dict(matcher.spelling.typos("thnk"))["thank"] < 0.8  # four letters: the ratio squared


def accuracy(matcher: Matcher, items: list[dict]) -> dict[tuple[str, bool], float]:
    counts: dict[tuple[str, bool], list[int]] = {}
    for item in items:
        result = matcher.match(item["q"])
        ok = result.entry_id in item["expect"] if item["expect"] else result.entry_id is None
        row = counts.setdefault((item["lang"], bool(item["expect"])), [0, 0])
        row[0] += ok
        row[1] += 1
    return {key: right / total for key, (right, total) in counts.items()}


def assert_floors(
    matcher: Matcher, path: Path, in_scope: dict[str, float], oos: dict[str, float]
) -> None:
    got = accuracy(matcher, yaml.safe_load(path.read_text(encoding="utf-8")))
    for lang in in_scope:
        assert got[(lang, True)] >= in_scope[lang], (lang, "in scope", got)
        assert got[(lang, False)] >= oos[lang], (lang, "out of scope", got)


def test_accuracy_on_our_question_set(matcher: Matcher) -> None:
    # Reached: ar 100% / en 97.6% in scope, OOS ar 100% / en 100%; a small margin below.
    assert_floors(matcher, OUR_SET, {"ar": 0.97, "en": 0.95}, {"ar": 0.96, "en": 0.96})


def test_accuracy_on_holdout_set(matcher: Matcher) -> None:
    # Reached: ar 99% / en 100% in scope, OOS ar 100% / en 100%.
    assert_floors(matcher, HOLDOUT_SET, {"ar": 0.95, "en": 0.95}, {"ar": 0.92, "en": 0.92})


def test_accuracy_on_final_set(matcher: Matcher) -> None:
    # Tuned on since (its failures were studied by category); the honest estimate now
    # comes from a fresh set. Reached: ar 100% / en 100% in scope, OOS ar 100% / en 100%.
    assert_floors(matcher, FINAL_SET, {"ar": 0.95, "en": 0.96}, {"ar": 0.94, "en": 0.94})


def test_accuracy_on_last_set(matcher: Matcher) -> None:
    # Untuned when first measured (ar 97.2% / en 88.9% in scope, OOS ar 100% / en 94.4%);
    # its English failures were then studied by category (typos, idioms, "ways").
    # Reached: ar 97.2% / en 100% in scope, OOS ar 100% / en 100%.
    assert_floors(matcher, LAST_SET, {"ar": 0.95, "en": 0.95}, {"ar": 0.94, "en": 0.94})


def test_accuracy_on_fresh_set(matcher: Matcher) -> None:
    # Untuned when first measured (ar 95.8% / en 93.1% in scope, OOS ar 100% / en 94.4%);
    # its failures were then studied by category (paraphrase vocabulary, sound-alike
    # spellings, lists after "besides", founding a company). Reached: ar 100% / en 98.6%
    # in scope, OOS ar 100% / en 100%.
    assert_floors(matcher, FRESH_SET, {"ar": 0.96, "en": 0.95}, {"ar": 0.94, "en": 0.94})


def test_accuracy_on_sixth_set(matcher: Matcher) -> None:
    # Untuned when first measured (ar 100% / en 91.7% in scope, OOS ar 100% / en 100%);
    # its English failures were then studied by category. Reached: en 98.6% in scope.
    assert_floors(matcher, SIXTH_SET, {"ar": 0.96, "en": 0.95}, {"ar": 0.94, "en": 0.94})


def test_accuracy_on_seventh_set(matcher: Matcher) -> None:
    # Never tuned on: measured at first sight after the last round (ar 100% / en 97.2%
    # in scope, OOS ar 94.4% / en 94.4%), the latest honest estimate.
    assert_floors(matcher, SEVENTH_SET, {"ar": 0.95, "en": 0.95}, {"ar": 0.9, "en": 0.9})


@pytest.mark.parametrize(
    ("name", "in_scope", "oos"),
    [
        # Reached 2026-12-06: en 74.5% / ar 70.0%, OOS 100% / 92.3%.
        ("tuning_2026-12-06", {"ar": 0.68, "en": 0.72}, {"ar": 0.92, "en": 1.0}),
        # Reached: en 84.7% / ar 85.0%, OOS 100% / 93.3%.
        ("tuning_2026-12-06-2", {"ar": 0.83, "en": 0.83}, {"ar": 0.93, "en": 1.0}),
        # Reached: en 90.5% / ar 81.5%, OOS 100% / 100%.
        ("tuning_2026-12-06-4", {"ar": 0.8, "en": 0.88}, {"ar": 1.0, "en": 1.0}),
        # Arabic only. Reached: 75.5%, OOS 100%.
        ("tuning_2026-12-06-6", {"ar": 0.74}, {"ar": 1.0}),
        # Reached: en 82.1% / ar 84.4%, OOS 100% / 87.5%.
        ("tuning_2026-12-06-7", {"ar": 0.84, "en": 0.8}, {"ar": 0.87, "en": 1.0}),
        # First sight en 63.5% / ar 71.4%; reached en 65.1% / ar 73.0%, OOS 91.7% / 100%.
        ("tuning_2026-12-06-8", {"ar": 0.73, "en": 0.65}, {"ar": 1.0, "en": 0.91}),
    ],
)
def test_accuracy_on_the_tuning_sets(
    matcher: Matcher, name: str, in_scope: dict[str, float], oos: dict[str, float]
) -> None:
    """Sets tuned on since their first sight (README): floors so that no change loses
    what was reached on them."""
    path = ROOT / "knowledge" / "examples" / f"{name}_questions.yaml"
    assert_floors(matcher, path, in_scope, oos)


def test_accuracy_on_dev_set(matcher: Matcher) -> None:
    assert matcher.match("what's your email address?").entry_id == "contact-details"
    path = next((p for p in DEV_SETS if p.exists()), None)
    if path is None:
        pytest.skip("dev set not available")
    # Reached: ar 100% / en 100% in scope, OOS ar 100% / en 83% (5 of 6): "what's your
    # email address?", labelled out of scope before the base had its honest entry, gets
    # contact-details ("the page lists no e-mail address; leave your details with /apply"),
    # the e-mail cue's own answer, which the learned model is sure of.
    assert_floors(matcher, path, {"ar": 0.95, "en": 0.95}, {"ar": 0.83, "en": 0.83})


@pytest.mark.parametrize(
    "text",
    [
        "تعدين العملات المشفرة حلال ولا حرام؟ وبيجيب فلوس بجد؟",  # a religious ruling
        "is crypto mining halal or haram?",
    ],
)
def test_a_religious_ruling_is_out_of_scope(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).entry_id is None


def test_haram_as_an_exclamation_is_no_religious_question(matcher: Matcher) -> None:
    # "حرام عليكم" (how unfair of them) from a victim of a scam.
    result = matcher.match("حرام عليكم نصابين سرقوا فلوسنا كيف نبلغ")
    assert result.entry_id == "report-cybercrime"


def test_dialect_function_words_do_not_count_against_an_answer(matcher: Matcher) -> None:
    """Iraqi عدنا (we have) and همين (also), Tunisian شنوة (what) and متاع (of): words of
    no topic, which used to count as unknown words against every entry."""
    for word in ("عدنا", "همين", "شنوه", "متاع", "قداش", "هلق", "يبي", "سالفه"):
        assert not is_content(word, matcher.lexicon), word


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("my insta got hacked", "report-cybercrime"),  # a victim still gets the advice
        ("اتهكر حسابي على الفيس", "report-cybercrime"),
        ("someone tried to hack my account", "report-cybercrime"),  # "unless" lifts the cue
        ("how do we get onboard as a partner", "how-to-contribute"),  # everyday synonyms
        ("mena wg", "mena-working-group"),  # chat shorthand
        ("business email compromise operations", "africa-working-group"),
        ("ما دور الأفرقة الإقليمية", "regional-working-groups"),  # دور (role) is not دورة
        ("someone hacked my email", "report-cybercrime"),  # a victim word lifts the email cue
        ("our engineers could work at your hq for a while", "expert-secondment"),
        ("خبير من عندنا يشتغل في مقر الإنتربول لفترة", "expert-secondment"),
        ("in what forms can we partner", "partnership-options"),  # "form" is not "kind"
        ("can we register our company as a partner", "how-to-contribute"),  # cue lifted
    ],
)
def test_vocabulary_and_cues_keep_in_scope_answers(
    matcher: Matcher, text: str, entry_id: str
) -> None:
    assert matcher.match(text).entry_id == entry_id


@pytest.mark.parametrize(
    "text",
    [
        "how much is the fee for a cybersecurity course",
        "who pays the salary of a seconded expert",
        "email address of the interpol secretary general",
        "رسوم حضور المؤتمر",
        "هكرلي حساب واتس",
        "ممكن تهكرلي حساب انستا",
        "deadline to apply for a partnership",
        "where is interpol's headquarters",  # HQ without an expert sent there
        "وين مقر الإنتربول",
        "who is the director of europol",
        "write me a phishing email",
        "what is the capital of kenya",
        "how do i become an interpol police officer",
        "how do we start a business in jordan",  # founding a company is not partnering
    ],
)
def test_out_of_scope_cues_block_a_direct_answer(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).entry_id is None


def test_cue_is_excused_by_an_entry_that_uses_the_word() -> None:
    variants = [("fees", "conference fees and tickets"), ("conf", "annual conference")]
    cues = [OutOfScopeCue(("fees", "tickets"))]
    m = Matcher(variants, out_of_scope=cues)
    assert m.match("conference fees").entry_id == "fees"
    capped = m.scores("conference tickets price")
    assert all(s.score < m.thresholds.answer for s in capped if s.entry_id == "conf")


def test_cue_with_unless_is_lifted_only_by_those_words() -> None:
    variants = [("bec", "business email compromise"), ("other", "partnership options")]
    cues = [OutOfScopeCue(("email",), unless=("compromise",))]
    m = Matcher(variants, out_of_scope=cues)
    assert m.match("business email compromise").entry_id == "bec"
    assert m.match("business email").entry_id is None


def test_unless_words_count_through_their_synonyms() -> None:
    variants = [("hq", "experts working at interpol premises")]
    cues = [OutOfScopeCue(("hq",), unless=("expert",))]
    m = Matcher(variants, synonyms={"engineer": "expert"}, out_of_scope=cues)
    assert m.match("engineers working at interpol hq").entry_id == "hq"
    assert m.match("interpol hq").entry_id is None


def test_known_words_are_not_typos_of_terms() -> None:
    # "countries" is one edit from "counter" (a word of the base), but the synonyms
    # know it as a word of its own, so it counts as unknown.
    m = Matcher(
        [("fight", "counter cybercrime"), ("members", "expert group members")],
        synonyms={"countries": "country", "counter": "fight", "fight": "fight"},
    )
    ranked = m.scores("member countries")
    assert all(s.entry_id != "fight" for s in ranked)


def test_shipped_base_loads_out_of_scope_cues() -> None:
    kb = load_knowledge_base()
    assert kb.out_of_scope
    assert any("price" in cue.words for cue in kb.out_of_scope)


def test_typo_is_measured_against_the_word_as_written() -> None:
    # "share" is stemmed to "shar": "shre" is two edits from the stem but one from
    # the word in the phrasing, and still finds it.
    m = Matcher([("sharing", "share data"), ("training", "training courses")])
    assert m.match("shre data").entry_id == "sharing"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("we're keen to engage with interpol, what's the process", "how-to-contribute"),
        ("are financial institutions your partners", "partner-sectors"),
        ("could our firm back interpol in some other area", "other-support"),
    ],
)
def test_business_english(matcher: Matcher, text: str, entry_id: str) -> None:
    assert matcher.match(text).entry_id == entry_id


def test_a_clitic_comes_off_only_when_the_rest_is_a_known_word() -> None:
    m = Matcher([("startups", "الشركات الناشئة"), ("kenya", "اجتماع كينيا")])
    trace = m.trace_word(fold("لشركتنا"))  # for our company
    assert (trace.how, trace.reading) == ("exact", "شركه")
    assert m.trace_word(fold("فكينيا")).how == "exact"  # so, in Kenya (dialect)
    assert m.match("فكينيا").entry_id == "kenya"
    # ب is a root letter of بيانات: the split is not taken when يانات is unknown
    assert m.trace_word(fold("بيانات")).reading is None


@pytest.mark.parametrize("text", ["وين مكاتبكم؟", "فين فروعكم", "where are your offices?"])
def test_offices_are_a_location_question_not_secondment(matcher: Matcher, text: str) -> None:
    """Office words are cues of their own role (where an organisation sits): no direct
    answer, and the honest contact-details entry is offered first."""
    result = matcher.match(text)
    assert result.entry_id is None
    assert result.suggestions[0] == "contact-details"


def test_offices_stay_secondment_when_an_expert_goes_there(matcher: Matcher) -> None:
    result = matcher.match("could our analyst work at your offices for a few months?")
    assert result.entry_id == "expert-secondment"


def test_a_cue_offers_its_honest_entry_first(matcher: Matcher) -> None:
    result = matcher.match("ورشة العمل القادمة لفريق أفريقيا")  # a future date
    assert (result.entry_id, result.suggestions[0]) == (None, "event-dates")


@pytest.mark.parametrize(
    ("text", "founding"),
    [
        ("register a firm in egypt", True),
        ("how do we start a business in jordan", True),
        ("كيف أسجل شركة في دبي", True),
        ("we're a small startup, where do we start?", False),
        ("how do we register with you", False),
    ],
)
def test_a_with_cue_needs_its_object(matcher: Matcher, text: str, founding: bool) -> None:
    """Registering or starting is signing up, unless a company is what is registered."""
    assert (matcher.match(text).entry_id is None) is founding


def test_a_memorandum_of_understanding_is_an_mou(matcher: Matcher) -> None:
    assert [t.term for t in map(matcher.trace_word, ("mou", "مذكره", "تفاهم"))] == ["agre"] * 3


def test_fraud_is_not_only_the_africa_groups_romance_scams(matcher: Matcher) -> None:
    result = matcher.match("نبي نساعدكم في مكافحة النصب الإلكتروني")
    assert result.entry_id != "africa-working-group"


def test_long_message_weighs_the_question_over_the_context(matcher: Matcher) -> None:
    text = (
        "We are a telecom operator in Oman and our security team sees a lot of phishing. "
        "How can we share what we see with you? Also, do you offer training for our staff?"
    )
    assert matcher.question_clauses(text)[0].strip().startswith("Also, do you offer training")
    result = matcher.match(text)
    assert result.entry_id == "training-support"
    assert result.also == ("information-sharing",)  # the second question, as a button


@pytest.mark.parametrize(
    "text",
    [
        "We are a small forensics lab in Rabat and my colleague wants to go. When is the next "
        "Interpol-Europol conference? And where will it be held this year?",
        "نحن مختبر صغير في الرباط وزميلي يريد الحضور. متى المؤتمر القادم؟ وأين سيقام هذا العام؟",
    ],
)
def test_a_follow_up_question_goes_with_the_question_before_it(matcher: Matcher, text: str) -> None:
    """ "And where will it be held?" asks on about the next conference: weighed alone, it
    would make the message about the conference itself, or about nothing."""
    [question] = matcher.question_clauses(text)
    assert question.count("?") + question.count("؟") == 2
    assert matcher.match(text).entry_id == "event-dates"


def test_a_second_topic_after_and_is_still_offered(matcher: Matcher) -> None:
    text = (
        "We are a telecom operator in Oman and our security team sees a lot of phishing. "
        "How can we share what we see with you? And do you offer training for our staff?"
    )
    result = matcher.match(text)
    assert result.entry_id == "training-support"
    assert result.also == ("information-sharing",)


def test_a_question_mark_asks_more_surely_than_an_opening_word(matcher: Matcher) -> None:
    """A closing remark that opens with a question word ("would") is not the question."""
    text = (
        "We run a small security consultancy with several certified instructors. "
        "Do you take help with training for investigators? Would be glad to hear more."
    )
    assert matcher.question_clauses(text)[0].strip().startswith("Do you take help")


def test_a_short_message_is_read_whole(matcher: Matcher) -> None:
    assert matcher.question_clauses("Hello. What is expert secondment?") == []
    assert matcher.match("Hello. What is expert secondment?").also == ()


def test_two_questions_without_context_name_the_other_topic(matcher: Matcher) -> None:
    """Nothing to weigh down, so the answer is the whole message's; the other question's
    topic comes back in ``also`` (a button under the answer). The two topics are no rivals:
    however close the learned weights rank them, one is answered."""
    text = "How can we second an expert to you? And do you support training?"
    assert matcher.question_clauses(text) == []
    result = matcher.match(text)
    assert result.outcome == "answer" and len(result.also) == 1
    assert {result.entry_id, *result.also} == {"expert-secondment", "training-support"}
    # A greeting is not a second question: it has no words of its own to match.
    assert matcher.match("hello? what is expert secondment?").also == ()


def test_dialect_verbs_meet_the_masdar_of_the_base() -> None:
    m = Matcher([("train", "دعم التدريب للشرطة"), ("share", "مشاركة المعلومات مع الشركاء")])
    assert m.match("بدنا ندرب الشرطة").entry_id == "train"
    assert m.match("كيف نشاركو المعلومات").entry_id == "share"


def test_a_verb_reading_must_be_a_known_word(matcher: Matcher) -> None:
    # ندرب reads as تدريب, a word of the base; a verb whose masdar the base does not
    # know stays what it is.
    assert matcher.terms.term(fold("ندرب")) == matcher.terms.term(fold("تدريب"))
    assert matcher.terms.term(fold("نلعب")) == fold("نلعب")


def test_a_clitic_before_a_function_word_is_no_reading(matcher: Matcher) -> None:
    # كلية (a faculty) is not ك + ليه ("like why"), a weak question word.
    assert matcher.terms.term(fold("كلية")) != matcher.terms.term(fold("ليه"))
    assert matcher.terms.term(fold("فكينيا")) == matcher.terms.term(fold("كينيا"))  # still read


def test_digital_is_not_a_number_cue() -> None:
    variants = [("digital", "التحقيق الرقمي"), ("train", "دعم التدريب")]
    m = Matcher(variants, out_of_scope=[OutOfScopeCue(("رقم",))])
    assert m.cue_hits("التدريب الرقمي") == []
    assert m.cue_hits("رقم التحقيق")
    assert m.match("التحقيقات الرقمية").entry_id == "digital"


@pytest.mark.parametrize("text", ["who are interpol's partners", "مين شركاء الانتربول؟"])
def test_who_carries_the_question(matcher: Matcher, text: str) -> None:
    # "who" weighs lightly (a weak word): it asks for names, so the list of partners
    # is never passed over for how to become one. (In English the learned weights put
    # how to contribute first by a hair, so the two are offered as choices.)
    result = matcher.match(text)
    assert result.entry_id != "how-to-contribute"
    assert "partner-list" in (result.entry_id, *result.suggestions)


def test_dialect_who_asks_for_the_partner_list(matcher: Matcher) -> None:
    assert matcher.match("شكون هوما الشركاء؟").entry_id == "partner-list"


def test_a_question_opener_marks_the_question_of_a_long_message(matcher: Matcher) -> None:
    """No question word, no question mark: "I need to know whether" says what is asked,
    and starts a clause of its own."""
    text = (
        "We are a small non-profit lab that lives on grants and donations. Before going "
        "further I need to know whether partners pay a fee."
    )
    assert matcher.question_clauses(text)[0] == "whether partners pay a fee."
    arabic = "نحن شركة ناشئة صغيرة في عمان ولدينا فريق من المحللين، وحابين نعرف كم تكلفة الشراكة"
    assert matcher.question_clauses(arabic + ". شكرا لكم مقدما على الرد") == ["كم تكلفة الشراكة."]


CAP, SUGGEST = Thresholds().cue_cap, Thresholds().suggest


@pytest.mark.parametrize(
    ("top", "runner_up", "floor", "answered"),
    [
        (50.0, 40.0, CAP, True),  # above the cue cap, a clear lead
        (50.0, 43.0, CAP, False),  # the lead is under the long margin
        (45.0, 0.0, CAP, False),  # at the cue cap: a capped entry is only ever offered
        (40.0, 30.0, CAP, False),  # a cue word in the message: the cap is the floor
        (40.0, 30.0, SUGGEST, True),  # none: down to the suggest threshold
        (35.0, 0.0, SUGGEST, False),  # at the floor is not above it
        (50.0, 40.0, None, False),  # a short message keeps the answer threshold
        (56.0, 53.0, CAP, False),  # above the answer threshold, but no lead either way
        (60.0, 50.0, None, True),
    ],
)
def test_a_long_message_is_held_to_a_lower_score_not_a_smaller_lead(
    top: float, runner_up: float, floor: float | None, answered: bool
) -> None:
    ranked = [Scored("a", top), Scored("b", runner_up)]
    result = decide("q", "en", ranked, (), (), Thresholds(), floor)
    assert (result.outcome == "answer") is answered
    assert result.entry_id == ("a" if answered else None)
    if not answered:
        assert result.outcome == "suggest" and result.suggestions[0] == "a"


def test_a_long_message_without_any_cue_word_is_answered_below_the_cue_cap(
    matcher: Matcher,
) -> None:
    """With no out-of-scope cue in force, nothing can have been capped: the long bar goes
    down to the suggest threshold. A cue that the message lifts ("email" beside "phishing",
    or "director" said only in a statement) is not in force; one that it does not
    ("discount") keeps the bar at the cap."""
    clean = (
        "I look after community programmes at a telecom firm in Ghana; our volunteers are "
        "keen and there is spare budget left this year. Could some of it pay for workshops "
        "where officers learn digital evidence handling?"
    )
    t = matcher.thresholds
    result = matcher.match(clean)
    assert t.suggest < result.score < t.cue_cap
    assert (result.entry_id, result.long_floor) == ("training-support", t.suggest)
    lifted = clean.replace("spare budget", "spare budget from phishing email filtering")
    result = matcher.match(lifted)
    assert (result.entry_id, result.long_floor) == ("training-support", t.suggest)
    told = clean.replace("spare budget", "spare budget, says our director,")
    result = matcher.match(told)
    assert (result.entry_id, result.long_floor) == ("training-support", t.suggest)
    with_cue = clean.replace("spare budget", "spare budget at a discount")
    result = matcher.match(with_cue)
    assert t.suggest < result.score < t.cue_cap and result.long_floor == t.cue_cap
    # The prices cue's honest entry comes first, then the entry the message is about.
    assert result.outcome == "suggest"
    assert result.suggestions[:2] == ("partnership-cost", "training-support")


def test_a_long_message_whose_context_dilutes_the_score_is_answered(matcher: Matcher) -> None:
    """Context no entry explains keeps the right entry under the answer threshold; its
    lead over the runner-up is what the long-message bar answers on."""
    text = (
        "نحن مصرف صغير في عمّان ولدينا فريق من ستة محللين يتابعون حملات التصيد كل يوم "
        "ويوثقون كل عملية احتيال. هل يمكن أن نرسل هذه المعلومات إلى محققيكم؟"
    )
    t = matcher.thresholds
    assert matcher.is_long_message(text)
    best = matcher.match(text).ranked[0]
    assert t.cue_cap < best.score < t.answer
    result = matcher.match(text)
    assert (result.outcome, result.entry_id) == ("answer", "information-sharing")
    # The same question alone is short, and clears the ordinary threshold by itself.
    alone = "هل يمكن أن نرسل هذه المعلومات إلى محققيكم؟"
    assert not matcher.is_long_message(alone)
    assert matcher.match(alone).score >= t.answer
    assert matcher.match(alone).entry_id == "information-sharing"


def test_a_cue_keeps_a_long_message_from_the_long_message_bar(matcher: Matcher) -> None:
    text = (
        "Our small bank in Amman has a fraud team of six analysts who watch phishing "
        "campaigns every day. How much is the salary of an analyst seconded to you?"
    )
    assert matcher.is_long_message(text)
    result = matcher.match(text)
    assert result.entry_id is None
    assert result.ranked[0].score <= matcher.thresholds.cue_cap


def test_a_question_that_names_no_topic_is_passed_over(matcher: Matcher) -> None:
    """ "Can you tell me?" asks too, and comes last, but offers nothing: the question
    before it is the one weighed over the context."""
    text = (
        "We are a telecom operator in Baghdad, not a security firm or a bank. Which sectors "
        "do you usually work with? Can you tell me?"
    )
    assert matcher.question_clauses(text)[0].strip() == "Can you tell me?"
    assert matcher.question_clause(text) == " Which sectors do you usually work with?"
    assert matcher.match(text).entry_id == "partner-sectors"


def test_a_greeting_question_is_not_the_question_of_a_long_message(matcher: Matcher) -> None:
    text = (
        "Hi, are you a bot? We are a bank in Amman with a big fraud team. "
        "Which sectors do you work with?"
    )
    assert matcher.match(text).entry_id == "partner-sectors"
    assert matcher.question_clause("What is expert secondment?") is None


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("north africa working group", "mena-working-group"),
        ("فريق شمال أفريقيا", "mena-working-group"),
        ("what did the africa group decide", "africa-working-group"),
        ("ماذا قرر فريق أفريقيا", "africa-working-group"),
    ],
)
def test_north_africa_is_one_name_not_africa(matcher: Matcher, text: str, entry_id: str) -> None:
    """MENA's name holds "North Africa": read as one name, "Africa" alone is the Africa
    group's word, not a tie between both groups."""
    assert matcher.match(text).entry_id == entry_id


def test_work_is_not_a_working_group(matcher: Matcher) -> None:
    """ "working group" is one name: a question about people working somewhere is not
    about the groups."""
    assert matcher.match("how many people work at interpol").entry_id is None
    assert matcher.match("how many working groups are there").entry_id == (
        "regional-working-groups"
    )


def test_a_cue_in_the_context_keeps_the_long_message_bar_away(matcher: Matcher) -> None:
    """The whole message is out of scope (a lawsuit) and caps the secondment entry; its
    question, free of the cue, lifts it above the cap, but not to the answer threshold:
    the long-message bar does not answer it. Only the learned model may, sure of what the
    question clause asks (the cues hold a long message's question, not its context)."""
    text = (
        "Our lawyers will sue the scammers in court next month. is it possible for our "
        "engineers to sit temporarily at one of the interpol offices and work shoulder to "
        "shoulder with your team"
    )
    t = matcher.thresholds
    whole = {s.entry_id: s.score for s in matcher.scores(text)}
    assert whole["expert-secondment"] == t.cue_cap
    result = matcher.match(text)
    best, runner_up = result.ranked[0], result.ranked[1]
    assert best.entry_id == "expert-secondment"
    assert t.cue_cap < best.score < t.answer and best.score - runner_up.score >= t.long_margin
    assert matcher.is_long_message(text) and result.long_floor is None
    assert matcher.hold(text, "expert-secondment") == "free"
    assert result.entry_id == "expert-secondment"
    assert result.lead is not None and result.lead >= t.learned_sure_lead
    fuzzy = Matcher.from_knowledge_base(load_knowledge_base(), learned=False).match(text)
    assert fuzzy.outcome == "suggest"  # the long-message bar alone does not answer it


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("what types of partnership exist", "partnership-options"),  # the arrangement
        ("types of partners", "partner-sectors"),  # the companies
        ("who have you partnered with?", "partner-list"),
    ],
)
def test_a_partner_and_a_partnership_are_two_words(
    matcher: Matcher, text: str, entry_id: str
) -> None:
    assert matcher.match(text).entry_id == entry_id


@pytest.mark.parametrize(
    ("message", "entry"),
    [
        (
            "I'm a PhD student in network security in Italy. My professor told me about a "
            "yearly conference that INTERPOL and Europol organise together. What is it about?",
            "interpol-europol-conference",
        ),
        (
            "إحنا شركة سعودية ليها فرع في البرازيل. فريق الأمريكتين طلع بإيه من اجتماعه؟",
            "americas-working-group",
        ),
        (
            "صباح الخير من مسقط، مديرنا التقني خالد طلب مني أكتب لكم بعد ما قرأ صفحتكم "
            "الأسبوع الماضي. هل فريق الخبراء العالمى يساعد فى وضع الاستراتيجيات؟",
            "global-expert-group",
        ),
    ],
)
def test_a_cue_word_said_about_the_sender_does_not_hold_the_question(
    matcher: Matcher, message: str, entry: str
) -> None:
    """A job or a branch said in a statement of a message that asks describes the sender
    (the cues marked ``asked`` in out_of_scope.yaml): the question is answered."""
    result = matcher.match(message)
    assert (result.outcome, result.entry_id) == ("answer", entry)


@pytest.mark.parametrize(
    "message",
    [
        "Who is the head of INTERPOL?",
        "Where are your offices?",
        "I'm the head of a bank. Who is the head of INTERPOL?",
        "Can you help me? I am looking for an internship at INTERPOL.",
        "I want to work as a detective with you. Is that possible?",
        "I would like to meet the director of INTERPOL. How?",
        "عايز أشتغل ضابط عندكم. ينفع؟",
        "أنا طالب ونبغى نتدرب عندكم. كيف؟",  # the word of wanting behind و
    ],
)
def test_a_cue_word_in_what_is_asked_still_holds_it(matcher: Matcher, message: str) -> None:
    """The same words where they are asked, or in a clause that wants something (a
    request, not the sender describing themselves), still keep the question from a
    direct answer."""
    assert matcher.match(message).entry_id is None
    hits = [hit for hit in matcher.cue_hits(message) if not hit.lifted_by]
    assert hits and not any(hit.told for hit in hits)


@pytest.mark.parametrize(
    ("message", "word"),
    [
        ("We are a payments processor in Cairo. How do we become a partner?", "payments"),
        ("Our CTO asked me to write to you. How does expert secondment work?", "write"),
        ("مديرنا طلب مني أكتب لكم. كيف نعير خبير للانتربول؟", "اكتب"),
    ],
)
def test_money_and_writing_said_about_the_sender_are_lifted(
    matcher: Matcher, message: str, word: str
) -> None:
    """A payments company, or a boss who asked the sender to write, says who writes and
    why: the salary and writing cues are ``asked``, so a statement does not hold them."""
    hits = [hit for hit in matcher.cue_hits(message) if hit.word == word]
    assert hits and all(hit.told for hit in hits)


def test_a_message_that_asks_nothing_tells_nothing() -> None:
    """Without a clause that asks, nothing is said only about the sender."""
    lexicon = load_knowledge_base().lexicon
    statement = "I am the director of a bank in Dubai. We have branches in Cairo."
    assert told_words(message_clauses(statement, lexicon), lexicon) == frozenset()
    asking = statement + " How do we share data?"
    assert {"director", "branches"} <= told_words(message_clauses(asking, lexicon), lexicon)


def test_a_words_typo_lookup_is_remembered_across_messages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A word's spelling lookup is the costliest step of reading it, and words recur from
    message to message: the scores look each (word, term) up once, with the same result."""
    from bot.matching.spelling import Spelling

    matcher = Matcher([("secondment", "can we second an expert to you")])
    calls: list[str] = []
    expand = Spelling.expand

    def counting(self: Spelling, word: str, term: str) -> tuple[tuple[str, float], ...]:
        calls.append(word)
        return expand(self, word, term)

    monkeypatch.setattr(Spelling, "expand", counting)
    first = matcher.match("can we secnd an expurt")
    assert sorted(calls) == ["expurt", "secnd"]
    again = matcher.match("can we secnd an expurt")
    other = matcher.match("expurt secondment please")
    assert again == first and first.entry_id == "secondment"
    assert calls.count("expurt") == 1 and other.ranked[0].entry_id == "secondment"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Good morning from Jakarta. Our CTO asked me to reach out after reading your "
            "page last week. other areas of support",
            "other-support",
        ),
        (
            "Hello, I work for a mid-sized payments company in Nairobi, and our team handles "
            "fraud monitoring. africa working group recommendations",
            "africa-working-group",
        ),
        (
            "صباح الخير من مسقط، مديرنا التقني طلب مني أكتب لكم بعد ما قرأ صفحتكم. "
            "إعارة خبير للعمل مؤقتا في الإنتربول",
            "expert-secondment",
        ),
    ],
)
def test_where_no_clause_asks_the_last_one_is_the_question(
    matcher: Matcher, message: str, expected: str
) -> None:
    """Phones drop question marks and dialect drops question words: a long message whose
    clauses all tell reads its last clause that names a topic as the question."""
    assert (matcher.question_clause(message) or "").strip() == message.split(". ")[-1]
    assert matcher.match(message).entry_id == expected


@pytest.mark.parametrize(
    "message",
    [
        "Hello, I work for a payments company in Nairobi and our team handles fraud "
        "monitoring. africa working group recommendations. Thanks in advance",
        "Hello, I work for a payments company in Nairobi and our team handles fraud "
        "monitoring. africa working group recommendations. Ahmed Ali, ahmed.ali@example.com",
        "مرحبا، أنا أعمل في شركة مدفوعات في الدار البيضاء وفريقنا يتابع الاحتيال. "
        "فريق افريقيا شو سوى في كينيا. وشكرا",
    ],
)
def test_a_sign_off_or_a_signature_is_not_the_question(matcher: Matcher, message: str) -> None:
    """Where no clause asks, the last clause that names a topic is the question: thanks, a
    name or an e-mail address after it close the message."""
    assert matcher.match(message).entry_id == "africa-working-group"
    assert "africa" in (matcher.question_clause(message) or "") or "افريقيا" in (
        matcher.question_clause(message) or ""
    )


@pytest.mark.parametrize(
    "message",
    [
        "I am looking for a job as a cyber analyst in Lyon. cybercrime training programmes",
        "Please write my master thesis for me. public private partnership benefits",
    ],
)
def test_a_request_before_an_unmarked_topic_still_holds_it(matcher: Matcher, message: str) -> None:
    """Where no clause asks and a clause is weighed as the question, the others are read
    as statements; a clause that wants something (a job, "please write") is a request,
    and its cue still keeps the answer back."""
    assert matcher.match(message).entry_id is None
    assert matcher.hold(message, matcher.match(message).ranked[0].entry_id) == "held"
