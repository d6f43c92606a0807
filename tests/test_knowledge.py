"""Knowledge-base loading and validation: each mistake a maintainer can make is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot.normalize import fold

REQUIRED_IDS = {
    "why-partnerships", "how-to-contribute", "partnership-options", "partner-sectors",
    "information-sharing", "expert-secondment", "intelligence-analysis", "training-support",
    "other-support", "global-expert-group", "regional-working-groups", "mena-working-group",
    "africa-working-group", "americas-working-group", "interpol-europol-conference",
    "report-cybercrime", "greeting", "thanks",
}  # fmt: skip

GOOD = """\
- id: alpha
  title: {en: Alpha, ar: ألفا}
  questions:
    en: [what is alpha, tell me about alpha, alpha please, explain alpha]
    ar: [ما هو ألفا, أخبرني عن ألفا, ألفا من فضلك, اشرح ألفا]
  answer: {en: Alpha is first., ar: ألفا هو الأول.}
  related: [beta]
- id: beta
  title: {en: Beta, ar: بيتا}
  questions:
    en: [what is beta, tell me about beta, beta please, explain beta]
    ar: [ما هو بيتا, أخبرني عن بيتا, بيتا من فضلك, اشرح بيتا]
  answer: {en: Beta is second., ar: بيتا هو الثاني.}
"""


def write(tmp_path: Path, text: str, name: str = "kb.yaml") -> Path:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_shipped_knowledge_base_is_valid_and_complete(kb: KnowledgeBase) -> None:
    assert set(kb.entries) >= REQUIRED_IDS
    for entry in kb.entries.values():
        for lang in ("en", "ar"):
            assert len(entry.questions[lang]) >= 4, entry.id
            assert entry.answer[lang].strip(), entry.id
            assert len(entry.answer[lang]) < 3500, entry.id
    assert kb.intents["apply"]["en"] and kb.intents["apply"]["ar"]


def test_report_cybercrime_points_victims_to_the_police(kb: KnowledgeBase) -> None:
    assert "police" in kb["report-cybercrime"].answer["en"].lower()
    assert "الشرطة" in kb["report-cybercrime"].answer["ar"]


def test_good_file_loads(tmp_path: Path) -> None:
    kb = load_knowledge_base(write(tmp_path, GOOD))
    assert list(kb.entries) == ["alpha", "beta"]
    assert kb["alpha"].related == ("beta",)


def test_unknown_related_id_names_file_line_entry_and_field(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("related: [beta]", "related: [gamma]"))
    assert len(found) == 1
    assert found[0].endswith("kb.yaml:1: entry 'alpha', field 'related': unknown id 'gamma'")


def test_duplicate_id(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("id: beta", "id: alpha").replace("related: [beta]", ""))
    assert any("entry 'alpha', field 'id': duplicate id" in p and "kb.yaml:8" in p for p in found)


def test_missing_language(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  answer: {en: Beta is second., ar: بيتا هو الثاني.}", "  answer: {en: Beta.}"
    )
    found = problems(tmp_path, text)
    assert found == [
        f"{tmp_path / 'kb.yaml'}:8: entry 'beta', field 'answer': missing language 'ar'"
    ]


def test_empty_answer(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("ar: ألفا هو الأول.", 'ar: "  "'))
    assert any("entry 'alpha', field 'answer.ar': is empty" in p for p in found)


def test_duplicate_question_across_entries(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("beta please", "ALPHA  Please"))
    assert any(
        "entry 'beta', field 'questions'" in p and "also a variant of entry 'alpha'" in p
        for p in found
    )


def test_an_invitation_needs_both_languages(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  answer: {en: Alpha is first., ar: ألفا هو الأول.}\n",
        "  answer: {en: Alpha is first., ar: ألفا هو الأول.}\n  invite: {en: Tap Become a partner.}\n",
    )
    [problem] = problems(tmp_path, text)
    assert "entry 'alpha', field 'invite': needs both 'en' and 'ar'" in problem


def test_too_few_questions_and_unknown_field(tmp_path: Path) -> None:
    text = GOOD.replace(", explain alpha]", "]").replace("  related: [beta]", "  relatd: [beta]")
    found = problems(tmp_path, text)
    assert any("field 'questions.en': has 3 phrasings; write at least 4" in p for p in found)
    assert any("field 'relatd': unknown field" in p for p in found)


def test_yaml_syntax_error_reports_line(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD + "- id: [unclosed\n")
    assert len(found) == 1 and ":15: file: cannot read" in found[0]


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    text = GOOD.replace("related: [beta]", "related: [nope]").replace(
        "ar: بيتا هو الثاني.", "ar: ''"
    )
    assert len(problems(tmp_path, text)) == 2


def test_victim_hint_is_a_validated_flag(tmp_path: Path) -> None:
    flagged = GOOD.replace("  related: [beta]", "  related: [beta]\n  victim_hint: true")
    kb = load_knowledge_base(write(tmp_path, flagged))
    assert (kb["alpha"].victim_hint, kb["beta"].victim_hint) == (True, False)
    found = problems(tmp_path, GOOD.replace("  related: [beta]", "  victim_hint: sometimes"))
    assert any("field 'victim_hint': must be true or false" in p for p in found)


def test_shipped_lexicon_is_content_not_code(kb: KnowledgeBase) -> None:
    """Stop words, shorthand, compounds and idioms come from knowledge/*.yaml, folded."""
    assert kb.lexicon is not None
    assert "لماذا" in kb.lexicon.weak_words and "what" in kb.lexicon.stop_words
    assert kb.lexicon.shorthand["cn"] == ("can",)
    assert kb.lexicon.shorthand["wg"] == ("workinggroup",)  # shorthand for a compound
    assert kb.lexicon.compounds[("in", "kind")] == "inkind"
    assert kb.lexicon.idioms[("lend", "a", "hand")] == "help"
    assert "شيء" not in kb.lexicon.stop_words and "شي" in kb.lexicon.stop_words  # folded
    # "register a company" rewritten as a phrase was a rule shaped like one question
    assert ("register", "a", "company") not in kb.lexicon.idioms


def test_every_entry_has_as_many_arabic_phrasings_as_english(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        for field_name in ("questions", "keywords"):
            texts = getattr(entry, field_name)
            assert len(texts.get("ar", ())) >= len(texts.get("en", ())), (entry.id, field_name)


def test_a_word_in_two_synonym_groups_names_both(tmp_path: Path) -> None:
    write(tmp_path, "groups:\n  - [alpha, first]\n  - [beta, second, first]\n", "synonyms.yaml")
    found = problems(tmp_path, GOOD)
    assert found == [
        f"{tmp_path / 'synonyms.yaml'}:3: file, field 'groups': "
        "'first' is in two groups: 'alpha' (line 2) and 'beta'"
    ]


def test_a_synonym_that_is_a_stop_word_or_a_cue_of_another_meaning(tmp_path: Path) -> None:
    write(tmp_path, "groups:\n  - [alpha, what, officer]\n", "synonyms.yaml")
    write(tmp_path, "cues:\n  - words: [officer, job]\n", "out_of_scope.yaml")
    found = problems(tmp_path, GOOD)
    assert any("'what' is also a stop word" in p for p in found)
    assert any(
        "synonyms.yaml:2" in p
        and "'officer' (a synonym of 'alpha') is also an out-of-scope cue without 'unless'" in p
        and "out_of_scope.yaml:2" in p
        for p in found
    )


def test_a_phrasing_with_no_word_left_and_an_idiom_that_is_a_question(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parent.parent / "knowledge"
    for name in ("stop_words.yaml", "phrases.yaml"):
        text = (shipped / name).read_text(encoding="utf-8")
        if name == "phrases.yaml":
            text = text.replace("idioms:\n", 'idioms:\n  "alpha please": "help"\n', 1)
        (tmp_path / name).write_text(text, encoding="utf-8")
    found = problems(tmp_path, GOOD.replace("explain beta]", "explain beta, what is it]"))
    assert any("'what is it' has no word left to match" in p for p in found)
    assert any("'alpha please' is a whole phrasing of entry 'alpha'" in p for p in found)


def test_cue_offer_must_name_an_entry(tmp_path: Path) -> None:
    write(tmp_path, "cues:\n  - words: [date]\n    offer: gamma\n", "out_of_scope.yaml")
    found = problems(tmp_path, GOOD)
    assert found == [
        f"{tmp_path / 'out_of_scope.yaml'}:2: file, field 'offer': unknown entry id 'gamma'"
    ]


def test_cue_asked_must_be_true_or_false(tmp_path: Path) -> None:
    write(tmp_path, "cues:\n  - words: [head]\n    asked: yes please\n", "out_of_scope.yaml")
    [problem] = problems(tmp_path, GOOD)
    assert problem.startswith(f"{tmp_path / 'out_of_scope.yaml'}:2:")
    assert "'asked': true or false" in problem


def test_cue_hint_must_be_a_line_the_fallback_has(tmp_path: Path) -> None:
    write(tmp_path, "cues:\n  - words: [visa]\n    hint: embassy\n", "out_of_scope.yaml")
    [problem] = problems(tmp_path, GOOD)
    assert problem.startswith(f"{tmp_path / 'out_of_scope.yaml'}:2:")
    assert "'hint': one of personal" in problem


def test_a_name_made_a_synonym_of_a_common_word_is_reported(tmp_path: Path) -> None:
    """'Lyon' in the group of 'premises' made "what is Lyon famous for" a premises question."""
    answers = GOOD.replace(
        "answer: {en: Alpha is first.",
        "answer: {en: Alpha experts work on our premises in Lyon and Singapore.",
    )
    write(tmp_path, "groups:\n  - [premises, lyon]\n  - [singapore, سنغافورة]\n", "synonyms.yaml")
    found = problems(tmp_path, answers)
    assert found == [
        f"{tmp_path / 'synonyms.yaml'}:2: file, field 'groups': 'lyon' is a name (written "
        "capitalised in the answers) in the group of the common word 'premises': a name "
        "should only join other names for the same thing"
    ]  # a name with its Arabic spelling is one name: not reported


def test_question_openers_are_checked_with_their_line(tmp_path: Path) -> None:
    """A question opener of one word, listed twice, or that is also an idiom is reported."""
    write(
        tmp_path,
        'idioms:\n  "lend a hand": "help"\n'
        "question_openers:\n"
        "  en:\n"
        '    - ["i need to know", wondering]\n'
        '    - ["I need to know", "lend a hand"]\n',
        "phrases.yaml",
    )
    found = problems(tmp_path, GOOD)
    where = f"{tmp_path / 'phrases.yaml'}"
    assert any(
        p.startswith(f"{where}:5:") and "'wondering' must have two words" in p for p in found
    )
    assert any(
        p.startswith(f"{where}:6:") and "'I need to know' is listed twice" in p for p in found
    )
    assert any(p.startswith(f"{where}:6:") and "'lend a hand' is also an idiom" in p for p in found)


def test_letter_phrases_are_checked_with_their_line(tmp_path: Path) -> None:
    """A salutation or sign-off listed twice (once folded), or that is both, is reported."""
    write(
        tmp_path,
        "letter_openings:\n"
        "  en: [dear, best regards]\n"
        "  ar: [الإخوة, الأخوة]\n"
        "letter_closings:\n"
        "  en: [best regards]\n",
        "phrases.yaml",
    )
    found = problems(tmp_path, GOOD)
    where = f"{tmp_path / 'phrases.yaml'}"
    assert any(p.startswith(f"{where}:3:") and "'الأخوة' is listed twice" in p for p in found)
    assert any("'best regards' is also a letter opening" in p for p in found)


def test_shipped_question_openers_are_folded_phrases(kb: KnowledgeBase) -> None:
    openers = kb.lexicon.question_openers
    assert ("i", "need", "to", "know") in openers
    assert ("حاب", "اعرف") in openers
    assert all(len(o) >= 2 and o == tuple(fold(" ".join(o)).split()) for o in openers)
