"""``partnerbot kb explain``: how the matcher reads one question and why it decided as
it did. It reads the real matcher (``Matcher.scores``, ``Matcher.match`` and its read-only
``trace_word`` and ``cue_hits``), so what it prints is what the bot does."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from bot.config import Config
from bot.knowledge import APPLY_INTENT, KnowledgeBase, load_knowledge_base
from bot.matching import (
    CueHit,
    Hold,
    Matcher,
    MatchResult,
    Opinion,
    Thresholds,
    WordTrace,
)
from bot.matching.intent import Intent, IntentReading
from bot.normalize import (
    Lang,
    deep_stem,
    fold,
    idiom_spans,
    is_content,
    stem,
    words,
)

TOP = 5


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
        return self.hit.in_force


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
    # A letter pasted into the chat, read without its salutation and sign-off.
    letter: str | None
    reading: str | None  # an Arabizi message in Arabic letters, as it is matched
    folded: str
    words: tuple[str, ...]
    idioms: tuple[tuple[str, str], ...]  # (phrase, what it is read as)
    dropped: tuple[str, ...]  # stop words and single letters
    content: tuple[WordView, ...]
    cues: tuple[CueView, ...]
    cap: float
    top: tuple[Ranked, ...]
    question_clause: str | None  # the clause of a long message weighed over its context
    clause_weight: float
    # Words the learned model never saw: they weaken its values / left out as context.
    strangers: tuple[str, ...]
    context_strangers: tuple[str, ...]
    result: MatchResult
    thresholds: Thresholds
    decision: str  # answer / did you mean / fallback
    reason: str  # the threshold that decided
    out_of_scope: bool  # an active cue capped the top entry at the cap
    apply_intent: IntentReading | None  # how the form's intent reads it, if the base has one
    apply_threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "lang": self.lang,
            "lang_source": self.lang_source,
            "letter": self.letter,
            "reading": self.reading,
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
                    "told": c.hit.told,
                    "spared": sorted(c.hit.spared),
                    "active": c.active,
                }
                for c in self.cues
            ],
            "cap": self.cap,
            "question_clause": self.question_clause,
            "learned_unknown": {
                "counted": list(self.strangers),
                "context": list(self.context_strangers),
            },
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
            "second_opinion": _opinion_dict(self.result.second_opinion),
            "out_of_scope": self.out_of_scope,
            "thresholds": {
                "answer": self.thresholds.answer,
                "suggest": self.thresholds.suggest,
                "margin": self.thresholds.margin,
                "long_margin": self.thresholds.long_margin,
            },
            "apply_intent": None
            if self.apply_intent is None
            else round(self.apply_intent.score, 1),
            "form_intent": None if self.apply_intent is None else self._form_intent(),
        }

    def _form_intent(self) -> dict[str, Any]:
        """How the form's intent read the question (the text's "form intent" line)."""
        assert self.apply_intent is not None
        reading = self.apply_intent
        return {
            "score": round(reading.score, 1),
            "threshold": self.apply_threshold,
            "ranks_first": reading.first,
            "asks_about": reading.asks_about,
            "carried_by": reading.carried_by,
            "opens_form": reading.opens,
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
    intent: Intent | None = None,
) -> Explanation:
    """How ``matcher`` reads ``text`` and why it answers, offers choices or falls back."""
    result = matcher.match(text, lang)
    # The ranking that decided: for a long message, the whole blended with its question
    # clause (the top five are kept with the result).
    ranked = list(result.ranked)
    question_clause = matcher.question_clause(text)
    t = matcher.thresholds
    cap = t.cue_cap
    # A letter is matched without its salutation and sign-off, an Arabizi message in
    # Arabic letters: its words are those of the reading.
    body = matcher.letter_body(text)
    read = matcher.reading(text)
    found = words(read, matcher.lexicon)

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
        for hit in matcher.cue_hits(text)
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
                at_cap=bool(capping) and scored.score == cap,
            )
        )
    hold: Hold = matcher.hold(text, ranked[0].entry_id) if ranked else "free"
    decision, reason = _decision(
        result,
        ranked_scores=[r.score for r in ranked],
        t=t,
        views=views,
        hold=hold,
    )
    out_of_scope = result.outcome != "answer" and bool(top) and top[0].at_cap
    if out_of_scope:
        cue_words = ", ".join(f'"{w}"' for w in top[0].capped_by)
        reason = (
            f"out of scope: the cue {cue_words} capped the top score at {cap:g} "
            f"(halfway between suggest {t.suggest:g} and answer {t.answer:g}); {reason}"
        )
    elif active and top:
        cue_words = ", ".join(dict.fromkeys(f'"{c.hit.word}"' for c in active))
        if result.by_second_opinion:
            reason += f"; the cue {cue_words} does not hold {result.entry_id}"
        elif result.outcome == "answer" and (top[0].at_cap or hold == "honest"):
            pass  # answered as the cues' honest entry: the reason says so
        elif result.outcome == "answer" and top[0].capped_by:
            reason += (
                f"; the cue {cue_words} caps {top[0].entry_id} in the whole message, "
                "but not in its question clause"
            )
        elif result.outcome == "answer":
            reason += f"; the cue {cue_words} spares {top[0].entry_id} (its phrasings use the word)"
        else:
            reason += f"; the cue {cue_words} fired, but no capped score reached its cap {cap:g}"
    if lang is not None:
        source: Literal["given", "detected", "arabizi"] = "given"
        shown_lang = result.lang
    elif matcher.is_arabizi(text):  # read as Arabizi, as the bot reads it
        source, shown_lang = "arabizi", "ar"
    else:
        source, shown_lang = "detected", result.lang
    strangers, context_strangers = matcher.model_strangers(text)
    apply_reading = intent.read(text) if intent is not None else None
    return Explanation(
        question=text,
        lang=shown_lang,
        lang_source=source,
        letter=body if body != text else None,
        reading=read if read != body else None,
        folded=fold(read),
        words=tuple(found),
        idioms=tuple(fired_idioms(read, matcher)),
        dropped=tuple(dict.fromkeys(w for w in found if not is_content(w, matcher.lexicon))),
        content=tuple(views),
        cues=cues,
        cap=cap,
        top=tuple(top),
        question_clause=question_clause,
        clause_weight=matcher.parameters.clause_weight,
        strangers=tuple(strangers),
        context_strangers=tuple(context_strangers),
        result=result,
        thresholds=t,
        decision=decision,
        reason=reason,
        out_of_scope=out_of_scope,
        apply_intent=apply_reading,
        apply_threshold=intent.threshold if intent is not None else 0.0,
    )


def _opinion_dict(opinion: Opinion | None) -> dict[str, Any] | None:
    """The second opinion for ``kb explain --json``: None where it was not asked."""
    if opinion is None:
        return None
    return {
        "values": [{"id": e or None, "value": round(v, 3)} for e, v in opinion.values],
        "sure": opinion.sure,
        "held": opinion.held,
    }


def _floor(floor: float | None, t: Thresholds) -> str:
    """The long-message bar, named."""
    if floor == t.cue_cap:
        return f"the cue cap {t.cue_cap:g} (an out-of-scope cue is in force in the message)"
    return f"suggest {t.suggest:g} (no out-of-scope cue in force in the message)"


def _decision(
    result: MatchResult,
    *,
    ranked_scores: list[float],
    t: Thresholds,
    views: list[WordView],
    hold: Hold,
) -> tuple[str, str]:
    opinion = result.second_opinion
    if opinion is not None:
        # Asked because the rest did not answer: that decision, then what it said.
        decision, why = _decision(
            _before_opinion(result, t), ranked_scores=ranked_scores, t=t, views=views, hold=hold
        )
        return _opinion_decision(result, opinion, t, decision, why)
    blended = result.lead
    if blended == math.inf and result.outcome == "answer":
        # The fuzzy rule answered, and the model ranks the same entry first (or it is the
        # only candidate).
        decision, why = _decision(
            replace(result, lead=None),
            ranked_scores=sorted(ranked_scores, reverse=True),
            t=t,
            views=views,
            hold=hold,
        )
        return decision, why + "; the learned weights rank it first too"
    if blended is not None and ranked_scores:
        return _blended_decision(result, blended, max(ranked_scores), t, hold)
    top = ranked_scores[0] if ranked_scores else 0.0
    runner_up = ranked_scores[1] if len(ranked_scores) > 1 else 0.0
    lead = top - runner_up
    if result.outcome == "answer":
        if top >= t.answer and lead >= t.margin:
            why = (
                f"top {top:.1f} >= answer {t.answer:g}, {lead:.1f} ahead of the "
                f"runner-up (>= margin {t.margin:g})"
            )
        else:
            why = (
                f"a long message: top {top:.1f} > {_floor(result.long_floor, t)}, {lead:.1f} "
                f"ahead of the runner-up (>= long margin {t.long_margin:g})"
            )
        return f"answer {result.entry_id}", why
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
        floor = result.long_floor
        if floor is not None and top > floor:
            why += (
                f"; a long message, above {_floor(floor, t)}, but only {lead:.1f} "
                f"ahead of the runner-up (< long margin {t.long_margin:g})"
            )
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


def _before_opinion(result: MatchResult, t: Thresholds) -> MatchResult:
    """``result`` as the matcher had decided before it asked the second opinion."""
    if not result.by_second_opinion:
        return replace(result, second_opinion=None)
    choices = tuple(s.entry_id for s in result.ranked if s.score >= t.suggest)
    return replace(
        result,
        outcome="suggest" if choices else "fallback",
        entry_id=None,
        suggestions=choices[: t.max_suggestions],
        second_opinion=None,
    )


def _opinion_decision(
    result: MatchResult, opinion: Opinion, t: Thresholds, decision: str, why: str
) -> tuple[str, str]:
    """The decision once the second opinion (``bot.matching.second_opinion``) was asked:
    ``decision`` and ``why`` are the matcher's without it."""
    first = opinion.values[0] if opinion.values else None
    runner_up = opinion.values[1].score if len(opinion.values) > 1 else None
    bar = (
        f"needs a value > {t.second_opinion_value:+g} and a lead >= "
        f"{t.second_opinion_lead:g} over the runner-up and 'out of scope'"
    )
    if first is None or runner_up is None:
        return decision, why + "; the second opinion has no entry to rank"
    said = (
        f"the second opinion (the words' letters) ranks {first.entry_id or 'out of scope'} "
        f"first (value {first.score:+.2f}, leads by {first.score - runner_up:.2f}"
    )
    if result.by_second_opinion:
        return f"answer {result.entry_id}", f"{why}; but {said}: sure, {bar})"
    if opinion.held:
        return decision, f"{why}; {said}: sure, but {opinion.held})"
    not_sure = "refusing is the matcher's own decision" if first.entry_id == "" else bar
    shown = ", ".join(f"{e or 'out of scope'} {v:+.2f}" for e, v in opinion.values)
    return decision, f"{why}; {said}: not sure, {not_sure}; values {shown})"


def _blended_decision(
    result: MatchResult, blended: float, best: float, t: Thresholds, hold: Hold
) -> tuple[str, str]:
    """The decision with learned weights (``bot.matching.decision.answers_blended``);
    ``hold``: how the message's cues hold the first entry."""
    floor = result.long_floor
    clears = best >= t.answer or (floor is not None and best > floor)
    bar = f"answer {t.answer:g}" if best >= t.answer else _floor(floor, t)
    first = result.ranked[0] if result.ranked else None
    value = dict(result.learned).get(first.entry_id, -1.0) if first else -1.0
    sure = (
        f"the learned model is sure of it (value {value:+.2f} > {t.learned_sure_value:+g}, "
        f"leads by {blended:.2f} "
        f">= learned sure lead {t.learned_sure_lead:g})"
    )
    unsure = (
        f"the learned model is not sure of it (value {value:+.2f}, leads by {blended:.2f}; "
        f"needs > {t.learned_sure_value:+g} and >= learned sure lead {t.learned_sure_lead:g})"
    )
    honest = "it is the honest entry of every out-of-scope cue that holds it"
    if result.outcome == "answer":
        assert first is not None
        if hold == "honest":
            at = f" at the cap {t.cue_cap:g}" if first.score == t.cue_cap else ""
            why = f"an out-of-scope cue holds {first.entry_id}{at}, but {honest}, and {sure}"
        elif clears and first.score >= t.suggest:
            why = (
                f"best fuzzy score {best:.1f} clears {bar}; with the learned weights "
                f"{first.entry_id} leads by {blended:.2f} (>= learned margin "
                f"{t.learned_margin:g})"
            )
        else:
            why = (
                f"{first.entry_id} scores {first.score:.1f} < suggest {t.suggest:g}"
                if clears
                else f"best fuzzy score {best:.1f} < answer {t.answer:g}"
            )
            why += f"; but {sure}"
        return f"answer {first.entry_id}", why
    reasons = []
    if not clears:
        below = f"best fuzzy score {best:.1f} < answer {t.answer:g}"
        reasons.append(below + (f" and not above {_floor(floor, t)}" if floor is not None else ""))
    if blended < t.learned_margin:
        reasons.append(
            f"with the learned weights the first entry leads by only {blended:.2f} "
            f"(< learned margin {t.learned_margin:g})"
        )
    elif first is not None and (hold != "free" or first.score == t.cue_cap):
        at = f" at the cap {t.cue_cap:g}" if first.score == t.cue_cap else ""
        reasons.append(
            f"with the learned weights {first.entry_id} comes first, but an out-of-scope cue "
            f"holds it{at}"
        )
        reasons.append(
            f"{honest}, but {unsure}"
            if hold == "honest"
            else "it is not the honest entry of every cue that holds it: never answered"
        )
    elif not clears:
        reasons.append(unsure)
    else:
        assert first is not None
        reasons.append(
            f"with the learned weights {first.entry_id} comes first, but its fuzzy score "
            f"{first.score:.1f} < suggest {t.suggest:g}, and {unsure}"
        )
    why = "; ".join(reasons)
    if result.outcome == "suggest":
        return f"did you mean: {', '.join(result.suggestions)}", (
            why + f"; choices are the entries >= suggest {t.suggest:g} (up to {t.max_suggestions})"
        )
    return "fallback", why + f"; no entry >= suggest {t.suggest:g}"


def format_explanation(e: Explanation) -> str:
    t = e.thresholds
    lines = [
        f"question: {e.question}",
        f"language: {e.lang} ({e.lang_source})",
        *([f"letter:   read without its salutation and sign-off: {e.letter}"] if e.letter else []),
        *([f"read as: {e.reading} (Arabizi in Arabic letters)"] if e.reading else []),
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
            elif c.hit.told:
                lines.append(
                    f"{head}: lifted: said only in a statement of a message that asks "
                    "(the cue is 'asked')"
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
    learned = dict(e.result.learned)
    if e.question_clause is not None:
        twice = "; the learned model reads it twice" if learned else ""
        lines.append(
            f"long message, read as context plus the question clause "
            f'"{e.question_clause.strip()}" (weighs {e.clause_weight:g}{twice})'
        )
    lines.append(
        f"top {TOP} (fuzzy score, then the learned model's value; in blended order):"
        if learned
        else f"top {TOP}:"
    )
    if "" in learned:
        lines.append(f"  (the learned model's value for 'out of scope': {learned['']:+.2f})")
    if e.strangers or e.context_strangers:
        parts = []
        if e.strangers:
            parts.append(f"{_short(e.strangers)} (weaken its values)")
        if e.context_strangers:
            parts.append(f"{_short(e.context_strangers)} (a long message's context: left out)")
        lines.append(f"  (words the learned model never saw: {'; '.join(parts)})")
    for i, r in enumerate(e.top, 1):
        note = ""
        if r.capped_by:
            cue = ", ".join(f'"{w}"' for w in r.capped_by)
            if r.at_cap:
                note = f"  [capped at {e.cap:g} by {cue}]"
            elif r.score > e.cap:  # lifted by a question clause without the cue
                note = f"  [capped by {cue} in the whole message only]"
            else:
                note = f"  [under the {cue} cap]"
        value = learned.get(r.entry_id)
        weight = f"  learned {value:+.2f}" if value is not None else ""
        lines.append(f"  {i}. {r.entry_id:<30} {r.score:5.1f}{weight}  {r.title}{note}")
    if not e.top:
        lines.append("  - (no candidate)")
    lines.append(
        f"thresholds: answer {t.answer:g}, suggest {t.suggest:g}, margin {t.margin:g}, "
        f"long margin {t.long_margin:g} (config.matching)"
    )
    lines.append(f"decision: {e.decision}{' (out of scope)' if e.out_of_scope else ''}")
    lines.append(f"  because {e.reason}")
    if e.apply_intent is not None:
        lines.append(
            f"form intent '{APPLY_INTENT}': {_intent_line(e.apply_intent, e.apply_threshold)}"
        )
    return "\n".join(lines)


def _intent_line(reading: IntentReading, threshold: float) -> str:
    """The form intent's score and why the form opens or not, as the bot decides."""
    score = f"{reading.score:.1f}"
    if not reading.score:
        return f"{score} (no phrase of it matches: no form)"
    if not reading.first:
        return f"{score} (an answer ranks first: no form)"
    if reading.score < threshold:
        return f"{score} (< {threshold:g}: no form)"
    if reading.opens:
        carrier = "a wish" if reading.carried_by == "wish" else "one of its own words"
        why = f", and {carrier} carries it" if reading.asks_about else ""
        return f"{score} (>= {threshold:g}{why}: the bot opens the form instead of answering)"
    return (
        f"{score} (>= {threshold:g}, but the message asks about it with no wish and none of "
        "the intent's own words: answered, no form)"
    )


def _short(items: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} words)" if len(items) > limit else "")


def run_explain(config: Config, text: str, lang: Lang | None, *, as_json: bool) -> int:
    kb = load_knowledge_base(config.bot.knowledge_path)
    matcher = Matcher.from_knowledge_base(kb, config.matching.thresholds())
    intent = None
    if kb.intents.get(APPLY_INTENT):
        intent = Intent(kb, APPLY_INTENT, config.matching.apply_intent_threshold)
    e = explain(kb, matcher, text, lang, intent=intent)
    print(json.dumps(e.as_dict(), ensure_ascii=False) if as_json else format_explanation(e))
    return 0
