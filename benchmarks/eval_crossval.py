"""Out-of-fold accuracy on the base's own examples: leave one file of ``knowledge/examples/``
out, train the learned weights on the others, and match the left-out file's questions.

The examples are the model's training data, so ``kb test`` on them measures what was learned,
not what generalises. A file left out was written by one writer at one time, as an unseen set
would be, so its figures estimate first-sight quality, and they may be read question by
question: choose the matcher's numbers here (``--failures`` lists each miss), then check the
never-tuned sets of ``benchmarks/heldout/`` by their totals only.

    python benchmarks/eval_crossval.py [--failures] [--context]

``--context`` also matches every question within each context of ``CONTEXT``: a sender
saying who they are before asking, as long messages do, and once with a sign-off after it
(small-talk examples are matched without context only). The questions were written to
stand alone, many without a question mark, so it measures how well the matcher finds a
question behind context it has never seen (the examples' own context is learned).

Trains one model per file (about 1.5 s each), none kept on disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PARTNERBOT_CACHE_DIR"] = ""  # one model per fold: none worth keeping

from bot.config import load_config  # noqa: E402
from bot.kb_tools.question_sets import Question, grade, load_questions  # noqa: E402
from bot.knowledge import load_knowledge_base  # noqa: E402
from bot.knowledge.examples import EXAMPLES_FOLDER, OUT_OF_SCOPE  # noqa: E402
from bot.matching import Matcher  # noqa: E402

# Context (per language) around every question for ``--context``: a greeting and a sender,
# a firm with offices and a team (words of the base's topics and cues), a one-line story in
# Arabizi for the Arabic questions; and the firm again with a sign-off after the question.
FIRM = {
    "en": "Hello, I work for a mid-sized payments company in Nairobi with offices in Lagos "
    "and Accra, and our team handles fraud monitoring. ",
    "ar": "مرحبا، أنا أعمل في شركة مدفوعات متوسطة الحجم في الدار البيضاء ولدينا مكاتب في "
    "تونس والجزائر وفريقنا يتابع الاحتيال. ",
}
CONTEXT: dict[str, dict[str, tuple[str, str]]] = {
    "sender": {
        "en": (
            "Good morning from Jakarta. Our CTO Budi asked me to reach out after reading "
            "your page last week. ",
            "",
        ),
        "ar": (
            "صباح الخير من مسقط، مديرنا التقني خالد طلب مني أكتب لكم بعد ما قرأ صفحتكم "
            "الأسبوع الماضي. ",
            "",
        ),
    },
    "firm": {"en": (FIRM["en"], ""), "ar": (FIRM["ar"], "")},
    "chat": {
        "en": (
            "ok so quick context: we are a tiny startup in Tallinn doing blockchain "
            "analytics for exchanges. ",
            "",
        ),
        "ar": ("ana sakin fi tunis w na5dem fi charika sghira mta3 informatique. ", ""),
    },
    "firm, signed": {
        "en": (FIRM["en"], ". Thanks in advance. Ahmed Ali, ahmed.ali@example.com"),
        "ar": (FIRM["ar"], ". وشكرا. أحمد علي"),
    },
}


def as_example(question: Question) -> tuple[str, str]:
    """As ``parse_examples`` reads it: the first accepted entry, or "out of scope"."""
    return (question.expect[0] if question.expect else OUT_OF_SCOPE, question.q)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", action="store_true", help="list every miss")
    parser.add_argument(
        "--context", action="store_true", help="also within each context of CONTEXT"
    )
    args = parser.parse_args()
    variants = {"": {"en": ("", ""), "ar": ("", "")}, **(CONTEXT if args.context else {})}
    config = load_config()
    kb = load_knowledge_base(config.bot.knowledge_path)
    files = sorted((Path(config.bot.knowledge_path) / EXAMPLES_FOLDER).glob("*.yaml"))
    questions = load_questions(files, kb)
    counts: dict[tuple[str, str, bool], Counter[str]] = defaultdict(Counter)
    for file in files:
        training = tuple(as_example(q) for q in questions if q.file != str(file))
        base = dataclasses.replace(kb, examples=training)
        matcher = Matcher.from_knowledge_base(base, config.matching.thresholds())
        for question in (q for q in questions if q.file == str(file)):
            # Context around a courtesy ("..., thanks") makes no question of it: small
            # talk is matched without context only.
            courtesy = any(kb.entries[e].small_talk for e in question.expect)
            for name, around in variants.items():
                if name and courtesy:
                    continue
                before, after = around[question.lang]
                result = matcher.match(before + question.q + after, question.lang)
                verdict = grade(question, result)
                counts[(name, question.lang, bool(question.expect))][verdict] += 1
                if args.failures and not name and verdict not in ("right", "refused"):
                    print(
                        f"{file.name}:{question.line} [{question.lang}] {verdict}: "
                        f"{question.q!r} expected {question.label}, "
                        f"got {result.entry_id or result.suggestions}"
                    )
    for name in variants:
        shown_as = f", with the '{name}' context" if name else ""
        print(f"out of fold, {len(files)} files, {len(questions)} questions{shown_as}:")
        for (shown, lang, in_scope), c in sorted(counts.items()):
            if shown != name:
                continue
            n = sum(c.values())
            if in_scope:
                print(
                    f"  {lang} in scope {n}: right {c['right']} ({c['right'] / n:.1%}), "
                    f"did you mean {c['suggested']}, wrong {c['wrong']}, "
                    f"not answered {c['missed']}"
                )
            else:
                print(
                    f"  {lang} out of scope {n}: refused {c['refused']}, answered {c['answered']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
