"""The lexicon: stop words, shorthand, compounds, idioms and grammar words, as data.

Its content lives in ``knowledge/stop_words.yaml`` and ``knowledge/phrases.yaml``
(read by ``bot.knowledge.lexicon``); this module only holds the model. Every word is
folded (see ``normalize.fold``) before it gets here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
# What may stand before an Arabic stop word that is still one ("الطريقة", "وحابين").
ARABIC_ATTACHED: tuple[str, ...] = ("وال", "ال", "و")
# Conjunctions that may stand before a question opener ("ونرغب في معرفة", "فحاب اعرف").
_CONJUNCTIONS = frozenset("وف")
# What may stand before a word of knowing: و, ف and the preposition ب («نرجو التكرم بتوضيح»).
_KNOWING_PREFIXES = frozenset("وفب")


@dataclass(frozen=True)
class Lexicon:
    stop_words: frozenset[str] = frozenset()
    # Stop words that are nouns that matter behind the article ("الدول", "الطرق").
    keep_after_article: frozenset[str] = frozenset()
    # Question words weighed lightly ("why"); never a match on their own.
    weak_words: frozenset[str] = frozenset()
    # Words that open a question: they find the question in a long message.
    question_words: frozenset[str] = frozenset()
    shorthand: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    compounds: Mapping[tuple[str, str], str] = field(default_factory=dict)
    idioms: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    excluders: frozenset[str] = frozenset()
    conjunctions: frozenset[str] = frozenset()
    negators: frozenset[str] = frozenset()
    # Words of wanting and seeking: a clause with one makes a request ("I need a job").
    wants: frozenset[str] = frozenset()
    # Phrases that introduce a question ("i need to know", «حاب اعرف»), as folded word
    # tuples: they mark the question clause of a long message.
    question_openers: frozenset[tuple[str, ...]] = frozenset()
    # Words of knowing and asking: after a word of wanting, they open a question too.
    knowing: frozenset[str] = frozenset()
    # Phrases that open a letter's salutation and its sign-off, as folded word tuples.
    letter_openings: frozenset[tuple[str, ...]] = frozenset()
    letter_closings: frozenset[tuple[str, ...]] = frozenset()
    # Derived, for speed: Arabic stop words that stay stop words behind the article,
    # the lengths of the idioms (longest first) and their first words.
    long_stop_words: frozenset[str] = field(init=False)
    idiom_sizes: tuple[int, ...] = field(init=False)
    idiom_starts: frozenset[str] = field(init=False)
    opener_sizes: tuple[int, ...] = field(init=False)
    opener_starts: frozenset[str] = field(init=False)
    _opener_firsts: frozenset[str] = field(init=False)  # also behind و and ف
    letter_opening_starts: frozenset[str] = field(init=False)
    letter_closing_starts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        long_stop_words = frozenset(
            w
            for w in self.stop_words
            if len(w) >= 3 and _ARABIC_LETTER.match(w) and w not in self.keep_after_article
        )
        object.__setattr__(self, "long_stop_words", long_stop_words)
        object.__setattr__(
            self, "idiom_sizes", tuple(sorted({len(k) for k in self.idioms}, reverse=True))
        )
        object.__setattr__(self, "idiom_starts", frozenset(k[0] for k in self.idioms))
        object.__setattr__(
            self,
            "opener_sizes",
            tuple(sorted({len(k) for k in self.question_openers}, reverse=True)),
        )
        starts = frozenset(k[0] for k in self.question_openers)
        object.__setattr__(self, "opener_starts", starts)
        object.__setattr__(
            self, "_opener_firsts", starts | {c + w for c in _CONJUNCTIONS for w in starts}
        )
        object.__setattr__(
            self, "letter_opening_starts", frozenset(p[0] for p in self.letter_openings)
        )
        object.__setattr__(
            self, "letter_closing_starts", frozenset(p[0] for p in self.letter_closings)
        )

    def may_open(self, found: list[str]) -> bool:
        """Whether a question opener may start at one of the folded words ``found``."""
        return not self._opener_firsts.isdisjoint(found) or self.wants_something(found)

    def _wanted_knowing(self, found: list[str], i: int) -> int:
        """The length of a wanting-and-knowing opener at ``found[i]`` ("we would welcome
        guidance", «نأمل إفادتنا»): a word of wanting, then a word of knowing within the next
        three words (a knowing word may carry و, ف or ب: «بتوضيح»); 0 if none."""
        if not self._wants(found[i]):
            return 0
        for j in range(i + 1, min(i + 4, len(found))):
            if self.knows(found[j]):
                return j + 1 - i
        return 0

    def knows(self, word: str) -> bool:
        """Whether the folded ``word`` is a word of knowing, also behind و, ف or ب
        («وشرح», «بتوضيح»)."""
        return word in self.knowing or (word[:1] in _KNOWING_PREFIXES and word[1:] in self.knowing)

    def _wants(self, word: str) -> bool:
        return word in self.wants or (word[:1] in _CONJUNCTIONS and word[1:] in self.wants)

    def wants_something(self, found: list[str]) -> bool:
        """Whether the folded words ``found`` hold a word of wanting, also behind و or ف
        ("وأريد")."""
        return any(self._wants(word) for word in found)

    def question_word(self, word: str) -> str | None:
        """The question word that the folded ``word`` is, also behind و or ف ("وهل",
        "فكيف": and/so + the word); None for any other word."""
        if word in self.question_words:
            return word
        if word[:1] in _CONJUNCTIONS and word[1:] in self.question_words:
            return word[1:]
        return None

    def opener_at(self, found: list[str], i: int) -> int:
        """The length of the question opener that starts at ``found[i]`` (longest), or 0.

        An Arabic opener may carry the conjunction و or ف ("ونرغب في معرفة"). A word of
        wanting before a word of knowing is one too (see ``knowing``)."""
        paired = self._wanted_knowing(found, i)
        if paired:
            return max(paired, self._listed_opener(found, i))
        return self._listed_opener(found, i)

    def _listed_opener(self, found: list[str], i: int) -> int:
        first = found[i]
        if first not in self.opener_starts:
            first = first[1:] if first[:1] in _CONJUNCTIONS else ""
            if first not in self.opener_starts:
                return 0
        for size in self.opener_sizes:
            if (first, *found[i + 1 : i + size]) in self.question_openers:
                return size
        return 0
