"""How a message is read before it is matched: without a letter's salutation and
sign-off (``letters``), and Arabizi (Arabic typed in Latin letters, "momken n2adem
ta7leel lel interpol?") in Arabic letters, each word spelled as the base spells it, but
for the English words the base knows.

The Arabizi word list is content (knowledge/arabizi.yaml); how a word is rendered and
whether a message is Arabizi is ``bot.arabizi``; what the base knows is the matcher's
terms, index and spelling, which a ``Reader`` is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import fuzz

from bot.arabizi import (
    arabic_skeleton,
    is_code,
    mixes_scripts,
    read_arabizi,
    reads_as_arabizi,
    romanized,
    sentences,
    sounds,
    spellings_to_try,
    to_arabic_script,
)
from bot.lexicon import Lexicon
from bot.matching.clauses import message_clauses
from bot.matching.index import Index
from bot.matching.letters import letter_body
from bot.matching.spelling import Spelling
from bot.matching.terms import Terms, starts_arabic
from bot.normalize import fold, is_content

# Least rapidfuzz ratio between an Arabizi word and a base spelling with its consonants
# for the one to be read as the other.
_SOUNDS_ALIKE = 60.0


class Reader:
    """Reads messages as the matcher matches them."""

    def __init__(
        self,
        lexicon: Lexicon,
        terms: Terms,
        index: Index,
        spelling: Spelling,
        arabizi: frozenset[str],
        phrasings: Iterable[tuple[str, list[tuple[str, str]]]],
        synonyms: Mapping[str, str],
    ) -> None:
        """``arabizi``: Arabic words as typed in Latin letters; without them, no message is
        read as Arabizi. ``phrasings``: the base's phrasings as (entry id, (word, term)
        pairs), whose words, with the synonyms' and the stop words, are the spellings an
        Arabizi word is read as."""
        self.lexicon = lexicon
        self.terms = terms
        self.index = index
        self.spelling = spelling
        self._arabizi = arabizi
        # The base's Arabic spellings (its words, its synonyms' and its stop words) by
        # skeleton, to spell an Arabizi word as the base does.
        skeletons: dict[str, list[str]] = {}
        if arabizi:
            spellings = [w for _, pairs in phrasings for w, _ in pairs]
            spellings += [fold(w) for w in synonyms]
            spellings += sorted(lexicon.stop_words)
            for w in dict.fromkeys(spellings):
                if starts_arabic(w) and " " not in w:
                    skeletons.setdefault(arabic_skeleton(w), []).append(w)
        self._skeletons = skeletons
        self._spelled = frozenset(w for spellings in skeletons.values() for w in spellings)

    def reading(self, text: str) -> str:
        """``text`` as it is matched: without a letter's salutation and sign-off, and an
        Arabizi message ("momken n2adem ta7leel lel interpol?") in Arabic letters, but for
        the English words the base knows; any other text as it is."""
        return self.read(text)[0]

    def read(self, text: str) -> tuple[str, bool]:
        """``reading`` of ``text``, and whether it is Arabizi."""
        return self.read_body(self.letter_body(text))

    def read_body(self, body: str) -> tuple[str, bool]:
        """``read`` of a message already without a letter's salutation and sign-off."""
        if self.is_arabizi(body):
            return self._in_arabic_letters(body), True
        if self._arabizi and mixes_scripts(body):
            return "".join(self._asked_in_arabic(part) for part in sentences(body)), False
        return body, False

    def _asked_in_arabic(self, sentence: str) -> str:
        """A sentence of a message in both scripts, in Arabic letters if it is Arabizi that
        asks («السلام عليكم. momken nsharek data?»). Arabizi that only tells stays as typed:
        it is context, whose unknown words the matcher leaves out, where a misread word
        (charika, a company, read as شريكة, a partner) would speak for a topic."""
        if not self.is_arabizi(sentence):
            return sentence
        read = self._in_arabic_letters(sentence)
        asks = any(asks for _, asks in message_clauses(read, self.lexicon))
        return read if asks else sentence

    def _in_arabic_letters(self, arabizi: str) -> str:
        return read_arabizi(arabizi, self._known_latin, self._base_spelling, self._arabizi)

    def letter_body(self, text: str) -> str:
        """``text`` without a letter's salutation and sign-off (``text`` itself if it has
        none): see ``bot.matching.letters``."""
        return letter_body(text, self.lexicon)

    def is_arabizi(self, text: str) -> bool:
        """Whether ``text`` is matched as Arabizi (and its result is in Arabic)."""
        return bool(self._arabizi) and reads_as_arabizi(
            text, self._arabizi, self._known_latin, self._reads_as_arabic, self._english
        )

    def _english(self, token: str) -> bool:
        """Whether a Latin token is an English function word (a stop word)."""
        return token in self.lexicon.stop_words

    def _reads_as_arabic(self, latin: str) -> bool:
        """Whether the Latin word ``latin``, read in Arabic letters, is a word of the base
        (its consonants, sounding alike) or, spelled exactly, a stop word ("feeh" فيه).
        A stop word is short, and many an English word has its consonants ("Lima", لم)."""
        if is_code(latin) or len(latin) < 3:
            return False
        rendering = to_arabic_script(latin)
        spelled = self._base_spelling(latin, rendering)
        if spelled in self._spelled and spelled not in self.lexicon.stop_words:
            return True
        return rendering in self.lexicon.stop_words

    def _base_spelling(self, latin: str, rendering: str) -> str:
        """The base's own spelling of the Arabizi word ``latin``, rendered in Arabic letters
        as ``rendering``: of the base's words with its skeleton, the one whose letters
        sound nearest to what was typed; the rendering itself if none."""
        candidates: list[str] = []
        for spelling in spellings_to_try(latin, rendering):
            skeleton = arabic_skeleton(spelling)
            if len(skeleton) >= 2:  # shorter, it cannot tell one word from another
                candidates += self._skeletons.get(skeleton, ())
        if not candidates or rendering in candidates:
            return rendering
        typed = sounds(latin)

        def alike(spelling: str) -> float:
            # The article, joined to the rendering, is not in what was typed.
            bare = spelling[2:] if spelling.startswith("ال") else spelling
            return fuzz.ratio(typed, romanized(bare))

        best = max(candidates, key=alike)
        # The same consonants may still sound nothing alike ("masalan" and المسوول).
        return best if alike(best) >= _SOUNDS_ALIKE else rendering

    def _known_latin(self, token: str) -> bool:
        """Whether a Latin token of an Arabizi message is kept as typed: a word the base
        knows ("data", "interpol", the Arabizi words of the synonyms file) or an English
        stop word. Any other is Arabic in Latin letters."""
        word = fold(token)
        if " " in word or not is_content(word, self.lexicon):
            return True
        term = self.terms.term(word)
        return term in self.index.postings or term in self.spelling.known_unused
