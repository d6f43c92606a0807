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
) -> MatchResult:
    """Answer when the best entry clears the answer threshold by the margin, or, for a
    long message, passes ``long_floor`` with the long margin; otherwise offer the entries
    above the suggest threshold, the honest entry of a cue first."""
    t = thresholds
    top = ranked[0].score if ranked else 0.0
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if answers(top, runner_up, t, long_floor):
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
        text, lang, outcome, entry_id, top, suggestions, tuple(ranked[:5]), also, long_floor
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
