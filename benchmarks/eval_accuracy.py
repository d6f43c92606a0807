"""Accuracy of the matcher on a question set (our tests' set and the public dev sample).

Prints, per language, the share of in-scope questions answered directly with an
accepted entry and the share of out-of-scope questions sent to the fallback.

    python benchmarks/eval_accuracy.py [FILE ...] [--failures]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.knowledge import load_knowledge_base  # noqa: E402
from bot.matching import Matcher, MatchResult, Thresholds  # noqa: E402

# Our own set, the public dev sample, then the first regression sets in knowledge/examples/
# (each written without seeing the knowledge base; see README, "Quality").
DEFAULT_SETS = [
    ROOT / "tests" / "data" / "questions.yaml",
    ROOT.parent / "shared" / "eval" / "dev_questions.yaml",
    *(
        ROOT / "knowledge" / "examples" / f"{name}_questions.yaml"
        for name in ("holdout", "final", "last", "fresh", "sixth", "seventh")
    ),
]


def is_correct(item: dict, result: MatchResult) -> bool:
    if item["expect"]:
        return result.entry_id in item["expect"]
    return result.entry_id is None


def evaluate(matcher: Matcher, items: list[dict]) -> dict[str, tuple[int, int, int, int]]:
    """Per language: (in-scope right, in-scope total, oos right, oos total)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for item in items:
        ok = is_correct(item, matcher.match(item["q"]))
        row = counts[item["lang"]]
        offset = 0 if item["expect"] else 2
        row[offset] += ok
        row[offset + 1] += 1
    return {lang: tuple(row) for lang, row in counts.items()}  # type: ignore[misc]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--failures", action="store_true", help="list every miss")
    parser.add_argument("--answer", type=float, help="answer threshold (default: from config)")
    parser.add_argument("--suggest", type=float, help="suggest threshold (default: from config)")
    parser.add_argument(
        "--margin", type=float, help="margin over the runner-up (default: from config)"
    )
    args = parser.parse_args()
    config = load_config()
    m = config.matching
    kb = load_knowledge_base(config.bot.knowledge_path)
    thresholds = Thresholds(
        answer=m.answer_threshold if args.answer is None else args.answer,
        suggest=m.suggest_threshold if args.suggest is None else args.suggest,
        margin=m.margin if args.margin is None else args.margin,
    )
    print(
        f"thresholds: answer {thresholds.answer}, suggest {thresholds.suggest}, margin {thresholds.margin}"
    )
    matcher = Matcher.from_knowledge_base(kb, thresholds)
    for file in args.files or [f for f in DEFAULT_SETS if f.exists()]:
        items = yaml.safe_load(file.read_text(encoding="utf-8"))
        print(f"{file.name}: {len(items)} questions")
        for lang, (ok, total, oos_ok, oos_total) in sorted(evaluate(matcher, items).items()):
            print(
                f"  {lang}: in-scope answered right {ok}/{total} = {ok / max(total, 1):.1%}; "
                f"out-of-scope to fallback {oos_ok}/{oos_total} = {oos_ok / max(oos_total, 1):.1%}"
            )
        if args.failures:
            for item in items:
                result = matcher.match(item["q"])
                if not is_correct(item, result):
                    top = ", ".join(f"{s.entry_id}:{s.score:.0f}" for s in result.ranked[:3])
                    print(
                        f"    MISS [{item['lang']}] {item['q']!r} expect={item['expect']} got={result.entry_id} ({top})"
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
