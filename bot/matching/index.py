"""The inverted index over the phrasings' terms: who uses a term, and what it weighs.

Inverted indexes pick the candidates, so the cost of a question grows with the postings
of its words, not with the size of the base.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from bot.matching.parameters import MatchParameters


class Index:
    """Variants (phrasings) and entries by term, and each term's IDF weight."""

    def __init__(
        self, phrasings: Iterable[tuple[str, list[tuple[str, str]]]], params: MatchParameters
    ) -> None:
        """``phrasings``: (entry id, its (word, term) pairs) for every phrasing."""
        self.entry_ids: list[str] = []
        self.entry_index: dict[str, int] = {}
        entry_index = self.entry_index
        self.variant_entry: list[int] = []
        variant_terms: list[tuple[str, ...]] = []
        uses: dict[str, int] = defaultdict(int)  # phrasings using a term, repeats included
        # Phrasings of one entry that differ only in stop words or inflection come down to
        # the same terms and would score alike: one of them is enough (about 30% of the
        # shipped base's phrasings, and of the postings a question walks).
        kept: set[tuple[int, tuple[str, ...]]] = set()
        for entry_id, pairs in phrasings:
            terms = tuple(dict.fromkeys(term for _, term in pairs))
            if not terms:
                continue
            if entry_id not in entry_index:
                entry_index[entry_id] = len(self.entry_ids)
                self.entry_ids.append(entry_id)
            entry = entry_index[entry_id]
            for term in terms:
                uses[term] += 1
            if (entry, terms) in kept:
                continue
            kept.add((entry, terms))
            self.variant_entry.append(entry)
            variant_terms.append(terms)
        entry_sets: dict[str, set[int]] = defaultdict(set)
        postings: dict[str, list[int]] = defaultdict(list)
        for vid, terms in enumerate(variant_terms):
            for term in terms:
                entry_sets[term].add(self.variant_entry[vid])
                postings[term].append(vid)
        n = max(len(self.entry_ids), 1)
        self.idf = {t: math.log(1 + n / len(e)) for t, e in entry_sets.items()}
        self.unknown_idf = math.log(1 + n / params.unknown_document_frequency)
        self.postings = {t: tuple(v) for t, v in postings.items()}
        self.entry_postings = {t: tuple(sorted(e)) for t, e in entry_sets.items()}
        # Sets of the long postings, to filter candidates without walking the list. A term
        # is common by how many phrasings use it, kept or not.
        self.common = {
            t: (frozenset(v), frozenset(entry_sets[t]))
            for t, v in postings.items()
            if uses[t] > params.candidate_postings_limit
        }
        self.variant_weight = [sum(self.idf[t] for t in terms) for terms in variant_terms]

    def __len__(self) -> int:
        return len(self.entry_ids)
