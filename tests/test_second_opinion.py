"""The second opinion (bot/matching/second_opinion.py): a model of the words' letters,
asked when the matcher would not answer."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest

from bot import matching
from bot.config import load_config
from bot.kb_tools.explain import explain, format_explanation
from bot.knowledge import load_knowledge_base
from bot.knowledge.model import OutOfScopeCue
from bot.matching import (
    Matcher,
    MatchParameters,
    MatchResult,
    Opinion,
    Scored,
    Thresholds,
    learned,
)
from bot.matching.decision import decide
from bot.matching.second_opinion import letter_grams

VARIANTS = [
    ("cost", "how much does a partnership cost"),
    ("cost", "is the partnership free or paid"),
    ("training", "do you support training courses for police"),
    ("training", "can we fund training for investigators"),
]
EXAMPLES = [
    ("cost", "partnership fees"),
    ("cost", "do we pay to join"),
    ("training", "we sponsor trainings"),
    ("training", "courses for officers"),
    ("", "what is the weather today"),
    ("", "who won the match"),
]
# No phrasing or example has these words, nor a spelling near enough to read them as one:
# only their letters tell what they are about.
RUN_TOGETHER = {"policetrainingsprogrammes?": "training", "partnershipfeez": "cost"}
SILENT = Thresholds(second_opinion_lead=99.0)  # the second opinion is never sure


def test_a_word_is_read_by_the_letter_runs_of_its_padded_form() -> None:
    assert letter_grams("بنك", (3, 4)) == [" بن", "بنك", "نك ", " بنك", "بنك "]
    assert letter_grams("a bc", (3,)) == [" a ", " bc", "bc "]


@pytest.mark.parametrize(("question", "entry"), RUN_TOGETHER.items())
def test_words_no_term_reads_are_answered_by_their_letters(question: str, entry: str) -> None:
    on = Matcher(VARIANTS, examples=EXAMPLES).match(question)
    off = Matcher(VARIANTS, examples=EXAMPLES, thresholds=SILENT).match(question)
    assert (off.outcome, off.entry_id) == ("fallback", None)
    assert (on.outcome, on.entry_id, on.by_second_opinion) == ("answer", entry, True)
    assert on.second_opinion is not None and on.second_opinion.values[0].entry_id == entry


def test_it_never_refuses_nor_answers_out_of_scope_for_the_matcher() -> None:
    result = Matcher(VARIANTS, examples=EXAMPLES).match("what is the weather in lyon")
    assert result.outcome == "fallback"
    assert result.second_opinion is not None
    assert result.second_opinion.values[0].entry_id == ""  # its "out of scope" comes first
    assert not result.by_second_opinion


def test_an_out_of_scope_cue_that_caps_its_entry_keeps_the_answer_back() -> None:
    cue = OutOfScopeCue(("refund",))
    question = "partnershipfeez refund"
    free = Matcher(VARIANTS, examples=EXAMPLES).match(question)
    held = Matcher(VARIANTS, examples=EXAMPLES, out_of_scope=[cue]).match(question)
    assert (free.outcome, free.entry_id) == ("answer", "cost")
    assert held.outcome != "answer"
    assert held.second_opinion is not None
    assert held.second_opinion.held == "an out-of-scope cue holds it"
    assert held.second_opinion.sure == "cost"


def test_the_honest_entry_of_every_cue_that_holds_it_is_still_answered() -> None:
    """As for the blend: a cue that offers the entry as its honest answer ("no fee is
    published") does not keep back a sure opinion; one cue that offers nothing does."""
    honest = OutOfScopeCue(("refund",), offer="cost")
    other = OutOfScopeCue(("ticket",))
    question = "partnershipfeez refund"
    offered = Matcher(VARIANTS, examples=EXAMPLES, out_of_scope=[honest]).match(question)
    assert (offered.outcome, offered.entry_id, offered.by_second_opinion) == (
        "answer",
        "cost",
        True,
    )
    both = Matcher(VARIANTS, examples=EXAMPLES, out_of_scope=[honest, other])
    held = both.match(question + " ticket")
    assert held.outcome != "answer"
    assert held.second_opinion is not None and held.second_opinion.held


def test_small_talk_is_not_answered_where_a_clause_asks_something() -> None:
    variants = [*VARIANTS, ("thanks", "thank you"), ("thanks", "thanks a lot")]
    examples = [*EXAMPLES, ("thanks", "many thanks"), ("thanks", "thank u so much")]
    matcher = Matcher(variants, examples=examples, small_talk={"thanks"})
    alone = matcher.match("thankyousomuchhh")
    assert (alone.entry_id, alone.by_second_opinion) == ("thanks", True)
    asking = matcher.match("thankyousomuchhh, what next?")
    assert asking.outcome == "fallback"
    assert asking.second_opinion is not None and asking.second_opinion.sure == "thanks"
    assert asking.second_opinion.held == "small talk, in a message that asks something"


def test_a_start_that_finds_the_models_kept_reads_no_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both models are kept under the matcher's inputs and the code that reads them: a
    start that finds them kept (every worker, each ``partnerbot ask``) reads no example
    and cuts no text into letter runs; another input, or changed code, reads them again
    (the cache only saves time)."""
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(learned, "_KEPT", OrderedDict())
    read: list[str] = []
    reading = Matcher.reading

    def counted(self: Matcher, text: str) -> str:
        read.append(text)
        return reading(self, text)

    monkeypatch.setattr(Matcher, "reading", counted)
    examples = {text for _, text in EXAMPLES}
    first = Matcher(VARIANTS, examples=EXAMPLES)
    assert examples <= set(read)
    read.clear()
    learned._KEPT.clear()  # a new process
    kept = Matcher(VARIANTS, examples=EXAMPLES)
    assert read == []
    for question in [*RUN_TOGETHER, "who pays for the courses"]:
        assert kept.match(question) == first.match(question)
    changes = [
        lambda: Matcher(VARIANTS, examples=[*EXAMPLES, ("cost", "any fee")]),
        lambda: Matcher(VARIANTS, examples=EXAMPLES, synonyms={"fee": "cost"}),
        lambda: Matcher(VARIANTS, examples=EXAMPLES, thresholds=Thresholds(answer=70.0)),
        lambda: Matcher(VARIANTS, examples=EXAMPLES, parameters=MatchParameters(clause_weight=0.3)),
    ]
    for change in changes:
        read.clear()
        learned._KEPT.clear()
        change()
        assert examples <= set(read)
    # The synonyms' order decides which of two readings of one word wins: another order
    # is another input.
    synonyms = {"fee": "cost", "charge": "cost", "fees": "training"}
    Matcher(VARIANTS, examples=EXAMPLES, synonyms=synonyms)
    read.clear()
    learned._KEPT.clear()
    Matcher(VARIANTS, examples=EXAMPLES, synonyms=dict(reversed(synonyms.items())))
    assert examples <= set(read)
    monkeypatch.setattr(matching, "READING_CODE", "the code, edited")
    read.clear()
    learned._KEPT.clear()
    Matcher(VARIANTS, examples=EXAMPLES)
    assert examples <= set(read)


def test_it_is_asked_only_when_the_matcher_would_not_answer() -> None:
    matcher = Matcher(VARIANTS, examples=EXAMPLES)
    answered = matcher.match("how much does a partnership cost")
    assert answered.outcome == "answer" and answered.second_opinion is None

    def never() -> Opinion:
        raise AssertionError("asked although the matcher answers")

    ranked = [Scored("cost", 90.0), Scored("training", 20.0)]
    result = decide("q", "en", ranked, (), (), Thresholds(), second_opinion=never)
    assert result.entry_id == "cost"
    opinion = Opinion((Scored("training", 0.5), Scored("", -0.5)), "training")
    unsure = [Scored("cost", 40.0), Scored("training", 38.0)]
    result = decide("q", "en", unsure, (), (), Thresholds(), second_opinion=lambda: opinion)
    assert (result.outcome, result.entry_id, result.suggestions) == ("answer", "training", ())


def test_a_base_too_large_for_the_learned_weights_has_no_second_opinion() -> None:
    small = MatchParameters(learned_max_entries=1)
    matcher = Matcher(VARIANTS, examples=EXAMPLES, parameters=small)
    assert matcher.second_opinion is None
    assert matcher.match("partnershipfeez").outcome == "fallback"


def test_kb_explain_says_the_second_opinion_answered_and_why() -> None:
    config = load_config()
    kb = load_knowledge_base(config.bot.knowledge_path)
    matcher = Matcher.from_knowledge_base(kb, config.matching.thresholds())
    # Tunisian dialect (from a read set, benchmarks/tuning/): "can you give me the list of
    # your current partners? we'd like to know who is with you".
    question = "تنجمو تعطيوني ليستة الشركاء الحاليين متاعكم؟ نحب نعرف شكون معاكم"
    result: MatchResult = matcher.match(question, "ar")
    assert (result.entry_id, result.by_second_opinion) == ("partner-list", True)
    text = format_explanation(explain(kb, matcher, question, "ar"))
    decision = [line for line in text.splitlines() if line.startswith("decision:")]
    assert decision == [f"decision: answer {result.entry_id}"]
    assert "but the second opinion (the words' letters) ranks" in text
    as_json = explain(kb, matcher, question, "ar").as_dict()["second_opinion"]
    assert as_json["sure"] == "partner-list" and as_json["held"] is None
    assert as_json["values"][0]["id"] == "partner-list"
    plain = explain(kb, matcher, "how can we second an expert to interpol?", "en")
    assert plain.as_dict()["second_opinion"] is None  # answered: never asked


def test_without_out_of_scope_examples_it_is_never_sure() -> None:
    in_scope = [pair for pair in EXAMPLES if pair[0]]
    result = Matcher(VARIANTS, examples=in_scope).match("partnershipfeez")
    assert result.second_opinion is not None
    assert result.second_opinion.values[0].entry_id == "cost"
    assert (result.outcome, result.second_opinion.sure) == ("fallback", None)
