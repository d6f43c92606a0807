"""Fuzzy question matching: which entry answers a question, and how sure we are.

Scoring is token based. Every query word is folded, stemmed and mapped through the
synonyms (``terms``), then looked up in the vocabulary of the knowledge base
(``index``): exactly, or through a near spelling (``spelling``). Entries are
scored (``scoring``), capped by out-of-scope cues (``cues``), a long
message's question clause weighed over its context (``clauses``), and the decision
taken (``decision``). Every tunable number is in ``parameters``.

``Matcher`` puts those parts together; the names callers use are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from functools import cache
from typing import Literal

from bot.disk_cache import fingerprint
from bot.knowledge.examples import OUT_OF_SCOPE
from bot.knowledge.model import KnowledgeBase, OutOfScopeCue
from bot.lexicon import Lexicon
from bot.matching.clauses import (
    Clauses,
    best_question,
    content_words,
    message_clauses,
    other_topics,
    question_clauses,
    separate_questions,
    told_words,
    weigh_questions,
)
from bot.matching.cues import Cues
from bot.matching.decision import Hold, answers, decide
from bot.matching.index import Index
from bot.matching.learned import TermModel, blend
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.reading import Reader
from bot.matching.reading_code import READING_CODE
from bot.matching.result import (
    CueHit,
    Expansion,
    MatchResult,
    Opinion,
    Outcome,
    Scored,
    WordTrace,
)
from bot.matching.scoring import Scorer
from bot.matching.second_opinion import SecondOpinion
from bot.matching.spelling import Spelling
from bot.matching.terms import Terms
from bot.normalize import (
    Lang,
    deep_stem,
    default_lexicon,
    detect_language,
    is_content,
    words,
)
from bot.stemming import WORD_CACHE

__all__ = [
    "CueHit",
    "Expansion",
    "Hold",
    "MatchParameters",
    "MatchResult",
    "Matcher",
    "Opinion",
    "Outcome",
    "Scored",
    "Thresholds",
    "WordTrace",
]


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
        parameters: MatchParameters | None = None,
        arabizi: Collection[str] = frozenset(),
        examples: Iterable[tuple[str, str]] | None = None,
        small_talk: Collection[str] = frozenset(),
    ) -> None:
        """``arabizi``: Arabic words as typed in Latin letters (knowledge/arabizi.yaml); a
        message made mostly of them is read in Arabic letters (see ``reading``).
        ``examples``: labelled questions (entry id, question); given (even empty), a
        model learned from them and the phrasings re-ranks the entries (``learned``)."""
        self.thresholds = thresholds or Thresholds()
        self.parameters = parameters or MatchParameters()
        self.lexicon = lexicon or default_lexicon()
        variants = list(variants)
        out_of_scope = list(out_of_scope)
        self.terms = Terms(synonyms or {}, self.lexicon, (text for _, text in variants))
        phrasings = [(entry_id, self.terms.word_terms(text)) for entry_id, text in variants]
        self.index = Index(phrasings, self.parameters)
        self.spelling = Spelling(
            phrasings, self.terms.synonyms, self.index.postings, self.parameters
        )
        self.cues = Cues(
            out_of_scope,
            self.terms,
            self.index.entry_ids,
            self.index.entry_postings,
            self.parameters,
        )
        self._scorer = Scorer(
            self.terms, self.index, self.spelling, self.cues, self.parameters, self.thresholds
        )
        self._arabizi = frozenset(arabizi)
        # Entries that answer courtesies ("thanks"): a clause that names only one of them
        # closes a message, it is not what it asks (``best_question``).
        self._small_talk = frozenset(small_talk)
        # How a message is read before it is matched: a letter's salutation and sign-off
        # left out, Arabizi in Arabic letters.
        self.reader = Reader(
            self.lexicon,
            self.terms,
            self.index,
            self.spelling,
            self._arabizi,
            phrasings,
            synonyms or {},
        )
        self.model: TermModel | None = None
        self.second_opinion: SecondOpinion | None = None
        # Folded word -> the model's term for it (None: unknown to the model); a bounded
        # memory, as the terms' own, since a typo's nearest word is a lookup.
        self._model_known: dict[str, str | None] = {}
        if examples is not None and len(self.index) <= self.parameters.learned_max_entries:
            examples = list(examples)
            # What both models are made from, spelled out: a start that finds them kept
            # under it reads no example (``TermModel.train_for``).
            inputs = fingerprint(
                [
                    READING_CODE,
                    variants,
                    synonyms or {},
                    out_of_scope,
                    self.lexicon,
                    self.parameters,
                    self.thresholds,
                    sorted(self._arabizi),
                    examples,
                    sorted(self._small_talk),
                ]
            )

            @cache
            def read() -> list[tuple[str, str]]:
                return [(entry_id, self.reading(text)) for entry_id, text in examples]

            def documents() -> list[tuple[str, list[str]]]:
                # The phrasings as the index reads them; the examples as questions are read.
                made = [(entry_id, [term for _, term in pairs]) for entry_id, pairs in phrasings]
                return made + [(entry_id, self._example_terms(text)) for entry_id, text in read()]

            def texts() -> list[tuple[str, str]]:
                return read() + [(entry_id, self.reading(text)) for entry_id, text in variants]

            self.model = TermModel.train_for(
                ("terms", inputs), documents, self.parameters.learned_c
            )
            self.second_opinion = SecondOpinion.train(("texts", inputs), texts, self.parameters)

    def _example_terms(self, read: str) -> list[str]:
        """An example question's terms as the model reads a question: a long message's
        question clause counts twice, once in the whole message and once on its own (see
        ``match``). The first question clause stands for the one ``match`` weighs, which
        takes scoring every clause: they differ for about one example in seven of those
        with several question clauses, and the training documents are read at every start.
        ``read``: the question as ``reading`` reads it."""
        terms = [term for _, term in self.terms.word_terms(read)]
        questions = question_clauses(read, self.lexicon, self.parameters, None, self._stands_alone)
        if questions:
            terms += [term for _, term in self.terms.word_terms(questions[0])]
        return terms

    @classmethod
    def from_knowledge_base(
        cls,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        *,
        extra: Iterable[tuple[str, str]] = (),
        parameters: MatchParameters | None = None,
        learned: bool = True,
    ) -> Matcher:
        """A matcher over every entry's phrasings, plus ``extra`` (id, phrasing) pairs
        (intent phrases, which must compete with the real answers); with ``learned``, its
        entries re-ranked by a model of the phrasings and the base's examples."""
        pairs = [(e.id, v) for e in kb.entries.values() for v in e.variants()]
        return cls(
            [*pairs, *extra],
            synonyms=kb.synonyms,
            thresholds=thresholds,
            out_of_scope=kb.out_of_scope,
            lexicon=kb.lexicon,
            parameters=parameters,
            arabizi=kb.arabizi,
            examples=kb.examples if learned else None,
            small_talk=[e.id for e in kb.entries.values() if e.small_talk],
        )

    def __len__(self) -> int:
        return len(self.index)

    def scores(self, text: str) -> list[Scored]:
        """Every candidate entry with its score (0-100), best first.

        An entry that leaves an out-of-scope cue of the question unexplained scores
        at most halfway between the suggest and answer thresholds.
        """
        read = self.reading(text)
        return self._scorer.scores(read, self._told(read))[0]

    def _told(self, read: str) -> frozenset[str]:
        return told_words(message_clauses(read, self.lexicon), self.lexicon)

    def reading(self, text: str) -> str:
        """``text`` as it is matched (see ``Reader.reading``)."""
        return self.reader.reading(text)

    def letter_body(self, text: str) -> str:
        """``text`` without a letter's salutation and sign-off (see ``Reader.letter_body``)."""
        return self.reader.letter_body(text)

    def is_arabizi(self, text: str) -> bool:
        """Whether ``text`` is matched as Arabizi (see ``Reader.is_arabizi``)."""
        return self.reader.is_arabizi(text)

    def match(self, text: str, lang: Lang | None = None) -> MatchResult:
        """Decide between a direct answer, "did you mean" choices and the fallback.

        A long message is read as context plus a question: the clause that asks (see
        ``question_clauses``) weighs more than the rest. Another topic a second question
        asks about (with or without context) is returned in ``also``.
        """
        # The language is the letter's, not its signature's (an English question signed
        # «مع خالص التحية، سالم الحارثي، مسقط» is answered in English).
        body = self.letter_body(text)
        read, arabizi = self.reader.read_body(body)
        language = lang or ("ar" if arabizi else detect_language(body))
        # The clauses are read once, for the cues and for both questions below.
        clauses = message_clauses(read, self.lexicon)
        told = told_words(clauses, self.lexicon)
        # The message's words, read once for the scores, the long bar, the model and the cues.
        found = words(read, self.lexicon)
        ranked, offers = self._scorer.scores(read, told, found)
        whole = ranked
        also: tuple[str, ...] = ()
        asked: str | None = None  # a long message's question clause, weighed
        topics: tuple[str, ...] = ()  # the answers of a message's separate questions
        if len(ranked) > 1:
            questions = question_clauses(
                read, self.lexicon, self.parameters, clauses, self._stands_alone
            )
            if questions:
                ranked, offers, also, asked = weigh_questions(
                    self._scorer.scores,
                    ranked,
                    offers,
                    questions,
                    self.parameters,
                    self.thresholds,
                    self._small_talk,
                    told_only=not any(asks for _, asks in clauses),
                )
                asking = [clause for clause, asks in clauses if asks]
                if len(asking) > len(questions):
                    # A follow-up joined the question before it ("When is the next
                    # conference? And where?"): that question's own topic, if the blend
                    # does not rank it first, is still offered, as it was on its own.
                    topics = other_topics(self._scorer.scores, asking, self.thresholds)
                    also = tuple(dict.fromkeys([*also, *topics]))
            else:
                separate = separate_questions(read, self.lexicon, clauses)
                if separate:
                    also = topics = other_topics(self._scorer.scores, separate, self.thresholds)
        long = (
            sum(1 for w in found if is_content(w, self.lexicon))
            >= self.parameters.long_message_words
        )
        floor = self._long_floor(found, whole, ranked, told, long)
        lead = None
        learned: tuple[Scored, ...] = ()
        hold: Hold = "free"
        terms, unknown = self._model_terms(found)
        # A long message's question clause, as the blend weighs it: what the cues hold.
        asked_words = words(asked, self.lexicon) if asked else found
        if asked:
            # The model reads the question clause twice, in the message and on its own, as
            # it was trained (``_example_terms``): what a message asks weighs over the
            # context it carries ("We're a payments firm in Nairobi with offices in
            # Lagos... can't the police handle cybercrime on their own?").
            terms += self._model_terms(asked_words)[0]
        if long:
            context = _context_strangers(unknown, asked_words if asked else None)
            unknown = [w for w in unknown if w not in context]
        # The words whose out-of-scope cues hold an answer (the blend's or the second opinion's).
        held = self._held_words(asked, asked_words, clauses, found, told)
        if self.model is not None and ranked and terms:
            p = self.parameters
            runner_up = ranked[1].score if len(ranked) > 1 else 0.0
            fuzzy_answer = answers(ranked[0].score, runner_up, self.thresholds, floor)
            fuzzy_first = ranked[0].entry_id
            values = self.model.scores(terms, unknown)
            ranked, lead = blend(ranked, values, p.learned_weight, p.learned_depth)
            if len(topics) > 1 and ranked[0].entry_id in topics:
                # Each separate question has its answer ("How can we second an expert? And
                # do you support training?"): the others' are no rivals to the first, which
                # is answered with them as buttons (``also``).
                rivals = [ranked[0], *(s for s in ranked[1:] if s.entry_id not in topics)]
                lead = blend(rivals, values, p.learned_weight, p.learned_depth)[1]
            if fuzzy_answer and ranked[0].entry_id == fuzzy_first:
                # Both read the same entry first: the fuzzy rule's answer stands, whatever
                # the model's lead (where the model ranks another entry first, it does not).
                lead = math.inf
            shown = [s.entry_id for s in ranked[:5]] + [OUT_OF_SCOPE]
            learned = tuple(Scored(e, values[e]) for e in shown if e in values)
            hold = self._hold(*held, ranked[0].entry_id)
        second = self.second_opinion
        return decide(
            text,
            language,
            ranked,
            offers,
            also,
            self.thresholds,
            floor,
            lead,
            learned,
            hold,
            None if second is None else lambda: self._second_opinion(read, found, clauses, held),
        )

    def _second_opinion(
        self,
        read: str,
        found: list[str],
        clauses: Clauses,
        held: tuple[list[str], frozenset[str]],
    ) -> Opinion | None:
        """The second opinion of ``read`` (of folded words ``found``, of ``clauses``). The
        entry it is sure of is not answered where an out-of-scope cue of the question holds
        it, unless every such cue offers it as its honest entry (as for the blend: the
        opinion is sure, and "no fee is published" is what "partnershipfeez?" asks). Nor
        is small talk, where a clause asks something: "thanks! and how do we start?" is
        not a thank-you (it reads the whole message, not the clause ``best_question``
        weighs). None for a message of only stop words and question words ("why?"), which,
        as for the fuzzy scores, is about nothing."""
        assert self.second_opinion is not None
        lexicon = self.lexicon
        if not any(is_content(w, lexicon) and w not in lexicon.weak_words for w in found):
            return None
        opinion = self.second_opinion.read(read, self.thresholds)
        sure = opinion.sure
        if sure is None:
            return opinion
        if self._hold(*held, sure) == "held":
            return opinion._replace(held="an out-of-scope cue holds it")
        if sure in self._small_talk and any(asks for _, asks in clauses):
            return opinion._replace(held="small talk, in a message that asks something")
        return opinion

    def model_strangers(self, text: str) -> tuple[list[str], list[str]]:
        """The words of ``text`` the learned model never saw, as ``match`` reads them: those
        that weaken what it says, and those it leaves out as a long message's context."""
        if self.model is None:
            return [], []
        read = self.reading(text)
        unknown = self._model_terms(words(read, self.lexicon))[1]
        if not self._has_long_words(read):
            return unknown, []
        asked = self.question_clause(text)
        context = _context_strangers(unknown, words(asked, self.lexicon) if asked else None)
        return [w for w in unknown if w not in context], [w for w in unknown if w in context]

    def hold(self, text: str, entry_id: str) -> Hold:
        """How the out-of-scope cues of ``text`` (of its question clause, for a long
        message) hold the entry ``entry_id`` (``Hold``), as ``match`` reads them."""
        asked = self.question_clause(text)
        read = self.reading(text)
        clauses = message_clauses(read, self.lexicon)
        found = words(read, self.lexicon)
        asked_words = words(asked, self.lexicon) if asked else found
        held = self._held_words(asked, asked_words, clauses, found, self._told(read))
        return self._hold(*held, entry_id)

    def _held_words(
        self,
        asked: str | None,
        asked_words: list[str],
        clauses: Clauses,
        found: list[str],
        told: frozenset[str],
    ) -> tuple[list[str], frozenset[str]]:
        """The words whose cues hold the answer, and the words said only about the sender:
        a long message's question clause, where one asks. Where none asks and one of its
        clauses is weighed as the question, the whole message, with the others as its
        statements: "our boss asked me to write to you" tells, but "I am looking for a job
        as an analyst" wants, and its cue still holds."""
        if asked is None:
            return found, told
        if any(asks for _, asks in clauses):
            return asked_words, frozenset()
        marked = [(clause, clause == asked) for clause, _ in clauses]
        return found, told_words(marked, self.lexicon)

    def _hold(self, found: list[str], told: frozenset[str], entry_id: str) -> Hold:
        entry = self.index.entry_index.get(entry_id)
        if entry is None:
            return "free"
        offers = self.cues.holding(found, entry, told)
        if not offers:
            return "free"
        return "honest" if all(offer == entry_id for offer in offers) else "held"

    def _model_terms(self, found: list[str]) -> tuple[list[str], list[str]]:
        """The terms of the folded words ``found`` that the learned model knows, a typo
        read as the word it is nearest to ("partnershp" as "partnership"), as the fuzzy
        scores read it, and the words it does not know. With no known term, the model has
        nothing to say and the fuzzy scores decide alone."""
        model = self.model
        if model is None:
            return [], []
        known = self._model_known
        out: list[str] = []
        unknown: list[str] = []
        for word, term in self.terms.word_terms(found):
            if word in known:
                modelled = known[word]
            else:
                best = term
                if not model.knows(term):
                    nearest = self.spelling.expand(word, term)
                    best = max(nearest, key=lambda e: e[1])[0] if nearest else term
                modelled = best if model.knows(best) else None
                if len(known) >= WORD_CACHE:
                    known.clear()
                known[word] = modelled
            if modelled is None:
                unknown.append(word)
            else:
                out.append(modelled)
        return out, unknown

    def _at_cue_cap(self, whole: list[Scored], best: Scored) -> bool:
        """Whether a cue of the whole message capped ``best``: a cue caps an entry's score
        at exactly ``cue_cap``. Such an entry may still lead once a question clause without
        the cue is weighed in, but the long-message bar, made for context that no entry
        explains, does not answer it: the context said "out of scope"."""
        cap = self.thresholds.cue_cap
        return any(s.entry_id == best.entry_id and s.score == cap for s in whole)

    def _long_floor(
        self,
        found: list[str],
        whole: list[Scored],
        ranked: list[Scored],
        told: frozenset[str],
        long: bool,
    ) -> float | None:
        """The score a long message's best entry must pass, with the long margin, to be
        answered below the answer threshold; None for a short message, or where the bar
        could not change the outcome, or for an entry a cue capped in the whole message.

        The floor is the cue cap, so that a capped entry stays a choice; a message in which
        no out-of-scope cue is in force (none, or each lifted by its own question: "email"
        beside "phishing", "fee" beside "partner") has nothing to cap and goes down to the
        suggest threshold: its context dilutes every score, and the lead still tells.
        """
        t = self.thresholds
        if not ranked or not t.suggest < ranked[0].score < t.answer:
            return None
        if not long or self._at_cue_cap(whole, ranked[0]):
            return None
        hits = self.cues.hits(found, told)
        return t.cue_cap if any(hit.in_force for hit in hits) else t.suggest

    def asks(self, text: str) -> bool:
        """Whether ``text`` asks something: a clause with a question mark, or one that
        starts with a question word or a question opener ("what", «كيف», "I'd like to
        know"), as ``match`` reads clauses."""
        return any(asks for _, asks in message_clauses(self.reading(text), self.lexicon))

    def is_long_message(self, text: str) -> bool:
        """Whether ``text`` has enough content words to be held to the long-message bar
        (see ``decide``)."""
        return self._has_long_words(self.reading(text))

    def _has_long_words(self, read: str) -> bool:
        return content_words(read, self.lexicon) >= self.parameters.long_message_words

    def question_clauses(self, text: str) -> list[str]:
        """The clauses of a long message that ask something, last first; [] for a short one."""
        read = self.reading(text)
        return question_clauses(read, self.lexicon, self.parameters, None, self._stands_alone)

    def _stands_alone(self, question: str) -> bool:
        """Whether ``question`` on its own would be answered (its best entry clears the
        answer threshold)."""
        ranking = self._scorer.scores(question)[0]
        return bool(ranking) and ranking[0].score >= self.thresholds.answer

    def question_clause(self, text: str) -> str | None:
        """The clause that ``match`` weighs as a long message's question; None for a short
        message."""
        read = self.reading(text)
        clauses = message_clauses(read, self.lexicon)
        questions = question_clauses(
            read, self.lexicon, self.parameters, clauses, self._stands_alone
        )
        if not questions or len(self.scores(text)) < 2:
            return None  # read whole, as ``match`` does
        rankings = [self._scorer.scores(q)[0] for q in questions]
        told_only = not any(asks for _, asks in clauses)
        best = best_question(rankings, self.thresholds, self._small_talk, told_only)
        return questions[best] if best is not None and rankings[best] else None

    # Read-only views for maintainers' tools (``partnerbot kb explain``); matching never
    # calls them.

    def trace_word(self, word: str) -> WordTrace:
        """How ``scores`` reads the folded content word ``word``: term, expansions, weight."""
        term = self.terms.term(word)
        expansions = self.spelling.expand(word, term)
        weight = self._scorer.weigh(word, expansions)
        how: Literal["exact", "deep", "typo", "known", "unknown"]
        if term in self.index.postings:
            how = "exact"
        elif term in self.spelling.known_unused:
            how = "known"
        elif not expansions:
            how = "unknown"
        elif self.spelling.deep.get(deep_stem(word)):
            how = "deep"
        else:
            how = "typo"
        plain = self.terms.plain_term(word)
        reading = self.terms.reading(word) if term != plain else None
        return WordTrace(word, term, how, expansions, weight, reading[0] if reading else None)

    def cue_hits(self, text: str) -> list[CueHit]:
        """Every out-of-scope cue word of ``text``, lifted or not."""
        read = self.reading(text)
        return self.cues.hits(words(read, self.lexicon), self._told(read))


def _context_strangers(unknown: list[str], question: list[str] | None) -> frozenset[str]:
    """Of a long message's words the learned model never saw (``unknown``), those outside
    the clause that asks (of folded words ``question``; None: none was found) are its
    context (a city, a firm, a job title: "our payments start-up in Lagos... what would
    working with you involve?"), not its subject: they do not weaken what the model says.
    The question's own strangers do, as in a short message ("crowdstrike stock price")."""
    asked = frozenset(question or ())
    return frozenset(w for w in unknown if w not in asked)
