"""What the matcher returns: a decision with its ranked entries, and the traces that
``partnerbot kb explain`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from bot.normalize import Lang

Outcome = Literal["answer", "suggest", "fallback"]


class Scored(NamedTuple):
    """An entry's score. A named tuple, not a frozen dataclass: a question ranks every
    candidate entry (hundreds on a large base), and a frozen dataclass is built about
    twice as slowly (0.75 against 0.4 us)."""

    entry_id: str
    score: float


class Opinion(NamedTuple):
    """What the second opinion (``second_opinion``) said of a question it was asked about."""

    # Its values for its first entries and for "out of scope" (""), best first.
    values: tuple[Scored, ...]
    # The entry it is sure of and may answer, if any.
    sure: str | None
    # Why the entry it is sure of is not answered, if it is not: an out-of-scope cue of the
    # question holds it, or it is small talk in a message that asks something.
    held: str | None = None

    @property
    def answers(self) -> str | None:
        """The entry it answers: the one it is sure of, unless that one is held."""
        return None if self.held else self.sure


@dataclass(frozen=True)
class MatchResult:
    question: str
    lang: Lang
    outcome: Outcome
    entry_id: str | None
    score: float
    suggestions: tuple[str, ...]
    ranked: tuple[Scored, ...] = field(default=(), repr=False)
    # Another topic the message also asked about (a second question), offered as a button.
    also: tuple[str, ...] = ()
    # The lower bar a long message was held to (see ``decide``); None for a short one.
    long_floor: float | None = None
    # With learned weights: the model's values for the first entries ("" is its "out of
    # scope") and the blended lead of the first entry (``learned.blend``).
    learned: tuple[Scored, ...] = field(default=(), repr=False)
    lead: float | None = None
    # The second opinion, when the rest did not answer and it was asked (see ``decide``).
    second_opinion: Opinion | None = field(default=None, repr=False)

    @property
    def by_second_opinion(self) -> bool:
        """Whether the answer is the second opinion's."""
        opinion = self.second_opinion
        return opinion is not None and opinion.answers is not None and self.outcome == "answer"

    def as_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "lang": self.lang,
            "id": self.entry_id,
            "score": round(self.score, 1),
            "suggestions": list(self.suggestions),
            "outcome": self.outcome,
            "second_opinion": self.by_second_opinion,
        }


Expansion = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class WordTrace:
    """How ``Matcher.scores`` reads one content word (for ``partnerbot kb explain``)."""

    word: str
    term: str
    # exact: the term is in the vocabulary; deep: found by its coarse Arabic stem;
    # typo: by a near spelling; known: a synonyms-file word no phrasing uses; unknown.
    how: Literal["exact", "deep", "typo", "known", "unknown"]
    expansions: Expansion
    weight: float
    # The clitics-off reading the term came from ("لضباطكم" read as "ضباط"), if any.
    reading: str | None = None


@dataclass(frozen=True)
class CueHit:
    """An out-of-scope cue word found in a question (for ``partnerbot kb explain``)."""

    word: str
    cue: int  # the cue's position in the knowledge base's ``out_of_scope``
    lifted_by: frozenset[str]  # the question's words (or terms) in the cue's ``unless``
    has_unless: bool
    # Ids of the entries the cue leaves alone (a cue without ``unless`` spares the
    # entries whose phrasings use the word); every other entry is capped.
    spared: frozenset[str]
    # An ``asked`` cue's word said only in a statement of a message that asks: lifted.
    told: bool = False

    @property
    def in_force(self) -> bool:
        """Whether the cue caps entries: lifted neither by an ``unless`` word nor by being
        said only about the sender."""
        return not self.lifted_by and not self.told
