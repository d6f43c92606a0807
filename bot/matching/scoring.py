"""Scoring: how well each entry explains a question, 0-100.

Matched words earn their IDF weight; unknown words count against every entry, which is
what sends "price of solana" to the fallback. An entry's score blends its best variant
(how much of the question that one phrasing explains and how much of the phrasing the
question covers) with how much of the question the entry's whole vocabulary explains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import itemgetter

from bot.matching.cues import Cues
from bot.matching.index import Index
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.result import Expansion, Scored
from bot.matching.spelling import Spelling
from bot.matching.terms import Terms
from bot.normalize import words
from bot.stemming import WORD_CACHE


class Scorer:
    """Scores a question against every candidate entry of one index."""

    def __init__(
        self,
        terms: Terms,
        index: Index,
        spelling: Spelling,
        cues: Cues,
        params: MatchParameters,
        thresholds: Thresholds,
    ) -> None:
        self.terms = terms
        self.index = index
        self.spelling = spelling
        self.cues = cues
        self.params = params
        self.thresholds = thresholds
        # (word, term) -> (weight, expansions): a word's typo lookup is the costliest step
        # of reading it, and words recur from message to message. Bounded, as the terms'.
        self._read_words: dict[tuple[str, str], tuple[float, Expansion]] = {}

    def weigh(self, word: str, expansions: Expansion) -> float:
        """A question word's weight: its rarest term's IDF, light for a weak word."""
        weight = max((self.index.idf[t] for t, _ in expansions), default=self.index.unknown_idf)
        if word in self.terms.lexicon.weak_words:
            weight = min(weight, self.params.weak_weight)
        return weight

    def scores(
        self, text: str, told: frozenset[str] = frozenset(), found: list[str] | None = None
    ) -> tuple[list[Scored], tuple[str, ...]]:
        """Every candidate entry with its score, best first, and the entries offered by
        the cues that capped a score. ``found``: the folded words of ``text``, if read.

        An entry that leaves an out-of-scope cue of the question unexplained scores
        at most halfway between the suggest and answer thresholds.
        """
        index = self.index
        p = self.params
        if found is None:
            found = words(text, self.terms.lexicon)
        pairs = list(dict(reversed(self.terms.word_terms(found))).items())
        seen: set[str] = set()
        weighted: list[tuple[float, Expansion]] = []
        strong = False
        known = self._read_words
        for word, term in pairs:
            if term in seen:
                continue
            seen.add(term)
            read = known.get((word, term))
            if read is None:
                expansions = self.spelling.expand(word, term)
                read = (self.weigh(word, expansions), expansions)
                if len(known) >= WORD_CACHE:
                    known.clear()
                known[(word, term)] = read
            weighted.append(read)
            if word not in self.terms.lexicon.weak_words:
                strong = True
        if not strong:
            return [], ()
        query_weight = sum(weight for weight, _ in weighted)
        idf = index.idf
        # Per candidate variant, [question weight it explains, its own weight the question
        # covers]: one dict of two-slot lists costs a third of two dicts of floats, and
        # its order (first word to reach a variant, first) is what ties are broken by.
        gains: dict[int, list[float]] = {}
        entry_explained: dict[int, float] = {}
        # Bound once: these run for every posting of every word.
        slots_of = gains.get
        add_entry = entry_explained.get
        # Rare words first, so that common words only add to candidates already found.
        for weight, expansions in sorted(weighted, key=lambda item: -item[0]):
            if len(expansions) == 1:
                # Most words stand for one term: every variant gains the same, so no
                # per-variant best is needed.
                term, similarity = expansions[0]
                q_gain = similarity * weight
                v_gain = similarity * idf[term]
                postings, entries = self._candidates(term, gains, entry_explained)
                for vid in postings:
                    slots = slots_of(vid)
                    if slots is None:
                        gains[vid] = [q_gain, v_gain]
                    else:
                        slots[0] += q_gain
                        slots[1] += v_gain
                for entry in entries:
                    entry_explained[entry] = add_entry(entry, 0.0) + q_gain
                continue
            # A word read as several terms (or none: an unknown word adds nothing) counts
            # once per variant, through its best term.
            best: dict[int, tuple[float, float]] = {}
            best_entry: dict[int, float] = {}
            for term, similarity in expansions:
                gain = (similarity * weight, similarity * idf[term])
                postings, entries = self._candidates(term, gains, entry_explained)
                for vid in postings:
                    if vid not in best or best[vid][0] < gain[0]:
                        best[vid] = gain
                for entry in entries:
                    if best_entry.get(entry, 0.0) < gain[0]:
                        best_entry[entry] = gain[0]
            # The same accumulation as above, written out again: a generator or function
            # shared by both cases cost 5-7% of matching under callgrind (2026-12-06).
            for vid, (q_gain, v_gain) in best.items():
                slots = slots_of(vid)
                if slots is None:
                    gains[vid] = [q_gain, v_gain]
                else:
                    slots[0] += q_gain
                    slots[1] += v_gain
            for entry, q_gain in best_entry.items():
                entry_explained[entry] = add_entry(entry, 0.0) + q_gain
        # An entry's best variant. The expressions keep the original order of operations:
        # scores are compared for equality (ties), so not one bit may change.
        by_entry: dict[int, float] = {}
        best_of = by_entry.get
        query_side = p.query_side
        variant_share = 1 - query_side
        variant_weight = index.variant_weight
        variant_entry = index.variant_entry
        for vid, (q_sum, v_sum) in gains.items():
            score = query_side * q_sum / query_weight + variant_share * v_sum / variant_weight[vid]
            entry = variant_entry[vid]
            if score > best_of(entry, 0.0):
                by_entry[entry] = score
        variant_side = p.variant_side
        entry_share = 1 - variant_side
        raw = {
            entry: 100.0 * (variant_side * s + entry_share * entry_explained[entry] / query_weight)
            for entry, s in by_entry.items()
        }
        # The score after the cues' caps; a capped entry keeps its raw score for ties.
        final = raw
        offers: dict[str, None] = {}
        cues = self.cues.caps(found, told)
        if cues:
            cap = self.thresholds.cue_cap
            final = dict(raw)
            for entry, score in raw.items():
                capping = [number for number, excused in cues if entry not in excused]
                if capping:
                    final[entry] = min(score, cap)
                    offers.update((o, None) for n in capping if (o := self.cues.offers[n]))
        # Best first, then by score before the cap: two stable sorts on float keys (the
        # last key first) order as one sort on (score, raw) pairs does, and faster.
        ranked = list(final.items())
        if final is not raw:
            ranked.sort(key=lambda item: raw[item[0]], reverse=True)
        ranked.sort(key=itemgetter(1), reverse=True)
        entry_ids = index.entry_ids
        return [Scored(entry_ids[e], s) for e, s in ranked], tuple(offers)

    def _candidates(
        self, term: str, gains: Mapping[int, object], entry_explained: Mapping[int, float]
    ) -> tuple[Iterable[int], Iterable[int]]:
        """The variants and the entries that ``term`` counts for: all those using it, or,
        for a term too common to pick candidates with, those rarer words already found."""
        common = self.index.common.get(term)
        if common is None:
            return self.index.postings[term], self.index.entry_postings[term]
        variants, entries = common
        # filter() tests membership in C; a list, as the caller then adds to ``gains``.
        return (
            list(filter(variants.__contains__, gains)),
            list(filter(entries.__contains__, entry_explained)),
        )
