"""Scoring: how well each entry explains a question, 0-100.

Matched words earn their IDF weight; unknown words count against every entry, which is
what sends "price of solana" to the fallback. An entry's score blends its best variant
(how much of the question that one phrasing explains and how much of the phrasing the
question covers) with how much of the question the entry's whole vocabulary explains.
"""

from __future__ import annotations

from collections import defaultdict

from bot.matching.cues import Cues
from bot.matching.index import Index
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.result import Expansion, Scored
from bot.matching.spelling import Spelling
from bot.matching.terms import Terms
from bot.normalize import words


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

    def weigh(self, word: str, expansions: Expansion) -> float:
        """A question word's weight: its rarest term's IDF, light for a weak word."""
        weight = max((self.index.idf[t] for t, _ in expansions), default=self.index.unknown_idf)
        if word in self.terms.lexicon.weak_words:
            weight = min(weight, self.params.weak_weight)
        return weight

    def scores(self, text: str) -> tuple[list[Scored], tuple[str, ...]]:
        """Every candidate entry with its score, best first, and the entries offered by
        the cues that capped a score.

        An entry that leaves an out-of-scope cue of the question unexplained scores
        at most halfway between the suggest and answer thresholds.
        """
        index = self.index
        p = self.params
        found = words(text, self.terms.lexicon)
        pairs = list(dict(reversed(self.terms.word_terms(found))).items())
        seen: set[str] = set()
        weighted: list[tuple[float, Expansion]] = []
        strong = False
        for word, term in pairs:
            if term in seen:
                continue
            seen.add(term)
            expansions = self.spelling.expand(word, term)
            weighted.append((self.weigh(word, expansions), expansions))
            if word not in self.terms.lexicon.weak_words:
                strong = True
        if not strong:
            return [], ()
        query_weight = sum(weight for weight, _ in weighted)
        explained: dict[int, float] = defaultdict(float)
        covered: dict[int, float] = defaultdict(float)
        entry_explained: dict[int, float] = defaultdict(float)
        # Rare words first, so that common words only add to candidates already found.
        for weight, expansions in sorted(weighted, key=lambda item: -item[0]):
            best: dict[int, tuple[float, float]] = {}
            best_entry: dict[int, float] = {}
            for term, similarity in expansions:
                gain = (similarity * weight, similarity * index.idf[term])
                postings = index.postings[term]
                entries = index.entry_postings[term]
                common = index.common.get(term)
                if common is not None:
                    postings = tuple(v for v in explained if v in common[0])
                    entries = tuple(e for e in entry_explained if e in common[1])
                for vid in postings:
                    if vid not in best or best[vid][0] < gain[0]:
                        best[vid] = gain
                for entry in entries:
                    if best_entry.get(entry, 0.0) < gain[0]:
                        best_entry[entry] = gain[0]
            for vid, (q_gain, v_gain) in best.items():
                explained[vid] += q_gain
                covered[vid] += v_gain
            for entry, q_gain in best_entry.items():
                entry_explained[entry] += q_gain
        cues = self.cues.caps(found)
        cap = (self.thresholds.answer + self.thresholds.suggest) / 2
        by_entry: dict[int, float] = {}
        query_side = p.query_side
        for vid, q_gain in explained.items():
            score = (
                query_side * q_gain / query_weight
                + (1 - query_side) * covered[vid] / index.variant_weight[vid]
            )
            entry = index.variant_entry[vid]
            if score > by_entry.get(entry, 0.0):
                by_entry[entry] = score
        # (entry, score, score before a cue's cap): capped entries keep their order
        final: list[tuple[int, float, float]] = []
        offers: dict[str, None] = {}
        variant_side = p.variant_side
        for entry, s in by_entry.items():
            raw = 100.0 * (
                variant_side * s + (1 - variant_side) * entry_explained[entry] / query_weight
            )
            score = raw
            capping = [number for number, excused in cues if entry not in excused]
            if capping:
                score = min(raw, cap)
                offers.update((o, None) for n in capping if (o := self.cues.offers[n]))
            final.append((entry, score, raw))
        ranked = sorted(final, key=lambda item: (-item[1], -item[2]))
        return [Scored(index.entry_ids[e], s) for e, s, _ in ranked], tuple(offers)
