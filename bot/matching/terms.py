"""Index terms: how the matcher reads a folded word, through the synonyms and the stemmer.

A word's term is its synonym group's head or its stem. An Arabic word the base does not
know may also be read with a clitic off ("لضباطكم" as "ضباط"), but only when that reading
is a word the base knows: most such splits are wrong (بيانات is not ب + يانات).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from bot.lexicon import Lexicon
from bot.normalize import fold, is_content, readings, stem, words
from bot.stemming import WORD_CACHE

# Marks a word not yet in a table whose values may be None.
_UNREAD: Final = "\0unread"


def starts_arabic(word: str) -> bool:
    # A comparison rather than ``stemming.is_arabic``'s regex: this runs for every word
    # of every question.
    return "\u0621" <= word[:1] <= "\u064a"


class Terms:
    """Reads words as index terms for one base (its synonyms and the words it knows)."""

    def __init__(
        self, synonyms: Mapping[str, str], lexicon: Lexicon, phrasings: Iterable[str]
    ) -> None:
        self.lexicon = lexicon
        self.synonyms, self.stem_synonyms = prepare_synonyms(synonyms)
        # Words the base knows, for the guard on ``readings``: the plain terms of every
        # phrasing and the synonyms' heads. The base's own words are taken as written;
        # only a question's unknown words are split.
        self.known = frozenset(
            self.plain_term(word)
            for text in phrasings
            for word in words(text, lexicon)
            if is_content(word, lexicon)
        ) | frozenset(self.synonyms.values())
        self._terms: dict[str, str] = {}  # word -> term, for this base (see ``term``)
        # word -> its term, or None for a word that is not content (see ``word_terms``)
        self._content_terms: dict[str, str | None] = {}

    def word_terms(self, text: str | list[str]) -> list[tuple[str, str]]:
        """(folded word, index term) for every content word of ``text`` (or its words).

        Whether a word is content and its term are both remembered in one bounded table:
        one lookup per word instead of ``is_content`` and ``term`` (every question's
        words, and its clauses' again, come through here)."""
        table = self._content_terms
        out = []
        for word in words(text, self.lexicon) if isinstance(text, str) else text:
            term = table.get(word, _UNREAD)
            if term is _UNREAD:
                term = self.term(word) if is_content(word, self.lexicon) else None
                if len(table) >= WORD_CACHE:
                    table.clear()
                table[word] = term
            if term is not None:
                out.append((word, term))
        return out

    def term(self, word: str) -> str:
        """The index term of a folded word: its synonym group's head or its stem, or the
        term of another reading of its clitics when only that one is a known word.

        Remembered per word (a bounded table): every question's words go through here."""
        term = self._terms.get(word)
        if term is None:
            term = self._read(word)
            if len(self._terms) >= WORD_CACHE:
                self._terms.clear()
            self._terms[word] = term
        return term

    def _read(self, word: str) -> str:
        term = self.plain_term(word)
        if not self.known or term in self.known or not starts_arabic(word):
            return term
        found = self.reading(word)
        return term if found is None else found[1]

    def reading(self, word: str) -> tuple[str, str] | None:
        """The first reading of ``word`` (see ``stemming.readings``) that is a known word,
        with its term. Not a function word: a clitic before one is no reading ("كلية",
        a faculty, is not ك + ليه, "like why")."""
        lexicon = self.lexicon
        for reading in readings(word):
            if reading in lexicon.stop_words or reading in lexicon.weak_words:
                continue
            other = self.synonyms.get(reading) or self.stem_synonyms.get(reading, reading)
            if other in self.known:
                return reading, other
        return None

    def plain_term(self, word: str) -> str:
        """The term of ``word`` as written: no clitic split off."""
        term = self.synonyms.get(word)
        if term is None:
            stemmed = stem(word)
            term = self.synonyms.get(stemmed)
            if term is None:
                # An Arabic synonym's stem counts only for a word that had an affix:
                # bare "دور" (role) is not "دورة" (course), but "الدورات" is.
                term = self.stem_synonyms.get(stemmed, stemmed) if stemmed != word else stemmed
        return term


def prepare_synonyms(raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Map folded words, and apart from them Arabic stems, to the stem of their group's head.

    Query words are looked up as written, then stemmed. An Arabic synonym is also
    registered by its stem (its inflections are many); an English one only as
    written, so that "hacked" can mean a victim while "hack" does not.
    """
    exact: dict[str, str] = {}
    by_stem: dict[str, str] = {}
    for word, head in raw.items():
        head_terms = [stem(w) for w in fold(head).split()]
        if not head_terms:
            continue
        for source in fold(word).split():
            if source != head_terms[0]:
                exact.setdefault(source, head_terms[0])
            stemmed = stem(source)
            if starts_arabic(source) and stemmed not in (source, head_terms[0]):
                by_stem.setdefault(stemmed, head_terms[0])
    for key in exact:
        by_stem.pop(key, None)
    return exact, by_stem
