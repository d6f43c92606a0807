"""Fuzzy question matching: which entry answers a question, and how sure we are.

Scoring is token based. Every query word is folded, stemmed and mapped through
the synonyms, then looked up in the vocabulary of the knowledge base: exactly,
by a coarser Arabic stem (clitics and verb affixes off), or, for typos, by one
edit (a symmetric-delete index, so the lookup does not scan the vocabulary).
Matched words earn their IDF weight; unknown words count against every entry,
which is what sends "price of solana" to the fallback.

An entry's score blends its best variant (how much of the question that one
phrasing explains and how much of the phrasing the question covers) with how
much of the question the entry's whole vocabulary explains. Inverted indexes
pick the candidates, so the cost grows with the postings of the query's words,
not with the size of the base.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from bot.knowledge import KnowledgeBase, OutOfScopeCue
from bot.lexicon import Lexicon
from bot.normalize import (
    Lang,
    deep_stem,
    default_lexicon,
    detect_language,
    fold,
    is_content,
    readings,
    stem,
    words,
)

Outcome = Literal["answer", "suggest", "fallback"]

# Within a variant's score: share that rewards explaining the whole question
# (the rest rewards covering the variant).
QUERY_SIDE = 0.7
# Share of an entry's score taken from its best variant; the rest is how much
# of the question the entry's vocabulary as a whole explains.
VARIANT_SIDE = 0.5
# Postings longer than this are too common to pick candidates with; such terms
# still count in the score of candidates found through rarer words.
CANDIDATE_POSTINGS_LIMIT = 400
# Worth of a word found only through its coarse Arabic stem.
DEEP_SIMILARITY = 0.85
# Typos: shortest word looked up, and least rapidfuzz ratio for short and long words.
FUZZY_MIN_LENGTH = 4
FUZZY_CUTOFF_SHORT = 80.0
FUZZY_CUTOFF_LONG = 75.0
MAX_FUZZY_EXPANSIONS = 3
# A near miss is worth less than the word itself: its similarity is the ratio
# raised to this power. Squared for short words, where one letter is a quarter of
# the word ("bank" is not "back"); as is from FUZZY_GENTLE_LENGTH letters up, where
# one slip ("thnks", "softwear", "finacial") leaves the word plain to a reader.
FUZZY_POWER_SHORT = 2.0
FUZZY_POWER_LONG = 1.0
FUZZY_GENTLE_LENGTH = 5
# English words of this length and more are also looked up by the consonants of
# their stem, so that two slipped vowels ("analisys", "collaberation") still find
# the word; the similarity cutoff still applies.
SKELETON_MIN_LENGTH = 7
_VOWELS = str.maketrans("", "", "aeiouy")
# English words are also looked up by how they sound: a spelling that only swaps
# letters of one sound ("afrika", "kenia", "fisching") is worth this much.
SOUND_SIMILARITY = 0.95
_SOUNDS: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("y", "i"), ("z", "s"),
)  # fmt: skip
# Long messages: a message of at least this many content words and two clauses or more
# is read as context plus a question; the question clause's scores count this much.
LONG_MESSAGE_WORDS = 8
CLAUSE_WEIGHT = 0.6
# Where one clause ends: sentence ends, semicolons, line breaks (not commas: "besides
# data, people and tools" is one clause).
_CLAUSE = re.compile("[^.!?;\n؟؛]+[.!?;\n؟؛]*")
# A cue's ``with`` word counts within this many words after the cue word (its object).
CUE_WITH_WINDOW = 3
# Weight of a question word such as "why" (``weak_words`` in knowledge/stop_words.yaml).
WEAK_WEIGHT = 0.6
# An unknown word weighs like a term found in this many entries: it is evidence
# that the question is about something the base does not cover.
UNKNOWN_DOCUMENT_FREQUENCY = 1.5


@dataclass(frozen=True)
class Thresholds:
    answer: float = 55.0
    suggest: float = 35.0
    # Below this margin over the runner-up, a direct answer becomes a choice.
    margin: float = 4.0
    max_suggestions: int = 3


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    question: str
    lang: Lang
    outcome: Outcome
    entry_id: str | None
    score: float
    suggestions: tuple[str, ...]
    ranked: tuple[Scored, ...] = field(default=(), repr=False)
    # Another topic the message also asked about (a second question), offered as a button.
    also: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "question": self.question,
            "lang": self.lang,
            "id": self.entry_id,
            "score": round(self.score, 1),
            "suggestions": list(self.suggestions),
            "outcome": self.outcome,
        }


Expansion = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class WordTrace:
    """How ``Matcher.scores`` reads one content word (for ``partnerbot kb explain``)."""

    word: str
    term: str
    # exact: the term is in the vocabulary; deep: found by its coarse Arabic stem;
    # typo: by a near spelling; known: a synonyms-file word no phrasing uses; unknown.
    how: Literal["exact", "deep", "typo", "known", "unknown"]
    expansions: Expansion
    weight: float
    # The clitics-off reading the term came from ("لضباطكم" read as "ضباط"), if any.
    reading: str | None = None


@dataclass(frozen=True)
class CueHit:
    """An out-of-scope cue word found in a question (for ``partnerbot kb explain``)."""

    word: str
    cue: int  # the cue's position in the knowledge base's ``out_of_scope``
    lifted_by: frozenset[str]  # the question's words (or terms) in the cue's ``unless``
    has_unless: bool
    # Ids of the entries the cue leaves alone (a cue without ``unless`` spares the
    # entries whose phrasings use the word); every other entry is capped.
    spared: frozenset[str]


class Matcher:
    """Matches free text against (entry id, phrasing) pairs."""

    def __init__(
        self,
        variants: Iterable[tuple[str, str]],
        *,
        synonyms: Mapping[str, str] | None = None,
        thresholds: Thresholds | None = None,
        out_of_scope: Iterable[OutOfScopeCue] = (),
        lexicon: Lexicon | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.lexicon = lexicon or default_lexicon()
        self._synonyms, self._stem_synonyms = _prepare_synonyms(synonyms or {})
        self._known: frozenset[str] = frozenset()
        # Out-of-scope cues: folded word (and Arabic stem) -> cue number, and per
        # cue the words that lift it (None: the entry's own vocabulary does), also
        # by their synonyms' term ("expert" lifts a cue for "engineer" too).
        self._cue_of: dict[str, int] = {}
        self._cue_unless: list[frozenset[str] | None] = []
        self._cue_offer: list[str | None] = []
        self._cue_with: list[frozenset[str]] = []
        for number, cue in enumerate(out_of_scope):
            self._cue_offer.append(cue.offer)
            with_keys = _cue_keys(cue.with_words)
            self._cue_with.append(frozenset(with_keys + [self._term(k) for k in with_keys]))
            self._cue_of.update((key, number) for key in _cue_keys(cue.words))
            unless = _cue_keys(cue.unless)
            unless += [self._term(key) for key in unless]
            self._cue_unless.append(frozenset(unless) if unless else None)
        # Words the base knows, for the guard on ``readings``: the plain terms of every
        # phrasing and the synonyms' heads. Phrasings are indexed by their plain terms
        # (``_known`` is still empty while they are read): the base's own words are
        # taken as written, only a question's unknown words are split.
        variants = list(variants)
        self._known = frozenset(
            term for _, text in variants for _, term in self._word_terms(text)
        ) | frozenset(self._synonyms.values())
        self._entry_ids: list[str] = []
        entry_index: dict[str, int] = {}
        self._variant_entry: list[int] = []
        variant_terms: list[tuple[str, ...]] = []
        deep: dict[str, set[str]] = defaultdict(set)
        # Words of the phrasings as written, for typos: "shre" is one letter from
        # "share", though two from its stem "shar".
        written: dict[str, str] = {}
        for entry_id, text in variants:
            pairs = self._word_terms(text)
            terms = tuple(dict.fromkeys(term for _, term in pairs))
            if not terms:
                continue
            for word, term in pairs:
                deep[deep_stem(word)].add(term)
                written.setdefault(word, term)
            if entry_id not in entry_index:
                entry_index[entry_id] = len(self._entry_ids)
                self._entry_ids.append(entry_id)
            self._variant_entry.append(entry_index[entry_id])
            variant_terms.append(terms)
        entry_sets: dict[str, set[int]] = defaultdict(set)
        postings: dict[str, list[int]] = defaultdict(list)
        for vid, terms in enumerate(variant_terms):
            for term in terms:
                entry_sets[term].add(self._variant_entry[vid])
                postings[term].append(vid)
        n = max(len(self._entry_ids), 1)
        self._idf = {t: math.log(1 + n / len(e)) for t, e in entry_sets.items()}
        self._unknown_idf = math.log(1 + n / UNKNOWN_DOCUMENT_FREQUENCY)
        self._postings = {t: tuple(v) for t, v in postings.items()}
        self._entry_postings = {t: tuple(sorted(e)) for t, e in entry_sets.items()}
        # Sets of the long postings, to filter candidates without walking the list.
        self._common = {
            t: (frozenset(v), frozenset(entry_sets[t]))
            for t, v in postings.items()
            if len(v) > CANDIDATE_POSTINGS_LIMIT
        }
        self._variant_weight = [sum(self._idf[t] for t in terms) for terms in variant_terms]
        # Coarse Arabic stems; a key shared by several terms stands for all of them.
        for source, head in self._synonyms.items():
            if head in self._postings:
                deep[deep_stem(source)].add(head)
        self._deep = {key: tuple(sorted(terms)) for key, terms in deep.items() if len(key) >= 3}
        # Symmetric-delete index for one-edit typos, over the vocabulary and the
        # synonyms' words (a typo of a synonym still finds its head).
        spellings: dict[str, str] = {t: t for t in self._postings}
        for source, head in self._synonyms.items():
            if head in self._postings:
                spellings.setdefault(source, head)
        for word, term in written.items():
            if word.isascii():
                spellings.setdefault(word, term)
        deletes: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= FUZZY_MIN_LENGTH:
                for key in _deletes(spelling):
                    deletes[key].append(spelling)
        self._spellings = spellings
        self._typo_index = {key: tuple(words) for key, words in deletes.items()}
        skeletons: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= SKELETON_MIN_LENGTH - 1 and spelling.isascii():
                skeletons[_skeleton(spelling)].append(spelling)
        self._skeletons = {key: tuple(words) for key, words in skeletons.items()}
        sounds: dict[str, list[str]] = defaultdict(list)
        for spelling in spellings:
            if len(spelling) >= FUZZY_MIN_LENGTH and spelling.isascii():
                sounds[_sound(spelling)].append(spelling)
        self._sounds = {key: tuple(words) for key, words in sounds.items()}
        # Heads of synonym groups that no phrasing uses: words the synonyms file
        # knows as real words ("countries", "دولة"), so never typos of a term.
        self._known_unused = frozenset(self._synonyms.values()) - self._postings.keys()

    @classmethod
    def from_knowledge_base(
        cls,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        *,
        extra: Iterable[tuple[str, str]] = (),
    ) -> Matcher:
        """A matcher over every entry's phrasings, plus ``extra`` (id, phrasing) pairs
        (intent phrases, which must compete with the real answers)."""
        pairs = [(e.id, v) for e in kb.entries.values() for v in e.variants()]
        return cls(
            [*pairs, *extra],
            synonyms=kb.synonyms,
            thresholds=thresholds,
            out_of_scope=kb.out_of_scope,
            lexicon=kb.lexicon,
        )

    def __len__(self) -> int:
        return len(self._entry_ids)

    def _word_terms(self, text: str | list[str]) -> list[tuple[str, str]]:
        """(folded word, index term) for every content word of ``text`` (or its words)."""
        out = []
        for word in words(text, self.lexicon) if isinstance(text, str) else text:
            if not is_content(word, self.lexicon):
                continue
            out.append((word, self._term(word)))
        return out

    def _term(self, word: str) -> str:
        """The index term of a folded word: its synonym group's head or its stem, or the
        term of another reading of its clitics when only that one is a known word."""
        term = self._plain_term(word)
        if not self._known or term in self._known or not _is_arabic(word):
            return term
        found = self._reading(word)
        return term if found is None else found[1]

    def _reading(self, word: str) -> tuple[str, str] | None:
        """The first reading of ``word`` (see ``stemming.readings``) that is a known word,
        with its term."""
        for reading in readings(word):
            other = self._synonyms.get(reading) or self._stem_synonyms.get(reading, reading)
            if other in self._known:
                return reading, other
        return None

    def _plain_term(self, word: str) -> str:
        term = self._synonyms.get(word)
        if term is None:
            stemmed = stem(word)
            term = self._synonyms.get(stemmed)
            if term is None:
                # An Arabic synonym's stem counts only for a word that had an affix:
                # bare "دور" (role) is not "دورة" (course), but "الدورات" is.
                term = self._stem_synonyms.get(stemmed, stemmed) if stemmed != word else stemmed
        return term

    def _cue_words(self, found: list[str]) -> tuple[set[str], list[tuple[str, int]]]:
        """The words (and stems and terms) present, and each cue word among ``found`` with
        its cue's number: what both ``_cues`` and ``cue_hits`` read."""
        present = set(found)
        present.update(stem(w) for w in found if _is_arabic(w))
        present.update(self._term(w) for w in found if is_content(w, self.lexicon))
        hits: list[tuple[str, int]] = []
        for i, word in enumerate(found):
            number = self._cue_of.get(word)
            if number is None and _is_arabic(word):
                number = self._cue_of.get(stem(word))
                if number is None and self._plain_term(word) not in self._known:
                    # as in ``_term``: only a word the base does not know is split
                    keys = readings(word)
                    number = next((self._cue_of[k] for k in keys if k in self._cue_of), None)
            if number is not None and (
                not self._cue_with[number] or self._with_follows(number, found[i + 1 :])
            ):
                hits.append((word, number))
        return present, hits

    def _with_follows(self, number: int, rest: list[str]) -> bool:
        """Whether one of the cue's ``with`` words is among the next few words: the
        object of the cue's verb ("register a firm", not "a startup... where do we start")."""
        for word in rest[:CUE_WITH_WINDOW]:
            keys = {word, stem(word)}
            if is_content(word, self.lexicon):
                keys.add(self._term(word))
            if keys & self._cue_with[number]:
                return True
        return False

    def _cues(self, found: list[str]) -> list[tuple[int, frozenset[int]]]:
        """For each out-of-scope cue in the words: its number and the entries it leaves alone."""
        if not self._cue_of:
            return []
        present, hits = self._cue_words(found)
        out: list[tuple[int, frozenset[int]]] = []
        for word, number in hits:
            unless = self._cue_unless[number]
            if unless is None:
                # Spared by the word as written (its clitics kept: "كموظف", as an employee,
                # is a job cue even though "موظف" is a word of the base).
                spared = self._entry_postings.get(self._plain_term(word), ())
                out.append((number, frozenset(spared)))
            elif not unless & present:
                out.append((number, frozenset()))
        return out

    def _expand(self, word: str, term: str) -> Expansion:
        """Vocabulary terms a query word stands for, with their similarity (0-1)."""
        if term in self._postings:
            return ((term, 1.0),)
        if term in self._known_unused:
            return ()
        coarse = self._deep.get(deep_stem(word))
        if coarse:
            return tuple((t, DEEP_SIMILARITY) for t in coarse)
        if _is_arabic(word):
            # The stem decides: "الامين" is not a typo of "الامن" when "امين" is short.
            return self._typos(term)
        # An English typo is looked up as stemmed and as typed, and the nearer reading
        # wins: "thnks" is one letter from "thanks", though "thnk" is also near "thank".
        if term == word:
            return self._typos(term)
        found = dict(self._typos(word))
        for head, similarity in self._typos(term):
            found[head] = max(found.get(head, 0.0), similarity)
        best = sorted(found.items(), key=lambda item: -item[1])
        return tuple(best[:MAX_FUZZY_EXPANSIONS])

    def _typos(self, token: str) -> Expansion:
        size = len(token)
        # Arabic morphology changes meaning with one letter (اهكر "I hack", انهكر
        # "was hacked"), so short Arabic words get no typo tolerance.
        if size < FUZZY_MIN_LENGTH or (size < FUZZY_MIN_LENGTH + 1 and _is_arabic(token)):
            return ()
        cutoff = FUZZY_CUTOFF_SHORT if size < 6 else FUZZY_CUTOFF_LONG
        power = FUZZY_POWER_SHORT if size < FUZZY_GENTLE_LENGTH else FUZZY_POWER_LONG
        found: dict[str, float] = {}
        candidates = [s for key in _deletes(token) for s in self._typo_index.get(key, ())]
        if size >= SKELETON_MIN_LENGTH and token.isascii():
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
                found[head] = max(found.get(head, 0.0), SOUND_SIMILARITY)
        best = sorted(found.items(), key=lambda item: -item[1])
        return tuple(best[:MAX_FUZZY_EXPANSIONS])

    def scores(self, text: str) -> list[Scored]:
        """Every candidate entry with its score (0-100), best first.

        An entry that leaves an out-of-scope cue of the question unexplained scores
        at most halfway between the suggest and answer thresholds.
        """
        return self._scores(text)[0]

    def _scores(self, text: str) -> tuple[list[Scored], tuple[str, ...]]:
        """``scores``, and the entries offered by the cues that capped a score."""
        found = words(text, self.lexicon)
        pairs = list(dict(reversed(self._word_terms(found))).items())
        seen: set[str] = set()
        weighted: list[tuple[float, Expansion]] = []
        strong = False
        for word, term in pairs:
            if term in seen:
                continue
            seen.add(term)
            expansions = self._expand(word, term)
            weight = max((self._idf[t] for t, _ in expansions), default=self._unknown_idf)
            if word in self.lexicon.weak_words:
                weight = min(weight, WEAK_WEIGHT)
            else:
                strong = True
            weighted.append((weight, expansions))
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
                gain = (similarity * weight, similarity * self._idf[term])
                postings = self._postings[term]
                entries = self._entry_postings[term]
                common = self._common.get(term)
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
        cues = self._cues(found)
        cap = (self.thresholds.answer + self.thresholds.suggest) / 2
        by_entry: dict[int, float] = {}
        for vid, q_gain in explained.items():
            score = (
                QUERY_SIDE * q_gain / query_weight
                + (1 - QUERY_SIDE) * covered[vid] / self._variant_weight[vid]
            )
            entry = self._variant_entry[vid]
            if score > by_entry.get(entry, 0.0):
                by_entry[entry] = score
        # (entry, score, score before a cue's cap): capped entries keep their order
        final: list[tuple[int, float, float]] = []
        offers: dict[str, None] = {}
        for entry, s in by_entry.items():
            raw = 100.0 * (
                VARIANT_SIDE * s + (1 - VARIANT_SIDE) * entry_explained[entry] / query_weight
            )
            score = raw
            capping = [number for number, excused in cues if entry not in excused]
            if capping:
                score = min(raw, cap)
                offers.update((o, None) for n in capping if (o := self._cue_offer[n]))
            final.append((entry, score, raw))
        ranked = sorted(final, key=lambda item: (-item[1], -item[2]))
        return [Scored(self._entry_ids[e], s) for e, s, _ in ranked], tuple(offers)

    def match(self, text: str, lang: Lang | None = None) -> MatchResult:
        """Decide between a direct answer, "did you mean" choices and the fallback.

        A long message is read as context plus a question: the clause that asks (see
        ``question_clauses``) weighs more than the rest, and a second question about
        another topic is returned in ``also``.
        """
        language = lang or detect_language(text)
        ranked, offers = self._scores(text)
        questions = self.question_clauses(text) if len(ranked) > 1 else []
        also: tuple[str, ...] = ()
        if questions:
            ranked, offers, also = self._weigh_questions(ranked, offers, questions)
        t = self.thresholds
        top = ranked[0].score if ranked else 0.0
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top >= t.answer and top - runner_up >= t.margin:
            outcome: Outcome = "answer"
            entry_id: str | None = ranked[0].entry_id
            suggestions: tuple[str, ...] = ()
            also = tuple(a for a in also if a != entry_id)
        else:
            entry_id = None
            also = ()
            # The honest entry of a cue that stopped the answer comes first.
            choices = [*offers, *(s.entry_id for s in ranked if s.score >= t.suggest)]
            suggestions = tuple(dict.fromkeys(choices))[: t.max_suggestions]
            outcome = "suggest" if suggestions else "fallback"
        return MatchResult(
            text, language, outcome, entry_id, top, suggestions, tuple(ranked[:5]), also
        )

    def question_clauses(self, text: str) -> list[str]:
        """The clauses of a long message that ask something, last first; [] for a short one.

        A clause asks when it ends with a question mark or opens with a question word
        (``question_words`` in knowledge/stop_words.yaml). A message of one clause, or of
        fewer than ``LONG_MESSAGE_WORDS`` content words, is read whole.
        """
        clauses = [c for c in _CLAUSE.findall(text) if fold(c)]
        if len(clauses) < 2:
            return []
        found = words(text, self.lexicon)
        if sum(1 for w in found if is_content(w, self.lexicon)) < LONG_MESSAGE_WORDS:
            return []
        asking = []
        for clause in clauses:
            first = fold(clause).split()[:1]
            asks = "?" in clause or "؟" in clause
            if asks or (first and first[0] in self.lexicon.question_words):
                asking.append(clause)
        return asking[::-1] if len(asking) < len(clauses) else []

    def _weigh_questions(
        self, ranked: list[Scored], offers: tuple[str, ...], questions: list[str]
    ) -> tuple[list[Scored], tuple[str, ...], tuple[str, ...]]:
        """Scores of the whole message blended with those of its (last) question clause,
        and the best entry of any other question clause that the blend does not rank first."""
        part, part_offers = self._scores(questions[0])
        if not part:
            return ranked, offers, ()
        whole = {s.entry_id: s.score for s in ranked}
        clause = {s.entry_id: s.score for s in part}
        blended = [
            Scored(e, CLAUSE_WEIGHT * clause.get(e, 0.0) + (1 - CLAUSE_WEIGHT) * whole.get(e, 0.0))
            for e in dict.fromkeys([*whole, *clause])
        ]
        blended.sort(key=lambda s: -s.score)
        also: list[str] = []
        for other in questions[1:]:
            other_ranked, _ = self._scores(other)
            if other_ranked and other_ranked[0].score >= self.thresholds.answer:
                also.append(other_ranked[0].entry_id)
        merged_offers = tuple(dict.fromkeys([*part_offers, *offers]))
        return blended, merged_offers, tuple(dict.fromkeys(also))

    # Read-only views for maintainers' tools (``partnerbot kb explain``); matching never
    # calls them. ``cue_hits`` reads cues through ``_cue_words``, as ``_cues`` does.

    def trace_word(self, word: str) -> WordTrace:
        """How ``scores`` reads the folded content word ``word``: term, expansions, weight."""
        term = self._term(word)
        expansions = self._expand(word, term)
        weight = max((self._idf[t] for t, _ in expansions), default=self._unknown_idf)
        if word in self.lexicon.weak_words:
            weight = min(weight, WEAK_WEIGHT)
        how: Literal["exact", "deep", "typo", "known", "unknown"]
        if term in self._postings:
            how = "exact"
        elif term in self._known_unused:
            how = "known"
        elif not expansions:
            how = "unknown"
        elif self._deep.get(deep_stem(word)):
            how = "deep"
        else:
            how = "typo"
        plain = self._plain_term(word)
        reading = self._reading(word) if term != plain else None
        return WordTrace(word, term, how, expansions, weight, reading[0] if reading else None)

    def cue_hits(self, found: list[str]) -> list[CueHit]:
        """Every out-of-scope cue word among the folded words ``found``, lifted or not."""
        present, hits = self._cue_words(found)
        out: list[CueHit] = []
        for word, number in hits:
            unless = self._cue_unless[number]
            spared: frozenset[str] = frozenset()
            if unless is None:
                entries = self._entry_postings.get(self._plain_term(word), ())
                spared = frozenset(self._entry_ids[e] for e in entries)
            lifted = unless & present if unless is not None else frozenset()
            out.append(CueHit(word, number, frozenset(lifted), unless is not None, spared))
        return out


def _deletes(word: str) -> set[str]:
    """``word`` and every string one deletion away from it."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _skeleton(word: str) -> str:
    """The consonants of an English word's stem: a key that vowel slips leave alone."""
    return stem(word).translate(_VOWELS)


def _sound(word: str) -> str:
    """An English word with letters of one sound made one, and doubled letters single."""
    for spelling, sound in _SOUNDS:
        word = word.replace(spelling, sound)
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])


def _prepare_synonyms(raw: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
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
            if _is_arabic(source) and stemmed not in (source, head_terms[0]):
                by_stem.setdefault(stemmed, head_terms[0])
    for key in exact:
        by_stem.pop(key, None)
    return exact, by_stem


def _cue_keys(cue_words: Iterable[str]) -> list[str]:
    """Folded cue words, Arabic ones also by their stem."""
    keys = []
    for word in cue_words:
        for folded in fold(word).split():
            keys.append(folded)
            if _is_arabic(folded):
                keys.append(stem(folded))
    return keys


def _is_arabic(word: str) -> bool:
    return "\u0621" <= word[:1] <= "\u064a"
