"""Long messages: a message that carries context before its question is read as both.

"our payments start-up in Lagos has spent months discussing fraud; what would working
with you involve?": the clause that asks weighs more than the context, and a second
question about another topic is offered as a button.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.lexicon import Lexicon
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.result import Scored
from bot.normalize import fold, is_content, words

# Where one clause ends: sentence ends, semicolons, line breaks (not commas: "besides
# data, people and tools" is one clause).
_CLAUSE = re.compile("[^.!?;\n؟؛]+[.!?;\n؟؛]*")

ScoreFn = Callable[[str], tuple[list[Scored], tuple[str, ...]]]


def question_clauses(text: str, lexicon: Lexicon, params: MatchParameters) -> list[str]:
    """The clauses of a long message that ask something, last first; [] for a short one.

    A clause asks when it ends with a question mark or opens with a question word
    (``question_words`` in knowledge/stop_words.yaml). A message of one clause, or of
    fewer than ``long_message_words`` content words, is read whole.
    """
    clauses = [c for c in _CLAUSE.findall(text) if fold(c)]
    if len(clauses) < 2:
        return []
    found = words(text, lexicon)
    if sum(1 for w in found if is_content(w, lexicon)) < params.long_message_words:
        return []
    asking = []
    for clause in clauses:
        first = fold(clause).split()[:1]
        asks = "?" in clause or "؟" in clause
        if asks or (first and first[0] in lexicon.question_words):
            asking.append(clause)
    return asking[::-1] if len(asking) < len(clauses) else []


def weigh_questions(
    score: ScoreFn,
    ranked: list[Scored],
    offers: tuple[str, ...],
    questions: list[str],
    params: MatchParameters,
    thresholds: Thresholds,
) -> tuple[list[Scored], tuple[str, ...], tuple[str, ...]]:
    """Scores of the whole message blended with those of its (last) question clause,
    and the best entry of any other question clause that the blend does not rank first."""
    part, part_offers = score(questions[0])
    if not part:
        return ranked, offers, ()
    whole = {s.entry_id: s.score for s in ranked}
    clause = {s.entry_id: s.score for s in part}
    weight = params.clause_weight
    blended = [
        Scored(e, weight * clause.get(e, 0.0) + (1 - weight) * whole.get(e, 0.0))
        for e in dict.fromkeys([*whole, *clause])
    ]
    blended.sort(key=lambda s: -s.score)
    also: list[str] = []
    for other in questions[1:]:
        other_ranked, _ = score(other)
        if other_ranked and other_ranked[0].score >= thresholds.answer:
            also.append(other_ranked[0].entry_id)
    merged_offers = tuple(dict.fromkeys([*part_offers, *offers]))
    return blended, merged_offers, tuple(dict.fromkeys(also))
