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
        for number, cue in enumerate(cues):
            self.offers.append(cue.offer)
            with_keys = _cue_keys(cue.with_words)
            self._with.append(frozenset(with_keys + [term(k) for k in with_keys]))
            self._cue_of.update((key, number) for key in _cue_keys(cue.words))
            unless = _cue_keys(cue.unless)
            unless += [term(key) for key in unless]
            self._unless.append(frozenset(unless) if unless else None)

    def caps(self, found: list[str]) -> list[tuple[int, frozenset[int]]]:
        """For each cue among the folded words: its number and the entries it leaves alone."""
        if not self._cue_of:
            return []
        present, hits = self._found(found)
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

    def hits(self, found: list[str]) -> list[CueHit]:
        """Every cue word among the folded words ``found``, lifted or not (for ``kb explain``;
        read through ``_found`` as ``caps`` is, so the two agree)."""
        present, hits = self._found(found)
        out: list[CueHit] = []
        for word, number in hits:
            unless = self._unless[number]
            spared: frozenset[str] = frozenset()
            if unless is None:
                entries = self._entry_postings.get(self._terms.plain_term(word), ())
                spared = frozenset(self._entry_ids[e] for e in entries)
            lifted = unless & present if unless is not None else frozenset()
            out.append(CueHit(word, number, frozenset(lifted), unless is not None, spared))
        return out

    def _found(self, found: list[str]) -> tuple[set[str], list[tuple[str, int]]]:
        """The words (and stems and terms) present, and each cue word among ``found`` with
        its cue's number."""
        terms = self._terms
        lexicon = terms.lexicon
        present = set(found)
        present.update(stem(w) for w in found if starts_arabic(w))
        present.update(terms.term(w) for w in found if is_content(w, lexicon))
        hits: list[tuple[str, int]] = []
        for i, word in enumerate(found):
            number = self._cue_of.get(word)
            if number is None and starts_arabic(word):
                number = self._cue_of.get(stem(word))
                if number is None and terms.plain_term(word) not in terms.known:
                    # as in ``Terms.term``: only a word the base does not know is split
                    keys = readings(word)
                    number = next((self._cue_of[k] for k in keys if k in self._cue_of), None)
            if number is not None and (
                not self._with[number] or self._with_follows(number, found[i + 1 :])
            ):
                hits.append((word, number))
        return present, hits

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
