"""``partnerbot kb explain`` and ``kb test``: the maintainers' view of the matcher."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.kb_tools import load_questions, run_questions
from bot.knowledge import load_knowledge_base
from bot.matching import Matcher
from bot.matching.clauses import message_clauses, told_words
from bot.normalize import words

ROOT = Path(__file__).resolve().parent.parent
OUR_SET = ROOT / "tests" / "data" / "questions.yaml"


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a folder without config.yaml: the built-in defaults and the shipped base."""
    monkeypatch.chdir(tmp_path)


def explain(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["kb", "explain", *args]) == 0
    return capsys.readouterr().out


def test_explain_salary_question_shows_stems_the_cue_and_the_decision(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(capsys, "what is the salary of a seconded expert?")
    assert "folded:   what is the salary of a seconded expert" in out
    assert "seconded: stem second" in out  # the stem
    assert "salary: stem salary | unknown word" in out
    assert '"salary" (cue ' in out and "FIRED" in out
    assert "1. expert-secondment" in out and '[capped at 45 by "salary"]' in out
    assert "thresholds: answer 55, suggest 35, margin 4" in out
    decision = next(line for line in out.splitlines() if line.startswith("decision:"))
    assert decision == "decision: did you mean: expert-secondment (out of scope)"
    assert 'out of scope: the cue "salary" capped the top score at 45' in out
    assert "best fuzzy score 45.0 < answer 55" in out


def test_explain_arabic_shows_deep_stems_synonyms_and_the_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(capsys, "ممكن نعمل ورش تدريب لضباطكم؟")
    assert "language: ar (detected)" in out
    # ل + ضباط + كم: the clitics come off because ضباط is a word of the base
    assert "لضباطكم: stem لضباط (clitics off: ضباط) -> polic (synonym) | in the vocabulary" in out
    assert "synonyms: ورش -> train, تدريب -> train" in out
    assert "(same term as تدريب: counted once)" in out
    assert "decision: answer training-support" in out
    assert ">= answer 55" in out and ">= margin 4" in out
    assert "دعم التدريب" in out  # titles in the question's language


def test_explain_arabic_salary_cue_and_a_lifted_cue(capsys: pytest.CaptureFixture[str]) -> None:
    out = explain(capsys, "كم راتب الخبير المعار؟")
    assert (
        '"راتب" (cue ' in out and "decision: did you mean: expert-secondment (out of scope)" in out
    )
    out = explain(capsys, "is there a fee to become a partner?")
    assert '"fee" (cue 1: ' in out and "lifted by partner" in out
    assert "decision: answer partnership-cost" in out
    assert "synonyms: fee -> pric" in out


def test_explain_idioms_typos_and_a_question_of_stop_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(capsys, "can we lend a hand with traning?")
    assert 'idioms:   "lend a hand" read as "help"' in out
    assert "traning: stem tran | near spelling of train" in out
    out = explain(capsys, "what is it?")
    assert "decision: fallback" in out and "no content word" in out


def test_explain_json_and_given_language(capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(explain(capsys, "--json", "--lang", "ar", "price of gold"))
    assert data["lang"] == "ar" and data["lang_source"] == "given"
    assert data["outcome"] in ("fallback", "suggest") and data["id"] is None
    assert data["thresholds"] == {
        "answer": 55.0,
        "suggest": 35.0,
        "margin": 4.0,
        "long_margin": 8.0,
    }
    assert [c["word"] for c in data["cues"]] == ["price"] and data["cues"][0]["active"]
    assert len(data["top"]) <= 5


def test_explain_shows_a_letter_read_without_its_salutation_and_signature(
    capsys: pytest.CaptureFixture[str],
) -> None:
    letter = "Dear team,\nHow can a bank join your work?\nBest regards,\nOmar Haddad, Amman"
    out = explain(capsys, letter)
    assert "letter:   read without its salutation and sign-off: How can a bank join" in out
    assert "read as:" not in out  # no Arabizi here
    assert "amman" not in out.split("folded:")[1].split("\n")[0]
    data = json.loads(explain(capsys, "--json", letter))
    assert data["letter"] == "How can a bank join your work?" and data["reading"] is None
    assert json.loads(explain(capsys, "--json", "How can a bank join?"))["letter"] is None


def test_cue_hits_agree_with_the_cap_the_matcher_applies() -> None:
    """``Matcher.cue_hits`` (explain) mirrors ``Cues.caps`` (scoring)."""
    kb = load_knowledge_base()
    matcher = Matcher.from_knowledge_base(kb)
    index = {entry_id: i for i, entry_id in enumerate(matcher.index.entry_ids)}
    items = yaml.safe_load(OUR_SET.read_text(encoding="utf-8"))
    # and cue words said only about the sender, which only an 'asked' cue lets go
    items += [
        {"q": "I'm head of HR at a bank. How can we share threat data?"},
        {"q": "إحنا شركة ليها فرع في المكسيك. فريق الأمريكتين طلع بإيه من اجتماعه؟"},
    ]
    fired = said_by_sender = 0
    for item in items:
        read = matcher.reading(item["q"])
        found = words(read)
        told = told_words(message_clauses(read, matcher.lexicon), matcher.lexicon)
        hits = matcher.cue_hits(item["q"])
        expected = [
            frozenset(index[e] for e in hit.spared)
            for hit in hits
            if not hit.lifted_by and not hit.told
        ]
        assert expected == [spared for _, spared in matcher.cues.caps(found, told)], item["q"]
        fired += bool(hits)
        said_by_sender += any(hit.told for hit in hits)
    assert fired >= 20 and said_by_sender == 2


def write_set(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    return path


SMALL_SET = [
    {"q": "what is expert secondment?", "lang": "en", "expect": ["expert-secondment"]},
    {"q": "what is expert secondment?", "lang": "en", "expect": ["information-sharing"]},
    {"q": "سعر الذهب اليوم", "lang": "ar", "expect": []},
]


def test_kb_test_shares_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = write_set(tmp_path / "mine.yaml", SMALL_SET)
    assert main(["kb", "test", str(small), "--min-correct", "0.5"]) == 0
    out = capsys.readouterr().out
    assert (
        "en: in scope 2: answered right 1/2 = 50.0%, did you mean 0/2 = 0.0%, "
        "answered wrongly 1/2 = 50.0%, not answered 0/2 = 0.0%"
    ) in out
    assert "out of scope 0: refused 0/0" in out  # en has no out-of-scope question
    assert "ar: in scope 0" in out and "out of scope 1: refused 1/1 = 100.0%" in out
    assert "information-sharing -> expert-secondment: 1" in out  # the confusion
    assert "OK:" in out

    assert main(["kb", "test", str(small)]) == 1  # default floor 0.9
    out = capsys.readouterr().out
    assert "FAILED (floor 90%): en: in scope answered right 1/2 = 50.0% < 90%" in out
    assert "ar:" not in out.splitlines()[-1]  # Arabic refused its one question

    assert main(["kb", "test", str(small), "--min-correct", "0.9", "--failures"]) == 1
    out = capsys.readouterr().out
    assert "item 2 [en] 'what is expert secondment?': expected information-sharing" in out


def test_kb_test_per_entry_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = write_set(tmp_path / "mine.yaml", SMALL_SET)
    main(["kb", "test", str(small), "--min-correct", "0"])
    out = capsys.readouterr().out
    table = out.split("per entry (in scope):\n")[1].split("\n\n")[0]
    rows = {line.split()[0]: line.split()[1:] for line in table.splitlines()[1:]}
    assert rows["expert-secondment"] == ["1", "1", "0", "0", "0"]  # asked right dym wrong missed
    assert rows["information-sharing"] == ["1", "0", "0", "1", "0"]
    assert rows["(out"][:4] == ["of", "scope)", "1", "refused"]


def test_kb_test_rejects_bad_items_with_file_and_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_set(
        tmp_path / "bad.yaml",
        [
            SMALL_SET[0],
            {"q": "hello", "lang": "en", "expect": ["expert-secondmnt"]},
            {"lang": "en", "expect": []},
            {"q": "hello", "lang": "fr", "expect": []},
        ],
    )
    assert main(["kb", "test", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: item 2 (line " in err
    assert (
        "unknown entry id 'expert-secondmnt' in 'expect' (did you mean 'expert-secondment'?)" in err
    )
    assert f"{bad}: item 3 (line " in err and "missing 'q'" in err
    assert "item 4" in err and "bad lang 'fr'" in err
    assert main(["kb", "test", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["kb", "test", str(bad), "--min-correct", "90"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_kb_test_counts_as_the_accuracy_benchmark_does() -> None:
    spec = importlib.util.spec_from_file_location(
        "eval_accuracy", ROOT / "benchmarks" / "eval_accuracy.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    kb = load_knowledge_base()
    matcher = Matcher.from_knowledge_base(kb)
    expected = bench.evaluate(matcher, yaml.safe_load(OUR_SET.read_text(encoding="utf-8")))
    report = run_questions(matcher, load_questions([OUR_SET], kb), list(kb.entries), 0.9)
    for lang, (ok, total, oos_ok, oos_total) in expected.items():
        inside = report.by_lang(lang, in_scope=True)
        outside = report.by_lang(lang, in_scope=False)
        assert (inside["right"], sum(inside.values())) == (ok, total)
        assert (outside["refused"], sum(outside.values())) == (oos_ok, oos_total)


def test_kb_tools_do_not_import_telegram(tmp_path: Path) -> None:
    small = write_set(tmp_path / "mine.yaml", SMALL_SET)
    code = (
        "import sys, io\n"
        "from bot.cli import main\n"
        "sys.stdout = io.StringIO()\n"
        "main(['kb', 'explain', 'what is the salary of an expert?'])\n"
        f"main(['kb', 'test', {str(small)!r}])\n"
        "sys.stdout = sys.__stdout__\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'sqlalchemy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_explain_names_the_long_message_bar_that_applied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean = (
        "I look after community programmes at a telecom firm in Ghana; our volunteers are "
        "keen and there is spare budget left this year. Could some of it pay for workshops "
        "where officers learn digital evidence handling?"
    )
    out = explain(capsys, clean)
    assert "decision: answer training-support" in out
    assert "> suggest 35 (no out-of-scope cue in force in the message)" in out
    out = explain(capsys, clean.replace("spare budget", "spare budget, says our director,"))
    assert "said only in a statement of a message that asks" in out
    assert "decision: answer training-support" in out
    out = explain(capsys, clean.replace("spare budget", "spare budget at a discount"))
    assert "decision: did you mean: partnership-cost, training-support" in out
    assert "no out-of-scope cue in force" not in out  # held to the cap, which it is under


def test_explain_names_the_words_the_learned_model_never_saw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A long message's strangers outside its question clause are context, left out of the
    model's reading; the question's own, and a short message's, weaken its values."""
    long = (
        "Good morning from Jakarta. Our CTO Budi asked me to reach out after reading your "
        "page last week. how can we second an expert zorblax to you?"
    )
    data = json.loads(explain(capsys, "--json", long))
    assert data["learned_unknown"] == {"counted": ["zorblax"], "context": ["budi"]}
    out = explain(capsys, "zorblax analyst secondment")
    assert "(words the learned model never saw: zorblax (weaken its values))" in out
    assert "context: left out" not in out


def test_explain_says_the_learned_model_reads_the_question_clause_twice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = explain(
        capsys,
        "Hello, I work for a payments company in Nairobi and our team handles fraud "
        "monitoring. which companies are already working with you?",
    )
    assert '"which companies are already working with you?"' in out
    assert "(weighs 0.6; the learned model reads it twice)" in out


def test_explain_says_whether_the_form_opens_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    """As the bot decides (bot/matching/intent.py): a wish opens the form; a question
    about partnering is answered."""
    out = explain(capsys, "what is the partnership?")
    assert "form intent 'apply': 100.0 (>= 80, but the message asks about it" in out
    assert "answered, no form" in out
    assert "the bot opens the form" in explain(capsys, "we want to partner with you")
    read = json.loads(explain(capsys, "--json", "how do i apply?"))["form_intent"]
    assert read == {
        "score": 100.0,
        "threshold": 80,
        "ranks_first": True,
        "asks_about": True,
        "carried_by": "own word",
        "opens_form": True,
    }
