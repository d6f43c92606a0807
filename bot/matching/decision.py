"""The decision: a direct answer, "did you mean" choices, or the fallback."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from bot.matching.parameters import Thresholds
from bot.matching.result import MatchResult, Opinion, Outcome, Scored
from bot.normalize import Lang

# How the message's out-of-scope cues hold an entry: none caps it ("free"), only cues
# that offer it as their honest entry do ("honest"), or another does ("held").
Hold = Literal["free", "honest", "held"]


def decide(
    text: str,
    lang: Lang,
    ranked: list[Scored],
    offers: tuple[str, ...],
    also: tuple[str, ...],
    thresholds: Thresholds,
    long_floor: float | None = None,
    lead: float | None = None,
    learned: tuple[Scored, ...] = (),
    hold: Hold = "free",
    second_opinion: Callable[[], Opinion | None] | None = None,
) -> MatchResult:
    """Answer when the best entry clears the answer threshold by the margin, or, for a
    long message, passes ``long_floor`` with the long margin; otherwise offer the entries
    above the suggest threshold, the honest entry of a cue first.

    With learned weights, ``ranked`` is in blended order and ``lead`` is the first's
    blended lead and ``hold`` how the cues hold it: see ``answers_blended``.

    Where that would not answer, ``second_opinion`` (asked only then: it costs a second
    model's scores) may be sure of an entry, which is answered instead."""
    t = thresholds
    top = ranked[0].score if ranked else 0.0
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if lead is None:
        answered = answers(top, runner_up, t, long_floor)
    else:
        value = dict(learned).get(ranked[0].entry_id, -1.0) if ranked else -1.0
        answered = answers_blended(ranked, lead, t, long_floor, value, hold)
    opinion = None if answered or second_opinion is None else second_opinion()
    sure_of = opinion.answers if opinion is not None else None
    if answered or sure_of is not None:
        outcome: Outcome = "answer"
        entry_id: str | None = ranked[0].entry_id if answered else sure_of
        suggestions: tuple[str, ...] = ()
        also = tuple(a for a in also if a != entry_id)
    else:
        entry_id = None
        also = ()
        # The honest entry of a cue that stopped the answer comes first.
        choices = [*offers, *(s.entry_id for s in ranked if s.score >= t.suggest)]
        suggestions = tuple(dict.fromkeys(choices))[: t.max_suggestions]
        outcome = "suggest" if suggestions else "fallback"
    if not answered and entry_id is not None:
        # The second opinion's entry: its own fuzzy score (0 if the scores did not find it).
        top = next((s.score for s in ranked if s.entry_id == entry_id), 0.0)
    return MatchResult(
        text,
        lang,
        outcome,
        entry_id,
        top,
        suggestions,
        tuple(ranked[:5]),
        also,
        long_floor,
        learned,
        lead,
        opinion,
    )


def answers(top: float, runner_up: float, t: Thresholds, long_floor: float | None) -> bool:
    """Whether a best score of ``top`` over a runner-up of ``runner_up`` is answered.

    A long message is held to a lower score (``long_floor``, see ``Matcher._long_floor``),
    never to a smaller lead: its context words dilute every entry's score alike, so the
    lead is what still tells the entries apart.
    """
    if top >= t.answer and top - runner_up >= t.margin:
        return True
    return long_floor is not None and top > long_floor and top - runner_up >= t.long_margin


def answers_blended(
    ranked: list[Scored],
    lead: float,
    t: Thresholds,
    long_floor: float | None,
    value: float,
    hold: Hold,
) -> bool:
    """Whether the first of ``ranked`` (in blended order), of learned ``value``, is
    answered. It must lead by ``learned_margin`` in the blend. Then either the fuzzy
    scores say the question is one the base answers (the first entry is at least a
    choice on its own, and the best clears the answer threshold or a long message's
    floor), or the model is sure of it (``sure``).

    The out-of-scope cues of the question (of a long message's question clause, as the
    blend weighs it) still have the last word (``hold``): an entry they cap is answered
    only when each of them offers it as its honest entry ("no e-mail address is
    published") and the model is sure the question asks for it."""
    if not ranked or lead < t.learned_margin:
        return False
    first = ranked[0]
    if hold != "free" or first.score == t.cue_cap:
        return hold == "honest" and sure(lead, value, t)
    best = max(s.score for s in ranked)
    clears = best >= t.answer or (long_floor is not None and best > long_floor)
    return (first.score >= t.suggest and clears) or sure(lead, value, t)


def sure(lead: float, value: float, t: Thresholds) -> bool:
    """Whether the model is sure enough of a choice to answer it below the fuzzy bar: it
    (nearly) takes the question to be about the entry (its value is above
    ``learned_sure_value``, a little below 0) and the blend leads the runner-up and "out
    of scope" by ``learned_sure_lead``. Dialect and long messages
    share few words with any phrasing, so their right entry often scores just below the
    bar while the model, which has read such questions, knows it. A lone candidate of a
    model without "out of scope" leads by infinity, against nothing: never sure."""
    return value > t.learned_sure_value and math.isfinite(lead) and lead >= t.learned_sure_lead
