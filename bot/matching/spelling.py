"""Spelling: the vocabulary terms a question word may stand for when it is not one itself.

A word is found by a coarser Arabic stem (clitics and verb affixes off), or, for typos,
by one edit (a symmetric-delete index, so the lookup does not scan the vocabulary), by
the consonants of a long English word, or by how an English word sounds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping

from rapidfuzz import fuzz

from bot.matching.parameters import MatchParameters
from bot.matching.result import Expansion
from bot.matching.terms import starts_arabic
from bot.normalize import deep_stem, stem

_VOWELS = str.maketrans("", "", "aeiouy")
_SOUNDS: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("y", "i"), ("z", "s"),
)  # fmt: skip


class Spelling:
    """Near spellings of the vocabulary: coarse stems, one-edit typos, skeletons, sounds."""

    def __init__(
        self,
        phrasings: Iterable[tuple[str, list[tuple[str, str]]]],
        synonyms: Mapping[str, str],
        vocabulary: Collection[str],
        params: MatchParameters,
    ) -> None:
        """``phrasings`` as for ``Index``; ``synonyms``: word -> head term; ``vocabulary``:
        the index's terms, in the order they were first seen."""
        self.params = params
        self._vocabulary = vocabulary
        deep: dict[str, set[str]] = defaultdict(set)
        # Words of the phrasings as written, for typos: "shre" is one letter from
        # "share", though two from its stem "shar".
        written: dict[str, str] = {}
        for _, pairs in phrasings:
            for word, term in pairs:
                deep[deep_stem(word)].add(term)
                written.setdefault(word, term)
        # Coarse Arabic stems; a key shared by several terms stands for all of them.
        for source, head in synonyms.items():
            if head in vocabulary:
                deep[deep_stem(source)].add(head)
        self.deep = {
            key: tuple(sorted(terms))
            for key, terms in deep.items()
            if len(key) >= params.deep_min_length
        }
        # One-edit typos are looked up over the vocabulary and the synonyms' words (a
        # typo of a synonym still finds its head). Insertion order matters: it breaks
        # ties between equally near spellings.
        spellings: dict[str, str] = {t: t for t in vocabulary}
        for source, head in synonyms.items():
            if head in vocabulary:
                spellings.setdefault(source, head)
        for word, term in written.items():
            if word.isascii():
                spellings.setdefault(word, term)
        deletes: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= params.fuzzy_min_length:
                for key in _deletes(spelling):
                    deletes[key].append(spelling)
        self._spellings = spellings
        self._typo_index = {key: tuple(words) for key, words in deletes.items()}
        skeletons: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= params.skeleton_min_length - 1 and spelling.isascii():
                skeletons[_skeleton(spelling)].append(spelling)
        self._skeletons = {key: tuple(words) for key, words in skeletons.items()}
        sounds: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= params.fuzzy_min_length and spelling.isascii():
                sounds[_sound(spelling)].append(spelling)
        self._sounds = {key: tuple(words) for key, words in sounds.items()}
        # Heads of synonym groups that no phrasing uses: words the synonyms file
        # knows as real words ("countries", "دولة"), so never typos of a term.
        self.known_unused = frozenset(synonyms.values()) - set(vocabulary)

    def expand(self, word: str, term: str) -> Expansion:
        """Vocabulary terms a query word stands for, with their similarity (0-1)."""
        if term in self._vocabulary:
            return ((term, 1.0),)
        if term in self.known_unused:
            return ()
        coarse = self.deep.get(deep_stem(word))
        if coarse:
            return tuple((t, self.params.deep_similarity) for t in coarse)
        if starts_arabic(word):
            # The stem decides: "الامين" is not a typo of "الامن" when "امين" is short.
            return self.typos(term)
        # An English typo is looked up as stemmed and as typed, and the nearer reading
        # wins: "thnks" is one letter from "thanks", though "thnk" is also near "thank".
        if term == word:
            return self.typos(term)
        found = dict(self.typos(word))
        for head, similarity in self.typos(term):
            found[head] = max(found.get(head, 0.0), similarity)
        best = sorted(found.items(), key=lambda item: -item[1])
        return tuple(best[: self.params.max_fuzzy_expansions])

    def typos(self, token: str) -> Expansion:
        """Vocabulary terms one slip away from ``token``, nearest first."""
        p = self.params
        size = len(token)
        # Arabic morphology changes meaning with one letter (اهكر "I hack", انهكر
        # "was hacked"), so short Arabic words get no typo tolerance.
        if size < p.fuzzy_min_length or (size < p.fuzzy_min_length + 1 and starts_arabic(token)):
            return ()
        cutoff = p.fuzzy_cutoff_short if size < p.fuzzy_long_length else p.fuzzy_cutoff_long
        power = p.fuzzy_power_short if size < p.fuzzy_gentle_length else p.fuzzy_power_long
        found: dict[str, float] = {}
        candidates = [s for key in _deletes(token) for s in self._typo_index.get(key, ())]
        if size >= p.skeleton_min_length and token.isascii():
            candidates.extend(self._skeletons.get(_skeleton(token), ()))
        for spelling in candidates:
            head = self._spellings[spelling]
            if head in found and found[head] >= 1.0:
                continue
            score = fuzz.ratio(token, spelling, score_cutoff=cutoff)
            if score:
                found[head] = max(found.get(head, 0.0), (score / 100.0) ** power)
        if token.isascii():
            for spelling in self._sounds.get(_sound(token), ()):
                head = self._spellings[spelling]
                found[head] = max(found.get(head, 0.0), p.sound_similarity)
        best = sorted(found.items(), key=lambda item: -item[1])
        return tuple(best[: p.max_fuzzy_expansions])


def _deletes(word: str) -> dict[str, None]:
    """``word`` and every string one deletion away from it, the last letter deleted first.

    Ordered, not a set: the order candidates are met in breaks ties between equally near
    spellings, and a set's order changes with each process's hash seed, so two workers
    could rank one question differently. Last letter first: a slip is likelier late in a
    word than in its first letter, so of "bran" and "rand", equally near "brand", the
    first is met first."""
    deletions = (word[:i] + word[i + 1 :] for i in reversed(range(len(word))))
    return dict.fromkeys([word, *deletions])


def _skeleton(word: str) -> str:
    """The consonants of an English word's stem: a key that vowel slips leave alone."""
    return stem(word).translate(_VOWELS)


def _sound(word: str) -> str:
    """An English word with letters of one sound made one, and doubled letters single."""
    for spelling, sound in _SOUNDS:
        word = word.replace(spelling, sound)
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
