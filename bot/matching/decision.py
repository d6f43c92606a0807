"""The decision: a direct answer, "did you mean" choices, or the fallback."""

from __future__ import annotations

from bot.matching.parameters import Thresholds
from bot.matching.result import MatchResult, Outcome, Scored
from bot.normalize import Lang


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
) -> MatchResult:
    """Answer when the best entry clears the answer threshold by the margin, or, for a
    long message, passes ``long_floor`` with the long margin; otherwise offer the entries
    above the suggest threshold, the honest entry of a cue first.

    With learned weights, ``ranked`` is in blended order and ``lead`` is the first's
    blended lead: see ``answers_blended``."""
    t = thresholds
    top = ranked[0].score if ranked else 0.0
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if lead is None:
        answered = answers(top, runner_up, t, long_floor)
    else:
        answered = answers_blended(ranked, lead, t, long_floor)
    if answered:
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
    ranked: list[Scored], lead: float, t: Thresholds, long_floor: float | None
) -> bool:
    """Whether the first of ``ranked`` (in blended order) is answered: the fuzzy scores
    still say whether the question is one the base answers at all (the best of them
    clears the answer threshold, or a long message's floor), and the first entry is at
    least a choice on its own and not held at an out-of-scope cue's cap; the blend says
    which entry, by ``learned_margin``."""
    if not ranked or ranked[0].score < t.suggest or lead < t.learned_margin:
        return False
    if ranked[0].score == t.cue_cap:  # capped by an out-of-scope cue: offered, never answered
        return False
    best = max(s.score for s in ranked)
    return best >= t.answer or (long_floor is not None and best > long_floor)
