"""The per-user rate limit shared by worker processes: in the database or in Redis."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.models import RateHit
from bot.inbox import InboxWorkers
from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, STAFF_ID, Harness
from tests.test_inbox import store, text_update
from tests.test_inbox_faults import run_until_empty
from tests.test_lead_form import TEXTS


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


async def _alternate(a: Harness, b: Harness, user: LocalUser, count: int) -> list[str]:
    for n in range(count):
        await (a if n % 2 == 0 else b).send(user, f"hello {n}")
    return a.texts(user.id) + b.texts(user.id)


@pytest.mark.parametrize(
    "store",
    [
        "database",
        pytest.param(
            "redis", marks=pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1")
        ),
    ],
)
async def test_two_workers_apply_one_limit(make_bot: Any, store: str) -> None:
    settings = {
        "bot": {"rate_limit_messages": 3, "rate_limit_seconds": 3600, "rate_limit_store": store}
    }
    a: Harness = await make_bot(settings)
    b: Harness = await make_bot(settings)
    # A user id of this run only, so Redis counts left by an earlier run do not matter.
    user = LocalUser(id=int.from_bytes(os.urandom(4), "big"), first_name="Sam")
    replies = await _alternate(a, b, user, 6)
    told = [t for t in replies if t == TEXTS.render("rate_limited", "en")]
    assert len(told) == 1  # messages 1-3 answered, the 4th told once, the rest dropped
    assert len(replies) == 4


async def test_memory_limit_is_per_process(make_bot: Any, english_user: LocalUser) -> None:
    settings = {"bot": {"rate_limit_messages": 3, "rate_limit_seconds": 3600}}
    a: Harness = await make_bot(settings)
    b: Harness = await make_bot(settings)
    replies = await _alternate(a, b, english_user, 6)
    assert TEXTS.render("rate_limited", "en") not in replies  # 3 each: why shared stores exist


async def test_a_state_read_with_the_hit_is_fresh_after_a_change(make_bot: Any) -> None:
    """On PostgreSQL the hit also reads the partner's state, kept for the update's handlers:
    a change this process makes in between is never hidden by the kept copy."""
    bot: Harness = await make_bot({"bot": {"rate_limit_store": "database"}})
    store = bot.store
    await store.update_profile(42, language="ar")
    assert [await store.count_hit(42, 7), await store.count_hit(42, 7)] == [1, 2]
    assert (await store.user_state(42)).language == "ar"
    await store.count_hit(42, 7)
    await store.update_profile(42, language="en")
    assert (await store.user_state(42)).language == "en"
    assert await store.count_hit(42, 8) == 1  # a new window starts at one


async def test_two_workers_with_a_shared_limit_follow_the_chosen_language(
    make_bot: Any, english_user: LocalUser
) -> None:
    settings = {"bot": {"rate_limit_store": "database", "rate_limit_messages": 100}}
    a: Harness = await make_bot(settings)
    b: Harness = await make_bot(settings)
    await a.send(english_user, "/language")
    await a.press(english_user, "lang:ar")
    await b.send(english_user, "what are the partnership options?")
    await a.send(english_user, "/help")
    assert a.last_text(english_user.id) == TEXTS.render("help", "ar")
    await b.send(english_user, "/language")
    await b.press(english_user, "lang:en")
    await a.send(english_user, "/help")
    assert a.last_text(english_user.id) == TEXTS.render("help", "en")


async def test_a_new_window_forgets_only_that_users_older_ones(make_bot: Any) -> None:
    bot: Harness = await make_bot({"bot": {"rate_limit_store": "database"}})
    store = bot.store
    for user, window in ((42, 7), (42, 7), (43, 7), (42, 8)):
        await store.count_hit(user, window)
    async with store.session() as session:
        rows = (await session.execute(select(RateHit).order_by(RateHit.user_id))).scalars()
        assert [(r.user_id, r.window, r.hits) for r in rows] == [(42, 8, 1), (43, 7, 1)]


async def _through_the_inbox(bot: Harness, *updates: dict[str, Any]) -> None:
    """Each update stored, then taken by the inbox's workers, as a serving process does."""
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    for data in updates:
        await store(bot, data)
        await run_until_empty(bot, workers)


async def test_an_update_taken_from_the_inbox_is_counted_once(
    make_bot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the inbox's claim counts the update and reads the partner's state;
    the guard then uses that count instead of making its own. Either way each message is
    counted once, and only a private chat's."""
    bot: Harness = await make_bot(
        {
            "bot": {
                "rate_limit_messages": 3,
                "rate_limit_seconds": 3600,
                "rate_limit_store": "database",
            }
        }
    )
    user = LocalUser(id=4242, first_name="Sam", language_code="en")
    await bot.store.update_profile(user.id, language="ar")  # read with the claim on PostgreSQL
    if bot.store.engine.dialect.name == "postgresql":

        async def no_round_trip(*args: object) -> int:
            raise AssertionError("the claim counted this update already")

        monkeypatch.setattr(bot.store, "hit_with_state", no_round_trip)
    staff = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"},
            "from": {"id": STAFF_ID, "is_bot": False, "first_name": "Staffer"},
            "text": "good morning",
        },
    }
    await _through_the_inbox(bot, staff, *(text_update(n, user, f"hello {n}") for n in range(2, 7)))
    told = TEXTS.render("rate_limited", "ar")
    replies = bot.texts(user.id)
    assert len(replies) == 4 and replies[-1] == told  # 3 answered (in Arabic), 4th told
    assert all(told != reply for reply in replies[:3])
    async with bot.store.session() as session:
        counts = (await session.execute(select(RateHit.user_id, RateHit.hits))).all()
    assert counts == [(user.id, 5)]  # not the staff member's group message
