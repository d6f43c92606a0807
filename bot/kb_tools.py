"""Tools for the people who edit the knowledge base: ``kb explain`` and ``kb test``.

``explain`` shows how the matcher reads one question and why it decided as it did;
``test`` runs a maintainer's own question set (the dev sample's format) and says,
per entry and per language, what was answered right, offered, missed or confused.
Both read the real matcher (``Matcher.scores``, ``Matcher.match`` and its read-only
``trace_word`` and ``cue_hits``), so what they print is what the bot does. Pure:
no Telegram, no database.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.arabizi import is_arabizi
from bot.config import Config
from bot.knowledge import LANGS, KnowledgeBase, load_knowledge_base
from bot.matching import CueHit, Matcher, MatchResult, Thresholds, WordTrace
from bot.normalize import (
    Lang,
    deep_stem,
    fold,
    idiom_spans,
    is_content,
    stem,
    words,
)

# The intent that opens the partnership form before any answer (handlers/answering.py,
# APPLY_INTENT; not imported from there, which would load the Telegram stack).
APPLY_INTENT = "apply"
TOP = 5
OUT_OF_SCOPE = "(out of scope)"

# ---------------------------------------------------------------------------
# kb explain


@dataclass(frozen=True)
class WordView:
    """One content word: how it was stemmed and found, and whether it counted."""

    trace: WordTrace
    stem: str
    deep_stem: str | None  # shown when the word was found through it
    synonym: bool  # the synonyms file mapped it to another term
    counted: bool  # False: another word of the question has the same term (counted once)
    counted_word: str  # the word whose reading of the term counted
    weak: bool = False  # a question word such as "why", weighed lightly


@dataclass(frozen=True)
class CueView:
    hit: CueHit
    words: tuple[str, ...]  # the cue's words in out_of_scope.yaml
    unless: tuple[str, ...]

    @property
    def active(self) -> bool:
        return not self.hit.lifted_by


@dataclass(frozen=True)
class Ranked:
    entry_id: str
    title: str
    score: float
    capped_by: tuple[str, ...]  # active cue words that cap this entry
    at_cap: bool  # the cap decided its score


@dataclass(frozen=True)
class Explanation:
    question: str
    lang: Lang
    lang_source: Literal["given", "detected", "arabizi"]
    folded: str
    words: tuple[str, ...]
    idioms: tuple[tuple[str, str], ...]  # (phrase, what it is read as)
    dropped: tuple[str, ...]  # stop words and single letters
    content: tuple[WordView, ...]
    cues: tuple[CueView, ...]
    cap: float
    top: tuple[Ranked, ...]
    result: MatchResult
    thresholds: Thresholds
    decision: str  # answer / did you mean / fallback
    reason: str  # the threshold that decided
    out_of_scope: bool  # an active cue capped the top entry at the cap
    apply_intent: float | None  # the form intent's score, when the base has one
    apply_threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "lang": self.lang,
            "lang_source": self.lang_source,
            "folded": self.folded,
            "words": list(self.words),
            "idioms": [{"phrase": p, "read_as": m} for p, m in self.idioms],
            "dropped": list(self.dropped),
            "content_words": [
                {
                    "word": w.trace.word,
                    "stem": w.stem,
                    "deep_stem": w.deep_stem,
                    "term": w.trace.term,
                    "synonym": w.synonym,
                    "reading": w.trace.reading,
                    "how": w.trace.how,
                    "expansions": [
                        {"term": t, "similarity": round(s, 3)} for t, s in w.trace.expansions
                    ],
                    "weight": round(w.trace.weight, 3),
                    "counted": w.counted,
                }
                for w in self.content
            ],
            "cues": [
                {
                    "word": c.hit.word,
                    "cue": c.hit.cue,
                    "cue_words": list(c.words),
                    "unless": list(c.unless),
                    "lifted_by": sorted(c.hit.lifted_by),
                    "spared": sorted(c.hit.spared),
                    "active": c.active,
                }
                for c in self.cues
            ],
            "cap": self.cap,
            "top": [
                {
                    "id": r.entry_id,
                    "title": r.title,
                    "score": round(r.score, 1),
                    "capped_by": list(r.capped_by),
                    "at_cap": r.at_cap,
                }
                for r in self.top
            ],
            "outcome": self.result.outcome,
            "id": self.result.entry_id,
            "suggestions": list(self.result.suggestions),
            "decision": self.decision,
            "reason": self.reason,
            "out_of_scope": self.out_of_scope,
            "thresholds": {
                "answer": self.thresholds.answer,
                "suggest": self.thresholds.suggest,
                "margin": self.thresholds.margin,
            },
            "apply_intent": None if self.apply_intent is None else round(self.apply_intent, 1),
        }


def fired_idioms(text: str, matcher: Matcher) -> list[tuple[str, str]]:
    """The idioms of the lexicon that ``words`` replaces in ``text``, as (phrase, meaning)."""
    found = fold(text).split()
    return [
        (" ".join(found[start:end]), meaning)
        for start, end, meaning in idiom_spans(found, matcher.lexicon)
    ]


def explain(
    kb: KnowledgeBase,
    matcher: Matcher,
    text: str,
    lang: Lang | None = None,
    *,
    intents: Matcher | None = None,
    apply_threshold: float = 80.0,
) -> Explanation:
    """How ``matcher`` reads ``text`` and why it answers, offers choices or falls back."""
    result = matcher.match(text, lang)
    ranked = matcher.scores(text)
    t = matcher.thresholds
    cap = (t.answer + t.suggest) / 2
    found = words(text, matcher.lexicon)

    # Content words as ``scores`` reads them: one per term, the first seen in the
    # order ``scores`` walks them (last occurrence of each word first).
    content = [w for w in found if is_content(w, matcher.lexicon)]
    traces = {w: matcher.trace_word(w) for w in content}
    counted_word: dict[str, str] = {}
    walk = list(dict(reversed([(w, traces[w].term) for w in content])).items())
    for word, term in walk:
        counted_word.setdefault(term, word)
    views: list[WordView] = []
    for word in dict.fromkeys(content):
        trace = traces[word]
        plain = stem(word)
        views.append(
            WordView(
                trace=trace,
                stem=plain,
                deep_stem=deep_stem(word) if trace.how == "deep" else None,
                synonym=trace.term != (trace.reading or plain),
                counted=counted_word.get(trace.term) == word,
                counted_word=counted_word.get(trace.term, word),
                weak=word in matcher.lexicon.weak_words,
            )
        )

    cues = tuple(
        CueView(hit, kb.out_of_scope[hit.cue].words, kb.out_of_scope[hit.cue].unless)
        for hit in matcher.cue_hits(found)
    )
    active = [c for c in cues if c.active]
    top: list[Ranked] = []
    for scored in ranked[:TOP]:
        capping = tuple(
            dict.fromkeys(c.hit.word for c in active if scored.entry_id not in c.hit.spared)
        )
        entry = kb.entries.get(scored.entry_id)
        top.append(
            Ranked(
                entry_id=scored.entry_id,
                title=entry.title[result.lang] if entry else scored.entry_id,
                score=scored.score,
                capped_by=capping,
                at_cap=bool(capping) and scored.score >= cap,
            )
        )
    decision, reason = _decision(result, ranked_scores=[r.score for r in ranked], t=t, views=views)
    out_of_scope = result.outcome != "answer" and bool(top) and top[0].at_cap
    if out_of_scope:
        cue_words = ", ".join(f'"{w}"' for w in top[0].capped_by)
        reason = (
            f"out of scope: the cue {cue_words} capped the top score at {cap:g} "
            f"(halfway between suggest {t.suggest:g} and answer {t.answer:g}); {reason}"
        )
    elif active and top:
        cue_words = ", ".join(dict.fromkeys(f'"{c.hit.word}"' for c in active))
        if result.outcome == "answer":
            reason += f"; the cue {cue_words} spares {top[0].entry_id} (its phrasings use the word)"
        else:
            reason += f"; the cue {cue_words} fired, but no capped score reached its cap {cap:g}"
    if lang is not None:
        source: Literal["given", "detected", "arabizi"] = "given"
        shown_lang = result.lang
    elif is_arabizi(text, kb.arabizi):
        source, shown_lang = "arabizi", "ar"
    else:
        source, shown_lang = "detected", result.lang
    apply_score = None
    if intents is not None:
        scores = intents.scores(text)
        apply_score = next((s.score for s in scores if s.entry_id == APPLY_INTENT), 0.0)
    return Explanation(
        question=text,
        lang=shown_lang,
        lang_source=source,
        folded=fold(text),
        words=tuple(found),
        idioms=tuple(fired_idioms(text, matcher)),
        dropped=tuple(dict.fromkeys(w for w in found if not is_content(w, matcher.lexicon))),
        content=tuple(views),
        cues=cues,
        cap=cap,
        top=tuple(top),
        result=result,
        thresholds=t,
        decision=decision,
        reason=reason,
        out_of_scope=out_of_scope,
        apply_intent=apply_score,
        apply_threshold=apply_threshold,
    )


def _decision(
    result: MatchResult, *, ranked_scores: list[float], t: Thresholds, views: list[WordView]
) -> tuple[str, str]:
    top = ranked_scores[0] if ranked_scores else 0.0
    runner_up = ranked_scores[1] if len(ranked_scores) > 1 else 0.0
    if result.outcome == "answer":
        return (
            f"answer {result.entry_id}",
            f"top {top:.1f} >= answer {t.answer:g}, {top - runner_up:.1f} ahead of the "
            f"runner-up (>= margin {t.margin:g})",
        )
    decision = (
        f"did you mean: {', '.join(result.suggestions)}"
        if result.outcome == "suggest"
        else "fallback"
    )
    if not ranked_scores:
        if not views:
            why = "no content word (only stop words)"
        elif all(v.weak for v in views):
            why = "only question words such as 'why', which never match on their own"
        else:
            why = "no entry shares a word with the question"
        return decision, why
    if top < t.answer:
        why = f"top {top:.1f} < answer {t.answer:g}"
    else:
        why = (
            f"top {top:.1f} >= answer {t.answer:g} but only {top - runner_up:.1f} ahead of "
            f"the runner-up (< margin {t.margin:g})"
        )
    if result.outcome == "suggest":
        why += f"; choices are the entries >= suggest {t.suggest:g} (up to {t.max_suggestions})"
    else:
        why += f"; no entry >= suggest {t.suggest:g}"
    return decision, why


def format_explanation(e: Explanation) -> str:
    t = e.thresholds
    lines = [
        f"question: {e.question}",
        f"language: {e.lang} ({e.lang_source})",
        f"folded:   {e.folded}",
        f"words:    {' '.join(e.words) or '-'}",
        f"not counted (stop words, single letters): {', '.join(e.dropped) or '-'}",
        "idioms:   "
        + ("; ".join(f'"{p}" read as "{m or "(nothing)"}"' for p, m in e.idioms) or "none"),
        "content words (word: stem -> term, how found, weight):",
    ]
    for v in e.content:
        tr = v.trace
        parts = [f"  {tr.word}: stem {v.stem}"]
        if tr.reading is not None:
            parts.append(f"(clitics off: {tr.reading})")
        if v.synonym:
            parts.append(f"-> {tr.term} (synonym)")
        elif tr.term != (tr.reading or v.stem):
            parts.append(f"-> {tr.term}")
        if tr.how == "exact":
            parts.append("| in the vocabulary")
        elif tr.how == "deep":
            found = ", ".join(t for t, _ in tr.expansions)
            parts.append(f"| deep stem {v.deep_stem} -> {found} (x{tr.expansions[0][1]:g})")
        elif tr.how == "typo":
            found = ", ".join(f"{t} (x{s:.2f})" for t, s in tr.expansions)
            parts.append(f"| near spelling of {found}")
        elif tr.how == "known":
            parts.append("| a synonyms-file word no phrasing uses: counts against every entry")
        else:
            parts.append("| unknown word: counts against every entry")
        parts.append(f"| weight {tr.weight:.2f}")
        if v.weak:
            parts.append("(question word, weighed lightly)")
        if not v.counted:
            parts.append(f"(same term as {v.counted_word}: counted once)")
        lines.append(" ".join(parts))
    if not e.content:
        lines.append("  -")
    synonyms = [f"{v.trace.word} -> {v.trace.term}" for v in e.content if v.synonym]
    lines.append(f"synonyms: {', '.join(synonyms) or 'none'}")
    if e.cues:
        lines.append("out-of-scope cues:")
        for c in e.cues:
            head = f'  "{c.hit.word}" (cue {c.hit.cue + 1}: {_short(c.words)})'
            if c.hit.lifted_by:
                lines.append(
                    f"{head}: lifted by {', '.join(sorted(c.hit.lifted_by))} (in its 'unless')"
                )
            elif c.hit.has_unless:
                lines.append(
                    f"{head}: FIRED, no 'unless' word ({_short(c.unless)}) in the question: "
                    f"every entry capped at {e.cap:g}"
                )
            else:
                spared = ", ".join(sorted(c.hit.spared)) or "none"
                lines.append(
                    f"{head}: FIRED; entries capped at {e.cap:g} except those whose "
                    f"phrasings use the word: {spared}"
                )
    else:
        lines.append("out-of-scope cues: none")
    lines.append(f"top {TOP}:")
    for i, r in enumerate(e.top, 1):
        note = ""
        if r.capped_by:
            cue = ", ".join(f'"{w}"' for w in r.capped_by)
            note = f"  [capped at {e.cap:g} by {cue}]" if r.at_cap else f"  [under the {cue} cap]"
        lines.append(f"  {i}. {r.entry_id:<30} {r.score:5.1f}  {r.title}{note}")
    if not e.top:
        lines.append("  - (no candidate)")
    lines.append(
        f"thresholds: answer {t.answer:g}, suggest {t.suggest:g}, margin {t.margin:g} "
        "(config.matching)"
    )
    lines.append(f"decision: {e.decision}{' (out of scope)' if e.out_of_scope else ''}")
    lines.append(f"  because {e.reason}")
    if e.apply_intent is not None:
        opens = e.apply_intent >= e.apply_threshold
        lines.append(
            f"form intent '{APPLY_INTENT}': {e.apply_intent:.1f} "
            + (
                f"(>= {e.apply_threshold:g}: the bot opens the form instead of answering)"
                if opens
                else f"(< {e.apply_threshold:g}: no form)"
            )
        )
    return "\n".join(lines)


def _short(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} words)" if len(items) > limit else "")


def run_explain(config: Config, text: str, lang: Lang | None, *, as_json: bool) -> int:
    kb = load_knowledge_base(config.bot.knowledge_path)
    matcher = Matcher.from_knowledge_base(kb, config.matching.thresholds())
    intents = None
    phrases = kb.intents.get(APPLY_INTENT)
    if phrases:
        extra = [(APPLY_INTENT, p) for texts in phrases.values() for p in texts]
        intents = Matcher.from_knowledge_base(kb, Thresholds(margin=0), extra=extra)
    e = explain(
        kb,
        matcher,
        text,
        lang,
        intents=intents,
        apply_threshold=config.matching.apply_intent_threshold,
    )
    print(json.dumps(e.as_dict(), ensure_ascii=False) if as_json else format_explanation(e))
    return 0


# ---------------------------------------------------------------------------
# kb test

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
