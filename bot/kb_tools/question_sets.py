"""``partnerbot kb test``: a maintainer's own question set (the dev sample's format), run
through the real matcher: per entry and per language, what was answered right, offered,
missed or confused, and whether the share answered right reaches the floor."""

from __future__ import annotations

import difflib
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.config import Config
from bot.knowledge import LANGS, KnowledgeBase, load_knowledge_base
from bot.matching import Matcher, MatchResult, Thresholds
from bot.normalize import (
    Lang,
)

OUT_OF_SCOPE = "(out of scope)"

Verdict = Literal["right", "suggested", "wrong", "missed", "refused", "answered"]


@dataclass(frozen=True)
class Question:
    file: str
    number: int  # 1-based position in its file
    line: int | None
    q: str
    lang: Lang
    expect: tuple[str, ...]  # () = out of scope

    @property
    def label(self) -> str:
        """The entry (or entries, in name order) the question expects, or ``OUT_OF_SCOPE``."""
        return " or ".join(sorted(self.expect)) if self.expect else OUT_OF_SCOPE


class QuestionSetError(Exception):
    """The question files are invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _Item(dict[str, Any]):
    line: int | None = None


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings remember their line, for messages."""


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Item:
    item = _Item((str(k), v) for k, v in loader.construct_mapping(node, deep=True).items())
    item.line = node.start_mark.line + 1
    return item


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_questions(paths: Iterable[Path], kb: KnowledgeBase) -> list[Question]:
    """Every question of ``paths``, or a ``QuestionSetError`` naming each bad item."""
    problems: list[str] = []
    out: list[Question] = []
    for path in paths:
        name = str(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{name}: cannot read: {exc}")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{name}:{mark.line + 1}" if mark is not None else name
            what = getattr(exc, "problem", None) or " ".join(str(exc).split())
            problems.append(f"{where}: not valid YAML: {what}")
            continue
        if not isinstance(data, list) or not data:
            problems.append(
                f"{name}: must be a YAML list of questions "
                "({q: ..., lang: en|ar, expect: [entry ids]})"
            )
            continue
        for number, item in enumerate(data, 1):
            out.extend(_question(name, number, item, kb, problems))
    if problems:
        raise QuestionSetError(problems)
    return out


def _question(
    file: str, number: int, item: Any, kb: KnowledgeBase, problems: list[str]
) -> list[Question]:
    line = item.line if isinstance(item, _Item) else None
    where = f"{file}: item {number}" + (f" (line {line})" if line else "")
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a mapping with q, lang and expect")
        return []
    before = len(problems)
    q = item.get("q")
    if "q" not in item or q is None:
        problems.append(f"{where}: missing 'q' (the question as a user types it)")
    elif not isinstance(q, str):
        problems.append(f"{where}: 'q' must be text (YAML read {q!r}; put it in quotes)")
    elif not q.strip():
        problems.append(f"{where}: 'q' is empty")
    lang = item.get("lang")
    if lang is None:
        problems.append(f"{where}: missing 'lang' (ar or en)")
    elif lang not in LANGS:
        problems.append(f"{where}: bad lang {lang!r} (use one of: {', '.join(sorted(LANGS))})")
    expect = item.get("expect")
    if not isinstance(expect, list) or not all(isinstance(x, str) for x in expect):
        problems.append(
            f"{where}: 'expect' must be a list of entry ids ([] for an out-of-scope question)"
        )
        expect = []
    for entry_id in expect:
        if entry_id not in kb.entries:
            close = difflib.get_close_matches(entry_id, list(kb.entries), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{where}: unknown entry id '{entry_id}' in 'expect'{hint}")
    if len(problems) > before:
        return []
    assert isinstance(q, str) and lang in LANGS
    return [Question(file, number, line, q.strip(), lang, tuple(expect))]


def grade(question: Question, result: MatchResult) -> Verdict:
    """What the bot did with ``question``, as ``benchmarks/eval_accuracy.py`` counts it."""
    if not question.expect:
        return "refused" if result.entry_id is None else "answered"
    if result.entry_id is not None:
        return "right" if result.entry_id in question.expect else "wrong"
    if set(result.suggestions) & set(question.expect):
        return "suggested"
    return "missed"


@dataclass
class Graded:
    question: Question
    result: MatchResult
    verdict: Verdict


@dataclass
class TestReport:
    graded: list[Graded]
    thresholds: Thresholds
    floor: float
    entries: Sequence[str]  # the base's ids, in load order
    failures: list[str] = field(default_factory=list)

    def by_lang(self, lang: Lang, *, in_scope: bool) -> Counter[str]:
        return Counter(
            g.verdict
            for g in self.graded
            if g.question.lang == lang and bool(g.question.expect) == in_scope
        )


def run_questions(
    matcher: Matcher, questions: Sequence[Question], entries: Sequence[str], floor: float
) -> TestReport:
    graded = []
    for q in questions:
        result = matcher.match(q.q, q.lang)
        graded.append(Graded(q, result, grade(q, result)))
    report = TestReport(graded, matcher.thresholds, floor, entries)
    for lang in LANGS:
        for in_scope, good, what in (
            (True, "right", "in scope answered right"),
            (False, "refused", "out of scope refused"),
        ):
            counts = report.by_lang(lang, in_scope=in_scope)
            total = sum(counts.values())
            if total and counts[good] / total < floor:
                report.failures.append(
                    f"{lang}: {what} {counts[good]}/{total} = {counts[good] / total:.1%} "
                    f"< {floor * 100:g}%"
                )
    return report


def _share(count: int, total: int) -> str:
    return f"{count}/{total} = {count / total:.1%}" if total else "0/0"


def format_report(report: TestReport, files: Sequence[str], *, failures: bool = False) -> str:
    t = report.thresholds
    lines = [
        f"kb test: {len(report.graded)} questions from {', '.join(files)}",
        f"thresholds: answer {t.answer:g}, suggest {t.suggest:g}, margin {t.margin:g}",
        "",
    ]
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    confusions: Counter[tuple[str, str]] = Counter()
    for g in report.graded:
        rows[g.question.label][g.verdict] += 1
        if g.verdict in ("wrong", "answered"):
            confusions[(g.question.label, g.result.entry_id or "")] += 1
    order = {entry_id: i for i, entry_id in enumerate(report.entries)}
    labels = sorted(
        (label for label in rows if label != OUT_OF_SCOPE),
        key=lambda label: (min(order.get(x, len(order)) for x in label.split(" or ")), label),
    )
    width = max([len(label) for label in labels] + [len(OUT_OF_SCOPE), 5])
    lines += [
        "per entry (in scope):",
        f"  {'entry':<{width}} {'asked':>5} {'right':>5} {'did you mean':>12} {'wrong':>5} "
        f"{'missed':>6}",
    ]
    for label in labels:
        c = rows[label]
        lines.append(
            f"  {label:<{width}} {sum(c.values()):>5} {c['right']:>5} {c['suggested']:>12} "
            f"{c['wrong']:>5} {c['missed']:>6}"
        )
    if OUT_OF_SCOPE in rows:
        c = rows[OUT_OF_SCOPE]
        refused = [g for g in report.graded if g.verdict == "refused"]
        offered = sum(1 for g in refused if g.result.outcome == "suggest")
        lines.append(
            f"  {OUT_OF_SCOPE:<{width}} {sum(c.values()):>5} refused {c['refused']} "
            f"(fallback {c['refused'] - offered}, did you mean {offered}), "
            f"answered {c['answered']}"
        )
    asked = {x for g in report.graded for x in g.question.expect}
    untested = [entry_id for entry_id in report.entries if entry_id not in asked]
    if untested:
        lines.append(f"  no question expects: {', '.join(untested)}")
    lines += ["", "confusions (expected -> answered instead: times):"]
    for (expected, got), times in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {expected} -> {got}: {times}")
    if not confusions:
        lines.append("  none")
    lines += ["", "per language:"]
    for lang in LANGS:
        inside = report.by_lang(lang, in_scope=True)
        outside = report.by_lang(lang, in_scope=False)
        n_in, n_out = sum(inside.values()), sum(outside.values())
        if not n_in and not n_out:
            continue
        lines.append(
            f"  {lang}: in scope {n_in}: answered right {_share(inside['right'], n_in)}, "
            f"did you mean {_share(inside['suggested'], n_in)}, "
            f"answered wrongly {_share(inside['wrong'], n_in)}, "
            f"not answered {_share(inside['missed'], n_in)}"
        )
        lines.append(
            f"      out of scope {n_out}: refused {_share(outside['refused'], n_out)}, "
            f"answered {_share(outside['answered'], n_out)}"
        )
    if len(files) > 1:
        lines += ["", "per file (answered right in scope; refused out of scope):"]
        for file in files:
            mine = [g for g in report.graded if g.question.file == file]
            parts = []
            for lang in LANGS:
                in_scope = [g for g in mine if g.question.lang == lang and g.question.expect]
                oos = [g for g in mine if g.question.lang == lang and not g.question.expect]
                parts.append(
                    f"{lang} {_share(sum(g.verdict == 'right' for g in in_scope), len(in_scope))}; "
                    f"{_share(sum(g.verdict == 'refused' for g in oos), len(oos))}"
                )
            lines.append(f"  {file}: {' | '.join(parts)}")
    if failures:
        lines += ["", "questions not answered right:"]
        for g in report.graded:
            if g.verdict in ("right", "refused"):
                continue
            q, r = g.question, g.result
            got = r.entry_id or (
                f"did you mean {', '.join(r.suggestions)}" if r.suggestions else "fallback"
            )
            top = ", ".join(f"{s.entry_id} {s.score:.0f}" for s in r.ranked[:3]) or "-"
            lines.append(
                f"  {q.file}:{q.line or '?'}: item {q.number} [{q.lang}] {q.q!r}: expected {q.label}, "
                f"got {got} (top: {top})"
            )
    lines.append("")
    if report.failures:
        lines.append(f"FAILED (floor {report.floor * 100:g}%): " + "; ".join(report.failures))
    else:
        lines.append(
            f"OK: in every language at least {report.floor * 100:g}% answered right (in scope) "
            "and refused (out of scope)"
        )
    return "\n".join(lines)


def run_test(config: Config, paths: Sequence[Path], floor: float, *, failures: bool = False) -> int:
    """``partnerbot kb test``: 0 when every share reaches ``floor``, 1 below it, 2 on bad files."""
    if not 0.0 <= floor <= 1.0:
        print(
            f"partnerbot: --min-correct must be a share between 0 and 1, got {floor:g}",
            file=sys.stderr,
        )
        return 2
    kb = load_knowledge_base(config.bot.knowledge_path)
    try:
        questions = load_questions(paths, kb)
    except QuestionSetError as exc:
        print(f"partnerbot: the question set has {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    matcher = Matcher.from_knowledge_base(kb, config.matching.thresholds())
    report = run_questions(matcher, questions, list(kb.entries), floor)
    print(format_report(report, [str(p) for p in paths], failures=failures))
    return 1 if report.failures else 0
