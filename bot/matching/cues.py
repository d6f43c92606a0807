"""Out-of-scope cues: words that say a question asks what the base never answers.

A cue found in a question (a price, a job, an email) caps the score of every entry it
does not spare, so that a topic word alone never makes the question in scope. Without ``unless``, an entry whose phrasings use the cue word is
spared; with it, only one of the ``unless`` words in the question lifts the cue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.knowledge.model import OutOfScopeCue
from bot.matching.parameters import MatchParameters
from bot.matching.result import CueHit
from bot.matching.terms import Terms, starts_arabic
from bot.normalize import fold, is_content, readings, stem
from bot.stemming import WORD_CACHE


class Cues:
    """The knowledge base's cues, looked up by folded word (and Arabic stem)."""

    def __init__(
        self,
        cues: Iterable[OutOfScopeCue],
        terms: Terms,
        entry_ids: Sequence[str],
        entry_postings: Mapping[str, tuple[int, ...]],
        params: MatchParameters,
    ) -> None:
        """``entry_ids`` and ``entry_postings`` are the index's: which entries use a term."""
        self._terms = terms
        self._entry_ids = entry_ids
        self._entry_postings = entry_postings
        self._window = params.cue_with_window
        # Folded word (and Arabic stem) -> cue number, and per cue the words that lift it
        # (None: the entry's own vocabulary does), also by their synonyms' term ("expert"
        # lifts a cue for "engineer" too). Cue words are read by their plain terms: the
        # cues file's words are taken as written, never split into clitics.
        term = terms.plain_term
        self._cue_of: dict[str, int] = {}
        self._unless: list[frozenset[str] | None] = []
        self.offers: list[str | None] = []
        self._with: list[frozenset[str]] = []
        self._asked: list[bool] = []
        for number, cue in enumerate(cues):
            self.offers.append(cue.offer)
            self._asked.append(cue.asked)
            with_keys = _cue_keys(cue.with_words)
            self._with.append(frozenset(with_keys + [term(k) for k in with_keys]))
            self._cue_of.update((key, number) for key in _cue_keys(cue.words))
            unless = _cue_keys(cue.unless)
            unless += [term(key) for key in unless]
            self._unless.append(frozenset(unless) if unless else None)
        # Per folded word, read once: its cue (or that it is none), and the keys it adds to
        # the words present (itself, its Arabic stem, its term). Every question's words are
        # looked up; the reading is a pure function of the word, so bounded tables
        # remember it.
        self._cue_number: dict[str, int] = {}
        self._not_cues: set[str] = set()
        self._keys: dict[str, tuple[str, ...]] = {}

    def caps(
        self, found: list[str], told: frozenset[str] = frozenset()
    ) -> list[tuple[int, frozenset[int]]]:
        """For each cue among the folded words: its number and the entries it leaves alone.
        ``told``: the words only in statements of a message that asks (see ``asked``)."""
        if not self._cue_of:
            return []
        hits = self._hits(found, told)
        if not hits:
            # Most questions: no cue, and no need for the words present.
            return []
        present = self._present(found)
        out: list[tuple[int, frozenset[int]]] = []
        for word, number in hits:
            unless = self._unless[number]
            if unless is None:
                # Spared by the word as written (its clitics kept: "كموظف", as an employee,
                # is a job cue even though "موظف" is a word of the base).
                spared = self._entry_postings.get(self._terms.plain_term(word), ())
                out.append((number, frozenset(spared)))
            elif not unless & present:
                out.append((number, frozenset()))
        return out

    def holding(
        self, found: list[str], entry: int, told: frozenset[str] = frozenset()
    ) -> tuple[str | None, ...]:
        """The offers of the cues among the folded words ``found`` that cap ``entry`` (an
        index entry number), None for a cue that offers nothing; empty if none caps it."""
        return tuple(self.offers[n] for n, spared in self.caps(found, told) if entry not in spared)

    def hits(self, found: list[str], told: frozenset[str] = frozenset()) -> list[CueHit]:
        """Every cue word among the folded words ``found``, lifted or not (for ``kb explain``;
        read through ``_hits`` and ``_present`` as ``caps`` is, so the two agree)."""
        present, hits = self._present(found), self._hits(found, frozenset())
        out: list[CueHit] = []
        for word, number in hits:
            unless = self._unless[number]
            spared: frozenset[str] = frozenset()
            if unless is None:
                entries = self._entry_postings.get(self._terms.plain_term(word), ())
                spared = frozenset(self._entry_ids[e] for e in entries)
            lifted = unless & present if unless is not None else frozenset()
            was_told = self._asked[number] and word in told
            out.append(
                CueHit(word, number, frozenset(lifted), unless is not None, spared, was_told)
            )
        return out

    def _present(self, found: list[str]) -> set[str]:
        """The words present, with their Arabic stems and their terms (what lifts a cue)."""
        table = self._keys
        present: set[str] = set()
        for word in found:
            keys = table.get(word)
            if keys is None:
                keys = self._read_keys(word)
            present.update(keys)
        return present

    def _read_keys(self, word: str) -> tuple[str, ...]:
        keys = [word]
        if starts_arabic(word):
            keys.append(stem(word))
        if is_content(word, self._terms.lexicon):
            keys.append(self._terms.term(word))
        found = tuple(keys)
        if len(self._keys) >= WORD_CACHE:
            self._keys.clear()
        self._keys[word] = found
        return found

    def _hits(self, found: list[str], told: frozenset[str]) -> list[tuple[str, int]]:
        """Each cue word among ``found`` with its cue's number; not a word of an ``asked``
        cue that the message only tells."""
        not_cues = self._not_cues
        if not_cues.issuperset(found):
            # Most questions: every word already read, none a cue (one test in C).
            return []
        hits: list[tuple[str, int]] = []
        for i, word in enumerate(found):
            if word in not_cues:
                continue
            number = self._cue_number.get(word)
            if number is None:
                number = self._read_number(word)
                if number is None:
                    continue
            if told and self._asked[number] and word in told:
                continue
            if not self._with[number] or self._with_follows(number, found[i + 1 :]):
                hits.append((word, number))
        return hits

    def _read_number(self, word: str) -> int | None:
        """The cue a folded word is (by itself, its Arabic stem or, for a word the base does
        not know, a reading of its clitics), remembered (bounded, as ``Terms.term``)."""
        terms = self._terms
        number = self._cue_of.get(word)
        if number is None and starts_arabic(word):
            number = self._cue_of.get(stem(word))
            if number is None and terms.plain_term(word) not in terms.known:
                # as in ``Terms.term``: only a word the base does not know is split
                keys = readings(word)
                number = next((self._cue_of[k] for k in keys if k in self._cue_of), None)
        if len(self._not_cues) + len(self._cue_number) >= WORD_CACHE:
            self._not_cues.clear()
            self._cue_number.clear()
        if number is None:
            self._not_cues.add(word)
        else:
            self._cue_number[word] = number
        return number

    def _with_follows(self, number: int, rest: list[str]) -> bool:
        """Whether one of the cue's ``with`` words is among the next few words: the
        object of the cue's verb ("register a firm", not "a startup... where do we start")."""
        for word in rest[: self._window]:
            keys = {word, stem(word)}
            if is_content(word, self._terms.lexicon):
                keys.add(self._terms.term(word))
            if keys & self._with[number]:
                return True
        return False


def _cue_keys(cue_words: Iterable[str]) -> list[str]:
    """Folded cue words, Arabic ones also by their stem."""
    keys = []
    for word in cue_words:
        for folded in fold(word).split():
            keys.append(folded)
            if starts_arabic(folded):
                keys.append(stem(folded))
    return keys
