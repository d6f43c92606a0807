"""A second opinion that reads a question by its letters, for the questions the matcher
would not answer.

The fuzzy scores and the learned term weights both read words as index terms: a word
the stemmer cannot bring to a known term ("نبعثوهملكم", "نحبو نعطيو", "ka charika") is
unknown to both, and a dialect question made of such words is offered as "did you mean"
or sent to the fallback. Short runs of letters survive what the stemmer misses: clitics,
dialect verb forms, an Arabizi word read into Arabic letters a little differently, a
typo. A linear model over each word's runs of three letters (``second_opinion_grams``;
the same trainer as ``learned``, on the same phrasings and examples, "out of scope"
included) names the entry a question is about even when none of its words is a known term.

It is asked only when the rest would not answer (``decide``), and it answers only when
it is sure: its first entry leads its runner-up (which may be "out of scope") by
``second_opinion_lead`` and has a value above ``second_opinion_value``. It costs a
second model's scores, on a minority of messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bot.knowledge.examples import OUT_OF_SCOPE
from bot.matching.learned import TermModel
from bot.matching.parameters import MatchParameters, Thresholds
from bot.matching.result import Opinion, Scored
from bot.normalize import fold


def letter_grams(text: str, sizes: tuple[int, ...]) -> list[str]:
    """The character n-grams of each word of the folded ``text``, a space on both sides
    of the word (so that a word's first and last letters count as such): "بنك" gives
    " بن", "بنك", "نك ", " بنك", "بنك " for sizes (3, 4)."""
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        for n in sizes:
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


class SecondOpinion:
    """Which entry a question is about, read by the letters of its words."""

    def __init__(self, model: TermModel, sizes: tuple[int, ...]) -> None:
        self._model = model
        self._sizes = sizes

    @classmethod
    def train(
        cls,
        source: Any,
        documents: Callable[[], Iterable[tuple[str, str]]],
        parameters: MatchParameters,
    ) -> SecondOpinion:
        """A second opinion learned from ``documents()``, (entry id, question as
        ``Matcher.reading`` reads it): the phrasings and the labelled examples. ``source``
        is what they are read from, code included (see ``TermModel.train_for``): a start
        that finds the model kept under it (every worker, each ``partnerbot ask``) never
        reads a text or cuts it into runs."""
        sizes = parameters.second_opinion_grams

        def grams() -> list[tuple[str, list[str]]]:
            return [(entry_id, letter_grams(fold(text), sizes)) for entry_id, text in documents()]

        model = TermModel.train_for((source, sizes), grams, parameters.second_opinion_c)
        return cls(model, sizes)

    def values(self, read: str) -> dict[str, float]:
        """Every entry's decision value ("" is "out of scope") for the question ``read``
        (as ``Matcher.reading`` reads it)."""
        return self._model.scores(letter_grams(fold(read), self._sizes))

    def read(self, read: str, thresholds: Thresholds) -> Opinion:
        """Its opinion of the question ``read`` (as ``Matcher.reading`` reads it): the
        entry it is sure the question asks for, if any (never "out of scope": refusing
        is the matcher's own decision). A model trained without "out of scope" examples
        cannot tell a question the base does not answer: it is never sure, as the learned
        weights are not (``decision.sure``)."""
        values = self.values(read)
        ranked = sorted(values.items(), key=lambda pair: pair[1], reverse=True)
        shown = [Scored(e, v) for e, v in ranked[:3]]
        shown += [Scored(e, v) for e, v in ranked[3:] if e == OUT_OF_SCOPE]
        if len(ranked) < 2 or OUT_OF_SCOPE not in values:
            return Opinion(tuple(shown), None)
        (first, value), (_, runner_up) = ranked[0], ranked[1]
        sure = (
            first != OUT_OF_SCOPE
            and value > thresholds.second_opinion_value
            and value - runner_up >= thresholds.second_opinion_lead
        )
        return Opinion(tuple(shown), first if sure else None)
