"""Learned term weights (bot/matching/learned.py) and the examples they learn from."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.disk_cache import fingerprint
from bot.knowledge import KnowledgeBaseError, load_knowledge_base
from bot.matching import Matcher, MatchParameters, Thresholds, learned
from bot.matching.decision import sure
from bot.matching.learned import TermModel
from bot.matching.second_opinion import letter_grams
from bot.normalize import fold

ROOT = Path(__file__).resolve().parent.parent


def test_the_model_learns_which_terms_speak_for_an_entry() -> None:
    model = TermModel.train(
        [
            ("sectors", ["bank", "sector"]),
            ("sectors", ["which", "sector"]),
            ("secondment", ["send", "analyst"]),
            ("secondment", ["bank", "analyst", "send"]),
        ],
        c=1.0,
    )
    scores = model.scores(["bank", "analyst"])
    # "bank" is in both entries' documents; "analyst" only in secondment's.
    assert scores["secondment"] > 0 > scores["sectors"]
    assert model.weight("secondment", "analyst") > 0 > model.weight("sectors", "analyst")
    # An unknown term says nothing: only the bias is left, the same for any such question.
    assert model.scores(["zebra"]) == model.scores([])


def test_the_same_documents_give_the_same_model() -> None:
    docs = [("a", ["x", "y"]), ("b", ["y", "z"]), ("a", ["x"]), ("b", ["z", "z"])]
    first = TermModel.train(tuple((e, tuple(t)) for e, t in docs), 1.0)
    second = TermModel.train(tuple((e, tuple(t)) for e, t in reversed(docs)), 1.0)
    assert first.scores(["x", "z"]) == pytest.approx(second.scores(["x", "z"]), abs=0.02)


VARIANTS = [
    ("sectors", "which sectors do you work with, banks or telecoms"),
    ("sectors", "do you partner with banks"),
    ("secondment", "can we second an expert to you"),
    ("secondment", "send a specialist to your team"),
]
EXAMPLES = [
    ("secondment", "one of our analysts could join your team"),
    ("secondment", "an analyst of ours working with you for some months"),
    ("secondment", "our analyst wants to work with your investigators"),
    ("sectors", "is a bank the kind of company you work with"),
]


def test_examples_teach_the_matcher_what_a_question_is_about() -> None:
    """The fuzzy scores count "bank" and "work with" for the sectors entry; examples of
    secondment questions teach that an analyst joining the team is about secondment."""
    question = "our bank analyst would like to work with your team for a while"
    fuzzy = Matcher(VARIANTS).match(question)
    learned = Matcher(VARIANTS, examples=EXAMPLES).match(question)
    assert fuzzy.ranked[0].entry_id == "sectors"
    assert learned.ranked[0].entry_id == "secondment"
    assert learned.lead is not None and fuzzy.lead is None


def test_a_choice_the_model_is_sure_of_is_answered_below_the_fuzzy_bar() -> None:
    """The fuzzy scores only offer secondment (below the answer threshold); the model,
    taught by examples that an analyst joining the team is secondment, answers it. Out-of-
    scope examples with the same words make it unsure, and it is offered again."""
    question = "our analyst joining your team"
    fuzzy = Matcher(VARIANTS).match(question)
    assert fuzzy.outcome == "suggest" and fuzzy.suggestions == ("secondment",)
    assert fuzzy.ranked[0].score < Matcher(VARIANTS).thresholds.answer
    examples = [*EXAMPLES, ("", "what is the weather in lyon")]
    learned = Matcher(VARIANTS, examples=examples).match(question)
    assert (learned.outcome, learned.entry_id) == ("answer", "secondment")
    doubt = [("", "our analyst is joining a new team"), ("", "can i join your team as an analyst")]
    unsure = Matcher(VARIANTS, examples=[*examples, *doubt]).match(question)
    assert unsure.outcome == "suggest" and unsure.suggestions == ("secondment",)


def test_the_model_is_sure_only_of_an_entry_it_takes_the_question_for() -> None:
    """Sure: a value above ``learned_sure_value`` (just below 0) and a finite lead of at
    least ``learned_sure_lead``. A lone candidate of a model without "out of scope" leads
    by infinity, against nothing."""
    t = Thresholds()
    assert sure(t.learned_sure_lead, 0.1, t) and sure(t.learned_sure_lead, -0.19, t)
    assert not sure(t.learned_sure_lead - 0.01, 0.1, t)
    assert not sure(5.0, -0.2, t) and not sure(5.0, -0.5, t)
    assert not sure(math.inf, 0.9, t)
    # Without an out-of-scope example, the lone candidate stays a choice.
    alone = Matcher(VARIANTS, examples=EXAMPLES).match("our analyst joining your team")
    assert alone.lead == math.inf and alone.outcome == "suggest"


def test_words_the_model_never_saw_weaken_what_it_says() -> None:
    """A question is as long as all its words: "crowdstrike stock price" says less about
    the cost of a partnership than "price" alone."""
    model = TermModel.train(
        [("cost", ["price", "partnership"]), ("cost", ["price"]), ("other", ["team"])], c=1.0
    )
    bias = model.scores([])["cost"]
    alone = model.scores(["price"])["cost"]
    diluted = model.scores(["price"], unknown=["crowdstrike", "stock"])["cost"]
    assert alone > diluted > bias
    # A repeated unknown word counts as a repeated known one does: 1 + ln 2 times once.
    once = model.scores(["price"], unknown=["stock"])["cost"] - bias
    twice = model.scores(["price"], unknown=["stock", "stock"])["cost"] - bias
    idf = max(model._idf.values())
    price = model._idf["price"]
    ratio = math.sqrt(price**2 + idf**2) / math.sqrt(price**2 + (1 + math.log(2)) ** 2 * idf**2)
    assert twice == pytest.approx(once * ratio)
    assert model.scores([], unknown=["stock"]) == model.scores([])


def test_an_out_of_scope_example_holds_back_an_answer_only_the_model_would_give() -> None:
    """Where the fuzzy scores alone would not answer (two entries close), the blend may;
    examples the base must not answer ("" in the model) hold such questions back."""
    variants = [
        ("secondment", "send an expert to work at your office"),
        ("staff", "how many staff work at your office"),
    ]
    question = "how many experts work at your office"
    answered = Matcher(variants, examples=[("secondment", "our expert could work at your office")])
    held = Matcher(
        variants,
        examples=[
            ("secondment", "our expert could work at your office"),
            ("", "how many experts work at your office each year"),
            ("", "how many people work at your office"),
        ],
    )
    assert answered.match(question).outcome == "answer"
    result = held.match(question)
    assert result.outcome != "answer"
    assert dict(result.learned)[""] > dict(result.learned)["secondment"]


def test_the_shipped_base_learns_from_its_examples_folder() -> None:
    kb = load_knowledge_base()
    assert len(kb.examples) > 1000
    assert {e for e, _ in kb.examples} - {""} <= set(kb.entries)
    assert Matcher.from_knowledge_base(kb).model is not None
    assert Matcher.from_knowledge_base(kb, learned=False).model is None


def test_kb_check_names_an_example_of_an_unknown_entry(tmp_path: Path) -> None:
    (tmp_path / "entries.yaml").write_text(
        "- id: hello\n  title: {en: Hello, ar: مرحبا}\n"
        "  questions: {en: [hello, hi, hey, good morning], ar: [مرحبا, أهلا, هلا, صباح الخير]}\n"
        "  answer: {en: Hi, ar: أهلا}\n",
        encoding="utf-8",
    )
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "mine.yaml").write_text(
        '- {q: "hi there", lang: en, expect: [hello]}\n'
        '- {q: "good day", lang: en, expect: [helo]}\n'
        '- {q: "", lang: en, expect: []}\n',
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(tmp_path)
    found = [str(p) for p in caught.value.problems]
    assert len(found) == 2, found
    assert any("mine.yaml:2" in p and "no entry helo" in p for p in found), found
    assert any("mine.yaml:3" in p and "'q'" in p for p in found), found


def test_a_base_too_large_to_train_is_matched_by_the_fuzzy_scores_alone() -> None:
    limit = MatchParameters().learned_max_entries
    variants = [(f"entry-{i}", f"topic{i} question") for i in range(limit + 1)]
    assert Matcher(variants, examples=[]).model is None
    assert Matcher(variants[:limit], examples=[]).model is not None


def _stored(docs: tuple[tuple[str, tuple[str, ...]], ...], c: float) -> TermModel:
    """The model of ``docs`` kept on disk, as ``train_for`` keeps a matcher's."""
    return learned._stored_or_fitted(["test", c, fingerprint(docs)], lambda: docs, c)


def test_a_trained_model_is_kept_on_disk_for_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    docs = (("a", ("x", "y")), ("b", ("z",)), ("a", ("x",)))
    fitted = TermModel.train(docs, 1.0).scores(["x"])
    train = _stored  # as every new process: no memory but the disk
    assert train(docs, 1.0).scores(["x"]) == fitted
    [stored] = tmp_path.glob("learned-*.json")
    # The next process reads the file, not a new training: a changed file shows.
    value = json.loads(stored.read_text())
    bias = learned._doubles(value["bias"])
    bias[value["entries"].index("a")] += 1.0
    value["bias"] = learned._b64(bias)
    stored.write_text(json.dumps(value))
    assert train(docs, 1.0).scores(["x"])["a"] == pytest.approx(fitted["a"] + 1.0)
    # Other documents, another file; a broken file is trained again and replaced.
    assert train(docs[:2], 1.0) is not None and len(list(tmp_path.glob("*.json"))) == 2
    stored.write_text("{broken")
    assert train(docs, 1.0).scores(["x"]) == fitted
    assert json.loads(stored.read_text())["entries"] == ["a", "b"]
    # No cache at all: trained every time, nothing written.
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", "")
    assert train(docs, 0.5).scores(["x"]) and len(list(tmp_path.glob("*.json"))) == 2


def test_an_entry_a_cue_holds_is_answered_only_as_that_cues_honest_entry() -> None:
    """A cue caps an entry so that it is offered, not answered; the blend may rank such an
    entry first, below or at the cap, and must still not answer it, unless it is the
    entry that every cue holding it offers for its kind of request."""
    kb = load_knowledge_base()
    matcher = Matcher.from_knowledge_base(kb)
    cap = matcher.thresholds.cue_cap
    capped_first = 0
    for entry in kb.entries.values():
        for phrasing in entry.questions["en"]:
            text = f"{phrasing} weather"  # "weather": a cue that offers nothing
            result = matcher.match(text)
            capped_first += bool(result.ranked) and result.ranked[0].score == cap
            if result.outcome == "answer":
                assert result.score != cap, text
                assert matcher.hold(text, result.entry_id) == "free", text
    assert capped_first  # the case is met, not only imagined
    # The dates cue offers event-dates, but the price cue holds it too; "expensive" holds
    # why-partnerships below the cap.
    for text in ("price of the next conference", "why is interpol so expensive"):
        assert matcher.match(text).outcome != "answer", text


def test_a_cues_honest_entry_is_answered_when_the_model_is_sure() -> None:
    """The e-mail cue offers contact-details ("no address is published"): asked for the
    partnerships team's address, the bot answers it; with a ticket price asked too (a cue
    that offers nothing), or for anyone else's address, it only offers it."""
    matcher = Matcher.from_knowledge_base(load_knowledge_base())
    asked = "could you send me the partnership team's e-mail"
    result = matcher.match(asked)
    assert (result.outcome, result.entry_id, result.score) == ("answer", "contact-details", 45.0)
    assert matcher.hold(asked, "contact-details") == "honest"
    both = "could you send me the partnership team's e-mail and the ticket price"
    assert matcher.hold(both, "contact-details") == "held"
    assert matcher.match(both).outcome == "suggest"
    assert matcher.match(both).suggestions[0] == "contact-details"
    other = matcher.match("what is the email of the interpol secretary general")
    assert other.outcome != "answer"
    # The prices cue offers the cost of a partnership: a fee to join is answered with it, a
    # course's fee is offered it.
    assert matcher.match("how much is the fee to join").entry_id == "partnership-cost"
    course = matcher.match("how much is the fee for a cybersecurity course")
    assert course.outcome == "suggest" and course.suggestions[0] == "partnership-cost"


def test_the_matcher_counts_the_words_the_model_never_saw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Words the model does not know dilute its values (``TermModel.scores``): the
    matcher must hand a short message's over, or a topic word among strangers reads as
    sure."""
    examples = [*EXAMPLES, ("", "what is the weather in lyon")]
    matcher = Matcher(VARIANTS, examples=examples)
    question = "our analyst joining your team"
    padded = f"{question} zorblax quuxing flimflam"
    seen: list[tuple[str, ...]] = []
    scores = TermModel.scores

    def spy(self: TermModel, terms: Sequence[str], unknown: Sequence[str] = ()) -> dict:
        seen.append(tuple(unknown))
        return scores(self, terms, unknown)

    monkeypatch.setattr(TermModel, "scores", spy)
    plain = dict(matcher.match(question).learned)["secondment"]
    diluted = dict(matcher.match(padded).learned)["secondment"]
    assert seen == [(), ("zorblax", "quuxing", "flimflam")]
    assert plain > diluted > 0


def test_a_long_messages_unknown_words_are_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a long message, the words the model never saw outside the clause that asks are
    its context (a city, a firm, a job title), not its subject: they do not dilute the
    model's values. Those of the question itself still do."""
    examples = [*EXAMPLES, ("", "what is the weather in lyon")]
    matcher = Matcher(VARIANTS, examples=examples)
    context = "our bank in zorblax has quuxing flimflam staff and grows every year"
    bare = "our bank in has staff and grows every year"  # without the three strangers
    question = "could our analyst join your team for some months?"
    seen: list[tuple[str, ...]] = []
    scores = TermModel.scores

    def spy(self: TermModel, terms: Sequence[str], unknown: Sequence[str] = ()) -> dict:
        seen.append(tuple(w for w in unknown if w in ("zorblax", "quuxing", "flimflam", "blorp")))
        return scores(self, terms, unknown)

    monkeypatch.setattr(TermModel, "scores", spy)
    assert matcher.is_long_message(f"{context}. {question}")
    padded = dict(matcher.match(f"{context}. {question}").learned)["secondment"]
    plain = dict(matcher.match(f"{bare}. {question}").learned)["secondment"]
    assert seen == [(), ()] and padded == plain
    # A stranger in the question clause is the question's, and still weakens the model.
    strange = dict(matcher.match(f"{context}. could our blorp analyst join your team?").learned)
    usual = dict(matcher.match(f"{context}. could our analyst join your team?").learned)
    assert seen[-2:] == [("blorp",), ()]
    assert strange["secondment"] < usual["secondment"]
    # The same words in a short message still weaken what the model says.
    short = dict(matcher.match("zorblax analyst join your team").learned)["secondment"]
    assert seen[-1] == ("zorblax",)
    assert short < dict(matcher.match("analyst join your team").learned)["secondment"]


def test_a_model_kept_under_its_source_is_read_without_making_its_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``train_for``: a model is kept under what its documents are made from (a matcher's
    inputs); a start that finds it kept never makes them, and another source that makes
    the same documents reads the model without training it."""
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(learned, "_KEPT", OrderedDict())
    made: list[str] = []
    fitted: list[float] = []
    fit = learned._fit_weights

    def counted_fit(documents: Sequence[tuple[str, Sequence[str]]], c: float) -> object:
        fitted.append(c)
        return fit(documents, c)

    monkeypatch.setattr(learned, "_fit_weights", counted_fit)

    def documents(name: str, extra: tuple[str, ...] = ()) -> list[tuple[str, list[str]]]:
        made.append(name)
        return [("a", ["x", "y", *extra]), ("b", ["z"]), ("a", ["x"])]

    first = TermModel.train_for(("inputs", 1), lambda: documents("first"), 1.0)
    again = TermModel.train_for(("inputs", 1), lambda: documents("again"), 1.0)
    assert again is first and made == ["first"]  # the process's own memory
    learned._KEPT.clear()  # as a new process: read from disk
    stored = TermModel.train_for(("inputs", 1), lambda: documents("stored"), 1.0)
    assert stored.scores(["x"]) == first.scores(["x"]) and made == ["first"]
    assert fitted == [1.0]
    # Other inputs that make the same documents: made, not trained.
    same = TermModel.train_for(("inputs", 2), lambda: documents("same"), 1.0)
    assert same.scores(["x"]) == first.scores(["x"]) and fitted == [1.0]
    # Other documents, or another fit, are trained.
    TermModel.train_for(("inputs", 3), lambda: documents("other", ("w",)), 1.0)
    TermModel.train_for(("inputs", 1), lambda: documents("fit"), 0.5)
    assert made == ["first", "same", "other", "fit"] and fitted == [1.0, 1.0, 0.5]
    # On disk: which documents each of the three sources makes, and the three models.
    assert len(list(tmp_path.glob("*.json"))) == 6


def test_a_damaged_note_of_a_source_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(learned, "_KEPT", OrderedDict())
    docs = [("a", ["x", "y"]), ("b", ["z"])]
    fitted = TermModel.train_for("source", lambda: docs, 1.0).scores(["x"])
    notes = [f for f in tmp_path.glob("*.json") if "documents" in json.loads(f.read_text())]
    [note] = notes
    for damage in ("{broken", json.dumps({"documents": 7}), json.dumps({"other": "x"})):
        note.write_text(damage)
        learned._KEPT.clear()
        assert TermModel.train_for("source", lambda: docs, 1.0).scores(["x"]) == fitted
        assert isinstance(json.loads(note.read_text())["documents"], str)


def test_a_damaged_cached_model_is_trained_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    docs = (("a", ("x", "y")), ("b", ("z",)))
    fitted = TermModel.train(docs, 1.0).scores(["x"])
    train = _stored
    train(docs, 1.0)
    [stored] = tmp_path.glob("learned-*.json")
    good = json.loads(stored.read_text())
    damages = [
        {"weights": {}},
        {**good, "rows": good["rows"][:-12]},  # a number short
        {**good, "rows": "not base64!"},
        {**good, "terms": good["terms"][:-1]},
        {**good, "entries": [*good["entries"], "c"]},
        {**good, "byteorder": "big" if good["byteorder"] == "little" else "little"},
    ]
    for damage in damages:
        stored.write_text(json.dumps(damage))
        assert train(docs, 1.0).scores(["x"]) == fitted
        assert json.loads(stored.read_text()) == good


def test_a_model_read_back_scores_bit_for_bit_as_the_one_fitted() -> None:
    """``packed`` and ``unpacked``, through JSON, on a model of the size the second
    opinion trains (the shipped phrasings by their letter runs)."""
    kb = load_knowledge_base(ROOT / "knowledge")
    documents = tuple(
        (e.id, tuple(letter_grams(fold(v), (3,))))
        for e in kb.entries.values()
        for v in e.variants()
    )
    fitted = TermModel.train(documents, 1.0)
    again = TermModel.unpacked(json.loads(json.dumps(fitted.packed())))
    terms = list(fitted._rows)
    assert len(terms) > 1000 and again._unknown_idf == fitted._unknown_idf
    for question in (terms[:3], terms[5:400:3], terms[-2:] * 2, []):
        assert again.scores(question, ["zz"]) == fitted.scores(question, ["zz"])


FIRM = (
    "Hello, I work for a mid-sized payments company in Nairobi with offices in Lagos and "
    "Accra, and our team handles fraud monitoring. "
)
FIRM_AR = (
    "مرحبا، أنا أعمل في شركة مدفوعات متوسطة الحجم في الدار البيضاء ولدينا مكاتب في تونس "
    "والجزائر وفريقنا يتابع الاحتيال. "
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            FIRM + "whats the point of interpol teaming up w private firms anyway?",
            "why-partnerships",
        ),
        (FIRM + "which companies are already working with you?", "partner-list"),
        (FIRM_AR + "هل تتعاونون مع الجامعات؟", "partner-sectors"),
    ],
)
def test_the_model_weighs_what_a_long_message_asks_over_its_context(
    message: str, expected: str
) -> None:
    """Examples that introduce a firm mostly ask how to contribute, so the model reads a
    firm's introduction as that question; it reads a long message's question clause twice,
    on its own too, as it was trained, and the question wins over the introduction."""
    result = Matcher.from_knowledge_base(load_knowledge_base()).match(message)
    assert result.entry_id in (None, expected)
    assert (result.entry_id or result.suggestions[0]) == expected
