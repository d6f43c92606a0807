"""The sign-up form's intent (bot/matching/intent.py): a wish to join opens the form, a
question about partnering is answered."""

from __future__ import annotations

import pytest

from bot.config import load_config
from bot.knowledge import APPLY_INTENT, load_knowledge_base
from bot.matching.intent import Intent


@pytest.fixture(scope="module")
def intent() -> Intent:
    kb = load_knowledge_base()
    return Intent(kb, APPLY_INTENT, load_config().matching.apply_intent_threshold)


def test_every_phrase_that_wins_opens_the_form(intent: Intent) -> None:
    """What the intent's phrases asked before still opens the form: a phrase that ranks
    first at the threshold is never held back as a question about partnering."""
    phrases = [p for texts in load_knowledge_base().intents[APPLY_INTENT].values() for p in texts]
    readings = {p: intent.read(p) for p in phrases}
    winning = [p for p, r in readings.items() if r.first and r.score >= intent.threshold]
    assert len(winning) >= 15
    assert [p for p in winning if not readings[p].opens] == []
    # Some of them ask ("how do i apply"): the intent's own words carry those.
    assert any(readings[p].asks_about for p in winning)


@pytest.mark.parametrize(
    ("text", "carried_by"),
    [
        ("how do i apply?", "own word"),  # a question, but "apply" is the intent's own
        ("كيف أقدم طلب شراكة؟", "own word"),
        ("we want to partner with you", "wish"),
        ("نريد الشراكة معكم", "wish"),
    ],
)
def test_a_wish_or_the_intents_own_word_opens_it(
    intent: Intent, text: str, carried_by: str
) -> None:
    reading = intent.read(text)
    assert reading.opens and reading.carried_by == carried_by


@pytest.mark.parametrize(
    "text",
    [
        "what is the partnership?",
        "what partnerships do you offer",
        "tell me about partnerships",
        "I would like to know more about the partnership",  # a wish to know is a question
        "ok so just tell me about partnerships",
        "ما هي الشراكة؟",
        "كيف تعمل الشراكة",
    ],
)
def test_a_question_about_partnering_does_not(intent: Intent, text: str) -> None:
    reading = intent.read(text)
    assert reading.first and reading.score >= 80  # the intent ranks first, as it did
    assert reading.asks_about and reading.carried_by is None and not reading.opens
