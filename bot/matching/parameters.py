"""The matcher's tunable numbers, in one place so that a benchmark can sweep any of them.

``Thresholds`` decide between an answer, "did you mean" and the fallback, and come from
the config file (``matching:``); ``MatchParameters`` shape the scores themselves and are
not configurable: changing one is a change of the matcher, measured on the regression
sets (``benchmarks/bench_matcher.py --sweep NAME=v1,v2``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    answer: float = 55.0
    suggest: float = 35.0
    # Below this margin over the runner-up, a direct answer becomes a choice.
    margin: float = 4.0
    max_suggestions: int = 3
    # A long message (``long_message_words`` content words or more) is mostly context,
    # which no entry explains, so even its right entry scores low: it is answered from
    # just above the cue cap when its best entry leads by this much.
    long_margin: float = 8.0
    # With learned term weights (``learned``): the least lead of the best entry's blended
    # score over the runner-up's for a direct answer. It replaces both margins above:
    # the model already tells a question from its context.
    learned_margin: float = 0.2
    # Below the fuzzy answer bar, a choice the model is sure of is answered: it leads by
    # ``learned_sure_lead`` and its value is above ``learned_sure_value``. The value may
    # be a little below 0 (the model's boundary): a message's context words spread its
    # vector's length over terms of no entry, so every value sinks towards the bias,
    # while the lead (over the runner-up and "out of scope") still tells them apart.
    learned_sure_lead: float = 0.6
    learned_sure_value: float = -0.2
    # Where none of the above answers, the second opinion (``second_opinion``, a model of
    # the words' letters) answers the entry it ranks first when that entry leads the
    # runner-up and "out of scope" by ``second_opinion_lead`` with a value above
    # ``second_opinion_value``.
    second_opinion_lead: float = 0.4
    second_opinion_value: float = -0.3

    @property
    def cue_cap(self) -> float:
        """The most an entry that leaves an out-of-scope cue unexplained can score:
        halfway between suggesting and answering, so it is offered, not answered (only the
        learned model answers it, as the cue's own honest entry: ``answers_blended``)."""
        return (self.answer + self.suggest) / 2


# slots: the matcher reads these in its inner loops.
@dataclass(frozen=True, slots=True)
class MatchParameters:
    # Within a variant's score: share that rewards explaining the whole question
    # (the rest rewards covering the variant).
    query_side: float = 0.7
    # Share of an entry's score taken from its best variant; the rest is how much
    # of the question the entry's vocabulary as a whole explains.
    variant_side: float = 0.5
    # Postings longer than this are too common to pick candidates with; such terms
    # still count in the score of candidates found through rarer words.
    candidate_postings_limit: int = 400
    # An unknown word weighs like a term found in this many entries: it is evidence
    # that the question is about something the base does not cover.
    unknown_document_frequency: float = 1.5
    # Weight of a question word such as "why" (``weak_words`` in knowledge/stop_words.yaml).
    weak_weight: float = 0.6
    # Worth of a word found only through its coarse Arabic stem; shorter coarse stems
    # than ``deep_min_length`` are too ambiguous to index.
    deep_similarity: float = 0.85
    deep_min_length: int = 3
    # Typos: shortest word looked up, and least rapidfuzz ratio for short words and for
    # words of ``fuzzy_long_length`` letters and more.
    fuzzy_min_length: int = 4
    fuzzy_cutoff_short: float = 80.0
    fuzzy_cutoff_long: float = 75.0
    fuzzy_long_length: int = 6
    max_fuzzy_expansions: int = 3
    # A near miss is worth less than the word itself: its similarity is the ratio
    # raised to this power. Squared for short words, where one letter is a quarter of
    # the word ("bank" is not "back"); as is from ``fuzzy_gentle_length`` letters up,
    # where one slip ("thnks", "softwear", "finacial") leaves the word plain to a reader.
    fuzzy_power_short: float = 2.0
    fuzzy_power_long: float = 1.0
    fuzzy_gentle_length: int = 5
    # English words of this length and more are also looked up by the consonants of
    # their stem, so that two slipped vowels ("analisys", "collaberation") still find
    # the word; the similarity cutoff still applies.
    skeleton_min_length: int = 7
    # English words are also looked up by how they sound: a spelling that only swaps
    # letters of one sound ("afrika", "kenia", "fisching") is worth this much.
    sound_similarity: float = 0.95
    # Long messages: a message of at least this many content words and two clauses or
    # more is read as context plus a question; the question clause's scores count this much.
    long_message_words: int = 8
    clause_weight: float = 0.6
    # A cue's ``with`` word counts within this many words after the cue word (its object).
    cue_with_window: int = 3
    # Learned term weights (``learned``): an entry's blended score is its fuzzy score / 100
    # plus this times the model's decision value (about -1 to 1), over the fuzzy
    # ``learned_depth`` best entries (every candidate of a base the model is trained for:
    # the right entry of a long message may score low on the fuzzy scores);
    # ``learned_c`` is the model's fit (larger: closer).
    learned_weight: float = 1.0
    learned_depth: int = 100
    learned_c: float = 0.5
    # Training costs entries x documents; a larger base is matched by the fuzzy scores
    # alone (about 25 s of training at this size, once, then read from the cache).
    learned_max_entries: int = 100
    # The second opinion (``second_opinion``): the sizes of the character n-grams it reads
    # each word by, and its model's fit. Trained with the learned weights, on the same base.
    second_opinion_grams: tuple[int, ...] = (3,)
    second_opinion_c: float = 0.5
