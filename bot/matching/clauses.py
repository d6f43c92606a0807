"""Long messages: a message that carries context before its question is read as both.

"our payments start-up in Lagos has spent months discussing fraud; what would working
with you involve?": the clause that asks weighs more than the context, and a second
question about another topic is offered as a button.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from bot.lexicon import Lexicon
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.result import Scored
from bot.normalize import fold, is_content, words

# Where one clause ends: sentence ends, semicolons, line breaks (not commas: "besides
# data, people and tools" is one clause).
_CLAUSE = re.compile("[^.!?;\n؟؛]+[.!?;\n؟؛]*")

ScoreFn = Callable[[str], tuple[list[Scored], tuple[str, ...]]]


# A message's clauses, each with whether it asks (see ``message_clauses``).
Clauses = list[tuple[str, bool]]


def message_clauses(text: str, lexicon: Lexicon) -> Clauses:
    """The clauses of ``text``, each with whether it asks (see ``question_clauses``).

    Read once per message: ``question_clauses`` and ``separate_questions`` both take it."""
    return [(c, _asks(c, found, lexicon)) for c, found in _clauses(text, lexicon)]


def told_words(clauses: Clauses, lexicon: Lexicon) -> frozenset[str]:
    """The folded words that a message which asks something uses only in its statements
    ("I head security at a bank."): what they say is about the sender. A clause that
    wants something ("I am looking for an internship") is a request, not a statement.
    Empty for a message with no clause that asks, or none that only tells."""
    if not any(asks for _, asks in clauses):
        return frozenset()
    asked: set[str] = set()
    told: set[str] = set()
    for clause, asks in clauses:
        found = words(clause, lexicon)
        if asks or lexicon.wants_something(found):
            asked.update(found)
        else:
            told.update(found)
    return frozenset(told - asked)


def question_clauses(
    text: str,
    lexicon: Lexicon,
    params: MatchParameters,
    clauses: Clauses | None = None,
    stands_alone: Callable[[str], bool] = lambda clause: True,
) -> list[str]:
    """The clauses of a long message that ask something, last first (those that end with a
    question mark before those that only open with a question word), or, where none asks,
    all its clauses that may be the question, last first; [] for a short one, and for one
    made only of questions (see ``separate_questions``).

    A clause asks when it ends with a question mark or opens with a question word
    (``question_words`` in knowledge/stop_words.yaml) or a question opener ("I need to
    know whether", «حاب أعرف»: ``question_openers`` in knowledge/phrases.yaml), which
    also starts a clause of its own. A message of one clause, or of
    fewer than ``long_message_words`` content words, is read whole.

    ``clauses``: ``message_clauses(text, lexicon)``, if already read. ``stands_alone``:
    whether a question would be answered on its own; one that opens with "and" or "or" and
    would not ("When is the next one? And where?") goes with the question before it.
    """
    if clauses is None:
        clauses = message_clauses(text, lexicon)
    if len(clauses) < 2:
        return []
    if all(asks for _, asks in clauses) or content_words(text, lexicon) < params.long_message_words:
        return []
    asking = _with_follow_ups(clauses, lexicon, stands_alone)
    if not asking:
        # Phones drop question marks and dialect drops question words: where no clause
        # asks, each clause of two content words or more may be the question, last first
        # ("Hello, I run security at a telecom in Nairobi. africa working group
        # recommendations": people write context first). A sign-off «وشكرا», a name or the
        # "com" of an e-mail address is shorter, and ``best_question`` passes over one
        # that names no topic or only small talk ("Thanks in advance").
        return [c for c, _ in reversed(clauses) if content_words(c, lexicon) >= 2]
    # A clause that ends with a question mark, or opens with a phrase that says it asks,
    # asks more surely than one that only opens with a question word ("... for its
    # courses? Would love to hear how it works.").
    ranked = sorted(asking[::-1], key=lambda c: not (_marked(c) or _opens(c, lexicon)))
    return [_after_opener(c, lexicon) for c in ranked]


def _with_follow_ups(
    clauses: Clauses, lexicon: Lexicon, stands_alone: Callable[[str], bool]
) -> list[str]:
    """The asking clauses in order, a follow-up joined to the question before it: a
    question that opens with "and" or "or" and names nothing it would be answered on
    ("When is the next one? And where will it be?", «المؤتمر الجاي إمتى؟ وهيكون فين؟»)
    goes on asking about the same thing. One that would ("And do you train?") is a
    question of its own."""
    asking: list[str] = []
    previous_asks = False
    for clause, asks in clauses:
        if (
            asks
            and previous_asks
            and asking
            and _follows_on(clause, lexicon)
            and not stands_alone(clause)
        ):
            asking[-1] += clause
        elif asks:
            asking.append(clause)
        previous_asks = asks
    return asking


def _follows_on(clause: str, lexicon: Lexicon) -> bool:
    """Whether ``clause`` opens with a conjunction, as a word or as و joined to its word
    (a word of four letters or more: وين, where, is no "and")."""
    found = fold(clause).split()
    if not found:
        return False
    first = found[0]
    return first in lexicon.conjunctions or (first[0] == "و" and len(first) >= 4)


def _marked(clause: str) -> bool:
    return "?" in clause or "؟" in clause


def _opens(clause: str, lexicon: Lexicon) -> bool:
    found = fold(clause).split()
    return bool(found) and lexicon.opener_at(found, 0) > 0


def separate_questions(text: str, lexicon: Lexicon, clauses: Clauses | None = None) -> list[str]:
    """The questions of a message made only of questions, each with words of its own
    ("What is secondment? And do you fund training?"), in order; [] otherwise. Nothing
    there is context to weigh down: the message is matched whole, and its questions
    only name the other topics it asks about.

    ``clauses``: ``message_clauses(text, lexicon)``, if already read."""
    if clauses is None:
        clauses = message_clauses(text, lexicon)
    if len(clauses) < 2 or not all(asks for _, asks in clauses):
        return []
    questions = [c for c, _ in clauses]
    return questions if all(content_words(c, lexicon) >= 2 for c in questions) else []


def _clauses(text: str, lexicon: Lexicon) -> list[tuple[str, list[str]]]:
    """The clauses of ``text`` (cut at question openers), each with its folded words.

    A clause is folded whole, once. Folding it whole gives the words that folding its
    tokens one by one does (no step of ``fold`` reaches across white space), so a clause
    with no question opener is never folded token by token; only one that may hold an
    opener is, to know where to cut it."""
    out: list[tuple[str, list[str]]] = []
    for clause in _CLAUSE.findall(text):
        found = fold(clause).split()
        if not found:
            continue
        if not lexicon.may_open(found):
            out.append((clause, found))
            continue
        pieces = _split_at_openers(clause, lexicon)
        if len(pieces) == 1 and pieces[0] == clause:
            out.append((clause, found))
        else:
            out.extend((piece, fold(piece).split()) for piece in pieces)
    return out


def _after_opener(clause: str, lexicon: Lexicon) -> str:
    """``clause`` without the question opener it starts with, if any: the opener says that
    something is asked, not what (its words, often unknown to the base, would weigh
    against every entry). Only the question clause loses it; the whole message keeps it."""
    tokens, found, token_of = _folded_tokens(clause)
    size = lexicon.opener_at(found, 0) if found else 0
    if not size or size >= len(found):
        return clause
    return " ".join(tokens[token_of[size] :])


def _folded_tokens(clause: str) -> tuple[list[str], list[str], list[int]]:
    """The clause's raw tokens, its folded words and, for each folded word, its token."""
    tokens = clause.split()
    found: list[str] = []
    token_of: list[int] = []
    for t, token in enumerate(tokens):
        for word in fold(token).split():
            found.append(word)
            token_of.append(t)
    return tokens, found, token_of


def _split_at_openers(clause: str, lexicon: Lexicon) -> list[str]:
    """``clause`` cut before every question opener that does not start it ("Before we go
    further I need to know whether ..." is context, then a question)."""
    if not lexicon.opener_starts:
        return [clause]
    tokens, found, token_of = _folded_tokens(clause)
    if not lexicon.may_open(found):
        return [clause]
    cuts = [0]
    for i in range(len(found)):
        t = token_of[i]
        if t > cuts[-1] and lexicon.opener_at(found, i):
            cuts.append(t)
    cuts.append(len(tokens))
    return [" ".join(tokens[a:b]) for a, b in itertools.pairwise(cuts) if a < b]


def content_words(text: str, lexicon: Lexicon) -> int:
    """How many of ``text``'s words are content words (not stop words)."""
    return sum(1 for w in words(text, lexicon) if is_content(w, lexicon))


def _asks(clause: str, found: list[str], lexicon: Lexicon) -> bool:
    """Whether ``clause``, of folded words ``found``, asks something."""
    if _marked(clause):
        return True
    if not found:
        return False
    return lexicon.question_word(found[0]) is not None or lexicon.opener_at(found, 0) > 0


def other_topics(score: ScoreFn, questions: list[str], thresholds: Thresholds) -> tuple[str, ...]:
    """The best entry of each question that one would answer on its own."""
    return _answerable([score(question)[0] for question in questions], thresholds)


def _answerable(rankings: list[list[Scored]], thresholds: Thresholds) -> tuple[str, ...]:
    found = [r[0].entry_id for r in rankings if r and r[0].score >= thresholds.answer]
    return tuple(dict.fromkeys(found))


def best_question(
    rankings: list[list[Scored]],
    thresholds: Thresholds,
    small_talk: AbstractSet[str],
    told_only: bool = False,
) -> int | None:
    """Which of a message's question clauses, each ranked by ``score``, is its question: the
    first (see ``question_clauses`` for the order) whose best entry is worth offering at
    least and is not small talk (``small_talk``: "Thanks in advance" closes a message, it
    does not ask it); the first if none is (see ``weigh_questions``). Where no clause asks
    (``told_only``), the last clause that names any topic but small talk: people write
    their context first, and the question, unmarked, may score low on its own; None if
    none does (the message is read whole)."""
    bar = 0.0 if told_only else thresholds.suggest
    for i, ranking in enumerate(rankings):
        if ranking and ranking[0].score >= bar and ranking[0].entry_id not in small_talk:
            return i
    return None if told_only else 0


def weigh_questions(
    score: ScoreFn,
    ranked: list[Scored],
    offers: tuple[str, ...],
    questions: list[str],
    params: MatchParameters,
    thresholds: Thresholds,
    small_talk: AbstractSet[str] = frozenset(),
    told_only: bool = False,
) -> tuple[list[Scored], tuple[str, ...], tuple[str, ...], str | None]:
    """Scores of the whole message blended with those of its question clause, the
    best entry of any other question clause that the blend does not rank first, and the
    question clause weighed (None if none names a topic).

    A question clause that names no topic the base knows is passed over for the next:
    "which sectors do you work with? I'd like to know whether we have a chance" asks about
    sectors, and the chance offers nothing. Where no clause asks (``told_only``), one of
    them is the question only if it names a topic; otherwise the message is read whole."""
    scored = [score(question) for question in questions]
    best = best_question([ranking for ranking, _ in scored], thresholds, small_talk, told_only)
    if best is None or not scored[best][0]:
        return ranked, offers, (), None
    part, part_offers = scored[best]
    whole = {s.entry_id: s.score for s in ranked}
    clause = {s.entry_id: s.score for s in part}
    weight = params.clause_weight
    blended = [
        Scored(e, weight * clause.get(e, 0.0) + (1 - weight) * whole.get(e, 0.0))
        for e in dict.fromkeys([*whole, *clause])
    ]
    blended.sort(key=lambda s: -s.score)
    merged_offers = tuple(dict.fromkeys([*part_offers, *offers]))
    # Where no clause asks, the others are context, not questions of their own.
    others = [] if told_only else [r for i, (r, _) in enumerate(scored) if i != best]
    return blended, merged_offers, _answerable(others, thresholds), questions[best]
