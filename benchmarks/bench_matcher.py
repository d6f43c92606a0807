"""Speed of the matcher on the shipped base and on synthetic bases of 1,000 and 10,000 entries.

Beside each, a naive baseline measured in the same run: rapidfuzz
``process.extractOne(query, all_variant_strings, scorer=fuzz.WRatio)``.

Queries are a realistic mix, all distinct: variants with typos injected, variants
with words dropped and unseen words added, questions of the test set (Arabic and
English), and questions made only of unseen words. No query's result is cached; the
matcher remembers words' stems and terms (bounded tables), as the running bot does.
Last, the batch path end to end: ``partnerbot ask --json -`` on 20,000 questions of the
regression sets (start-up included) in a process of its own.

    python benchmarks/bench_matcher.py [--queries N] [--seed S]

``--sweep NAME=v1,v2,...`` instead varies one field of ``MatchParameters`` (or of
``Thresholds``: answer, suggest, margin, max_suggestions) and prints, per value, the
accuracy on the regression sets that ``eval_accuracy.py`` reads and the speed of the
matcher the bot runs (cues and lexicon of the shipped base) on the shipped base:

    python benchmarks/bench_matcher.py --sweep clause_weight=0.4,0.5,0.6,0.7
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import random
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.eval_accuracy import DEFAULT_SETS, evaluate  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.knowledge import KnowledgeBase, load_knowledge_base  # noqa: E402
from bot.matching import Matcher, MatchParameters, Thresholds  # noqa: E402

ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
# Baseline runs are slow on big bases; this many queries are enough for its percentiles.
BASELINE_QUERIES = 100


def made_up_word(rng: random.Random, arabic: bool) -> str:
    letters = ARABIC_LETTERS if arabic else string.ascii_lowercase
    return "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))


def typo(rng: random.Random, text: str) -> str:
    """One random edit (delete, insert, substitute or swap) in a random word."""
    words = text.split()
    if not words:
        return text
    i = rng.randrange(len(words))
    word = words[i]
    if len(word) < 3:
        return text
    j = rng.randrange(len(word) - 1)
    letters = ARABIC_LETTERS if "\u0600" <= word[0] <= "\u06ff" else string.ascii_lowercase
    kind = rng.randrange(4)
    if kind == 0:
        word = word[:j] + word[j + 1 :]
    elif kind == 1:
        word = word[:j] + rng.choice(letters) + word[j:]
    elif kind == 2:
        word = word[:j] + rng.choice(letters) + word[j + 1 :]
    else:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    words[i] = word
    return " ".join(words)


def synthetic_base(
    rng: random.Random, shipped: Sequence[tuple[str, str]], entries: int
) -> list[tuple[str, str]]:
    """``entries`` entries of ~10 variants from shipped words plus made-up ones (Zipf-like use)."""
    real = sorted({w for _, text in shipped for w in text.split()})
    vocabulary = real + [made_up_word(rng, arabic=i % 2 == 0) for i in range(entries * 4)]
    rng.shuffle(vocabulary)
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(vocabulary))]
    pairs = []
    for e in range(entries):
        topic = [made_up_word(rng, arabic=e % 2 == 0) for _ in range(3)]
        for _ in range(rng.randint(8, 12)):
            words = rng.choices(vocabulary, weights, k=rng.randint(3, 7))
            words.insert(rng.randrange(len(words) + 1), rng.choice(topic))
            pairs.append((f"synthetic-{e}", " ".join(words)))
    return pairs


def make_queries(
    rng: random.Random, pairs: Sequence[tuple[str, str]], questions: Sequence[str], n: int
) -> list[str]:
    out: set[str] = set()
    texts = [text for _, text in pairs]
    while len(out) < n:
        kind = rng.randrange(4)
        if kind == 0:
            query = typo(rng, rng.choice(texts))
        elif kind == 1:
            words = rng.choice(texts).split()
            words = [w for w in words if rng.random() > 0.3] or words[:1]
            words.insert(rng.randrange(len(words) + 1), made_up_word(rng, rng.random() < 0.5))
            query = " ".join(words)
        elif kind == 2:
            query = (
                typo(rng, rng.choice(questions)) if rng.random() < 0.7 else rng.choice(questions)
            )
            query += f" {rng.randint(1, 99)}" if query in out else ""
        else:
            arabic = rng.random() < 0.5
            query = " ".join(made_up_word(rng, arabic) for _ in range(rng.randint(2, 5)))
        out.add(query)
    result = sorted(out)
    rng.shuffle(result)
    return result


def timed(fn: Callable[[str], object], queries: Sequence[str]) -> tuple[float, float, float]:
    """(queries per second, p50 ms, p99 ms)."""
    times = []
    for query in queries:
        start = time.perf_counter_ns()
        fn(query)
        times.append(time.perf_counter_ns() - start)
    total = sum(times) / 1e9
    cuts = statistics.quantiles(times, n=100)
    return len(queries) / total, cuts[49] / 1e6, cuts[98] / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--sweep",
        metavar="NAME=v1,v2,...",
        help="vary one matcher parameter: accuracy and speed per value",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    kb = load_knowledge_base()
    shipped = [(e.id, v) for e in kb.entries.values() for v in e.variants()]
    questions = [
        item["q"]
        for item in yaml.safe_load((ROOT / "tests/data/questions.yaml").read_text("utf-8"))
    ]
    if args.sweep:
        try:
            name, values = parse_sweep(args.sweep)
        except ValueError as exc:
            parser.error(str(exc))
        queries = make_queries(rng, shipped, questions, args.queries)
        sweep(kb, name, values, queries)
        return 0
    bases = [("shipped", shipped)]
    bases += [
        (f"synthetic {n:,}", shipped + synthetic_base(rng, shipped, n)) for n in (1000, 10000)
    ]
    header = f"{'base':<16}{'entries':>8}{'variants':>9}  {'method':<30}{'queries/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    print(header)
    print("-" * len(header))
    for name, pairs in bases:
        started = time.perf_counter()
        matcher = Matcher(pairs, synonyms=kb.synonyms)
        build = time.perf_counter() - started
        queries = make_queries(rng, pairs, questions, args.queries)
        texts = [text for _, text in pairs]
        rows = [(f"Matcher.match (build {build:.1f}s)", timed(matcher.match, queries))]
        if name == "shipped":
            # As the bot runs it: cues, lexicon and the learned weights (trained or read
            # from the cache during the build).
            started = time.perf_counter()
            full = Matcher.from_knowledge_base(kb, load_config().matching.thresholds())
            build = time.perf_counter() - started
            rows.append((f"+ cues, learned (build {build:.1f}s)", timed(full.match, queries)))
        rows += [
            (
                "extractOne WRatio (baseline)",
                timed(
                    lambda q, texts=texts: process.extractOne(q, texts, scorer=fuzz.WRatio),
                    queries[:BASELINE_QUERIES],
                ),
            ),
        ]
        for method, (qps, p50, p99) in rows:
            print(
                f"{name:<16}{len(matcher):>8}{len(pairs):>9}  {method:<30}{qps:>11,.0f}{p50:>9.3f}{p99:>9.3f}"
            )
    print(f"\n'partnerbot ask --json -', end to end: {batch_rate(questions):,.0f} questions/s")
    return 0


def batch_rate(questions: list[str], count: int = 20_000) -> float:
    """Questions per second of ``partnerbot ask --json -`` on ``count`` lines, start-up
    included, in a process of its own (as a maintainer runs it)."""
    # Every line distinct (a round number after the first round), as in a maintainer's file:
    # repeated lines would measure the matcher's memory of texts (fold's cache), not matching.
    rounds = itertools.count()
    distinct = (q if r == 0 else f"{q} {r}" for r in rounds for q in questions)
    lines = "\n".join(itertools.islice(distinct, count)) + "\n"
    command = [sys.executable, "-m", "bot.cli", "ask", "--json", "-"]
    started = time.perf_counter()
    done = subprocess.run(command, input=lines, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stdout.count("\n") != count:
        raise SystemExit(f"ask failed: {done.stderr[-500:]}")
    return count / elapsed


def parse_sweep(spec: str) -> tuple[str, list[float | int]]:
    """``NAME=v1,v2`` read against the field's type; ValueError names what is wrong."""
    name, _, raw = spec.partition("=")
    defaults = {**_fields(Thresholds()), **_fields(MatchParameters())}
    if name not in defaults or not raw:
        raise ValueError(f"--sweep NAME=v1,v2,...; NAME is one of: {', '.join(sorted(defaults))}")
    kind = type(defaults[name])
    return name, [kind(v) for v in raw.split(",")]


def _fields(instance: Thresholds | MatchParameters) -> dict[str, float | int]:
    return {f.name: getattr(instance, f.name) for f in dataclasses.fields(instance)}


def sweep(kb: KnowledgeBase, name: str, values: Sequence[float | int], queries: list[str]) -> None:
    """Per value: right answers (in scope) and refusals (out of scope) per language on the
    regression sets, all sets together, then the speed on the shipped base."""
    m = load_config().matching
    base = Thresholds(answer=m.answer_threshold, suggest=m.suggest_threshold, margin=m.margin)
    sets = [yaml.safe_load(f.read_text("utf-8")) for f in DEFAULT_SETS if f.exists()]
    print(f"sweep {name} on {sum(map(len, sets))} questions of {len(sets)} regression sets")
    header = (
        f"{name:>26}{'ar in':>8}{'ar out':>8}{'en in':>8}{'en out':>8}{'all':>8}"
        f"{'queries/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for value in values:
        # parse_sweep gave the value its field's type, which mypy cannot see through **.
        change = {name: value}
        thresholds, parameters = base, MatchParameters()
        if name in _fields(base):
            thresholds = dataclasses.replace(base, **change)  # type: ignore[arg-type]
        else:
            parameters = dataclasses.replace(parameters, **change)  # type: ignore[arg-type]
        matcher = Matcher.from_knowledge_base(kb, thresholds, parameters=parameters)
        totals: dict[str, list[int]] = {lang: [0, 0, 0, 0] for lang in ("ar", "en")}
        for items in sets:
            for lang, row in evaluate(matcher, items).items():
                totals[lang] = [a + b for a, b in zip(totals[lang], row, strict=True)]
        shares = [
            f"{ok / max(n, 1):>8.1%}" for row in totals.values() for ok, n in (row[:2], row[2:])
        ]
        right = sum(row[0] + row[2] for row in totals.values())
        asked = sum(row[1] + row[3] for row in totals.values())
        qps, p50, p99 = timed(matcher.match, queries)
        print(
            f"{value:>26}{''.join(shares)}{right / asked:>8.1%}{qps:>11,.0f}{p50:>9.3f}{p99:>9.3f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
