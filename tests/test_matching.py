"""The matcher on the shipped knowledge base: outcomes and accuracy floors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge import OutOfScopeCue, load_knowledge_base
from bot.matching import Matcher, Thresholds

ROOT = Path(__file__).resolve().parent.parent
OUR_SET = ROOT / "tests" / "data" / "questions.yaml"
HOLDOUT_SET = ROOT / "benchmarks" / "data" / "holdout_questions.yaml"
FINAL_SET = ROOT / "benchmarks" / "data" / "final_questions.yaml"
LAST_SET = ROOT / "benchmarks" / "data" / "last_questions.yaml"
FRESH_SET = ROOT / "benchmarks" / "data" / "fresh_questions.yaml"
SIXTH_SET = ROOT / "benchmarks" / "data" / "sixth_questions.yaml"
SEVENTH_SET = ROOT / "benchmarks" / "data" / "seventh_questions.yaml"
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
    assert dict(matcher._typos("kenia"))["kenya"] >= 0.95  # y and i sound alike
    assert dict(matcher._typos("afrika"))["africa"] >= 0.95  # so do c and k


def test_one_slip_costs_less_in_a_long_word(matcher: Matcher) -> None:
    expansions = dict(matcher._typos("softwear"))
    assert max(expansions.values()) >= 0.85
    assert dict(matcher._typos("thnks"))["thank"] >= 0.8
    assert dict(matcher._typos("thnk"))["thank"] < 0.8  # four letters: the ratio squared


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
    for lang in ("ar", "en"):
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


def test_accuracy_on_dev_set(matcher: Matcher) -> None:
    path = next((p for p in DEV_SETS if p.exists()), None)
    if path is None:
        pytest.skip("dev set not available")
    # Reached: ar 100% / en 100% in scope, OOS ar 100% / en 100%.
    assert_floors(matcher, path, {"ar": 0.95, "en": 0.95}, {"ar": 0.83, "en": 0.95})


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
        "how much is the fee to join",
        "who pays the salary of a seconded expert",
        "email address of the partnerships team",
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
