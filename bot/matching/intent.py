"""Whether a message asks to start the sign-up form ("we want to partner with you") or
asks about partnering ("what is the partnership?").

The intent's phrases (knowledge/intents.yaml) compete with the base's answers in a
matcher of their own, so that the intent must beat the real answers: it opens the form
when it ranks first, at or above the threshold. Its phrases share their topic word with
the answers ("partner", «الشراكة»), and a question made of that word and stop words
scores as high for the intent as "we want to partner with you" does. So a message that
asks about something (a clause that asks, or a word of knowing among its first words:
"tell me about partnerships") opens the form only when it also carries the intent: a wish that is
not a wish to know ("we want", «نريد»), or one of the intent's own words, which no answer
uses ("apply", "sign", «طلب»).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.knowledge.model import KnowledgeBase
from bot.matching import Matcher, MatchResult, Thresholds
from bot.matching.clauses import message_clauses
from bot.normalize import words

Carrier = Literal["wish", "own word"]


@dataclass(frozen=True, slots=True)
class IntentReading:
    """How a message was read for the intent."""

    score: float  # the intent's score (0-100; 0 when it is no candidate)
    first: bool  # whether it ranks first, above every answer
    asks_about: bool  # whether the message asks about something
    carried_by: Carrier | None  # what in the message carries the intent, if anything
    opens: bool  # whether the form opens


# A message asks about something when a word of knowing comes this early ("tell me
# about...", "ok so just explain the partnership").
_KNOWING_WITHIN = 4


class Intent:
    """One intent of the base (``name``, e.g. "apply"), read in messages."""

    def __init__(self, kb: KnowledgeBase, name: str, threshold: float) -> None:
        phrases = [(name, p) for texts in kb.intents.get(name, {}).values() for p in texts]
        self.name = name
        self.threshold = threshold
        # Margin 0: the intent needs only to rank first; the threshold bounds its score.
        self.matcher = Matcher.from_knowledge_base(
            kb, Thresholds(margin=0), extra=phrases, learned=False
        )
        index = self.matcher.index
        mine = index.entry_ids.index(name) if phrases else None
        # The intent's own terms: used by its phrases and by no answer's.
        self._own = frozenset(
            term for term, entries in index.entry_postings.items() if entries == (mine,)
        )

    def read(self, text: str) -> IntentReading:
        """How ``text`` is read for the intent, and whether it opens the form."""
        return self._read(text, self.matcher.match(text))

    def _read(self, text: str, result: MatchResult) -> IntentReading:
        score = next((s.score for s in result.ranked if s.entry_id == self.name), 0.0)
        first = result.entry_id == self.name  # answered, as the matcher answers
        read = self.matcher.reading(text)
        lexicon = self.matcher.lexicon
        found = words(read, lexicon)
        asks_about = any(asks for _, asks in message_clauses(read, lexicon)) or any(
            lexicon.knows(word) for word in found[:_KNOWING_WITHIN]
        )
        carried_by: Carrier | None = None
        if any(term in self._own for _, term in self.matcher.terms.word_terms(found)):
            carried_by = "own word"
        elif any(
            lexicon.wants_something([word]) and not lexicon.opener_at(found, i)
            for i, word in enumerate(found)
        ):
            carried_by = "wish"
        opens = first and score >= self.threshold and (not asks_about or carried_by is not None)
        return IntentReading(score, first, asks_about, carried_by, opens)

    def opens(self, text: str) -> bool:
        """Whether ``text`` opens what the intent starts (the form) instead of an answer.
        Every message the bot gets asks this: one the intent does not win is not read
        further."""
        result = self.matcher.match(text)
        if result.entry_id != self.name or result.score < self.threshold:
            return False
        return self._read(text, result).opens
