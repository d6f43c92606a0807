"""Deliveries that keep failing: stuck after max_attempts, counted for /stats, requeued by /retry."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import NetworkError

from bot.db.models import utcnow
from bot.local_api import ApiCall, LocalUser
from tests.conftest import STAFF_CHAT, Harness
from tests.test_delivery_leases import add_leads, is_staff_post, posted_lead_ids
from tests.test_lead_form import TEXTS

FAST_RETRIES: dict[str, Any] = {
    "delivery": {"max_attempts": 3, "backoff_base_seconds": 1, "backoff_max_seconds": 5}
}


def staff_chat_down(call: ApiCall) -> None:
    if is_staff_post(call):
        raise NetworkError("connection reset (simulated)")


async def passes(bot: Harness, count: int) -> None:
    """``count`` delivery passes, each a minute after the last, so retries are due."""
    for minute in range(1, count + 1):
        await bot.deliver(utcnow() + timedelta(minutes=minute))


async def test_gives_up_after_max_attempts_and_logs_it_once_without_personal_data(
    make_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot: Harness = await make_bot(FAST_RETRIES)
    [lead_id] = await add_leads(bot.store, 1)
    bot.api.on_call = staff_chat_down
    caplog.set_level(logging.INFO)
    await passes(bot, 6)
    attempts = [c for c in bot.api.calls if is_staff_post(c)]
    assert len(attempts) == 3  # then it stopped trying
    [item] = await bot.store.outbox()
    assert (item.status, item.attempts, item.last_error) == ("stuck", 3, "NetworkError")
    stuck_logs = [r for r in caplog.records if "stuck" in r.getMessage()]
    assert len(stuck_logs) == 1
    assert stuck_logs[0].levelno == logging.ERROR
    assert f"outbox item {item.id}" in stuck_logs[0].getMessage()
    [lead] = await bot.store.all_leads()
    for record in caplog.records:
        for personal in (lead.name, lead.email, lead.organisation, "connection reset"):
            assert personal not in record.getMessage()
    assert lead.id == lead_id


async def test_rate_limits_never_make_an_item_stuck(make_bot: Any) -> None:
    bot: Harness = await make_bot(FAST_RETRIES)
    await add_leads(bot.store, 1)
    for _ in range(5):
        bot.api.fail_next("sendMessage", "retry_after", retry_after=1)
    await passes(bot, 5)
    [item] = await bot.store.outbox()
    assert (item.status, item.attempts, item.last_error) == ("pending", 5, "RetryAfter")
    assert await bot.deliver(utcnow() + timedelta(minutes=10)) == 1
    [item] = await bot.store.outbox()
    assert item.status == "sent"


async def test_delivery_health_and_retry_stuck(make_bot: Any) -> None:
    bot: Harness = await make_bot(FAST_RETRIES)
    first, second, third = await add_leads(bot.store, 3)
    bot.api.on_call = staff_chat_down
    await passes(bot, 3)
    bot.api.on_call = None
    await add_leads(bot.store, 1, first_user=20_000)  # waits, never tried
    later = utcnow() + timedelta(minutes=10)
    health = await bot.store.delivery_health(later)
    assert (health.pending, health.stuck) == (1, 3)
    assert health.stuck_reasons == {"NetworkError": 3}
    assert [(i.lead_id, i.kind, i.attempts) for i in health.stuck_items] == [
        (first, "post", 3),
        (second, "post", 3),
        (third, "post", 3),
    ]
    assert health.oldest_pending_age is not None
    assert timedelta(minutes=9) < health.oldest_pending_age < timedelta(minutes=11)

    one = health.stuck_items[0].id
    assert await bot.store.retry_stuck(one) == 1
    assert await bot.store.retry_stuck(one) == 0  # pending now, not stuck
    assert await bot.deliver(later) == 2  # that one and the one that waited
    assert await bot.store.retry_stuck(None) == 2
    assert await bot.deliver(later) == 2
    assert await bot.store.retry_stuck(None) == 0
    assert sorted(posted_lead_ids(bot)) == sorted([first, second, third, third + 1])
    health = await bot.store.delivery_health(later)
    assert (health.pending, health.stuck, health.oldest_pending_age) == (0, 0, None)


async def _retry(bot: Harness, user: LocalUser, text: str) -> str:
    """Send a /retry command in the staff chat, through the Application; the reply."""
    await bot.send(user, text, chat_id=STAFF_CHAT)
    return bot.last_text(STAFF_CHAT)


@pytest.mark.parametrize("lang", ["en", "ar"])
async def test_retry_command_requeues_and_the_stats_block_shows_what_is_stuck(
    make_bot: Any, staff_user: LocalUser, lang: str
) -> None:
    bot: Harness = await make_bot({**FAST_RETRIES, "telegram": {"staff_language": lang}})
    await add_leads(bot.store, 2)
    bot.api.on_call = staff_chat_down
    await passes(bot, 3)
    bot.api.on_call = None
    first, second = (i.id for i in await bot.store.outbox())

    await bot.send(staff_user, "/stats", chat_id=STAFF_CHAT)
    health = await bot.store.delivery_health(bot.services.clock())
    block = TEXTS.render("staff/delivery", lang, health=health)  # type: ignore[arg-type]
    bans = TEXTS.render("staff/relay/bans", lang, bans=[])  # type: ignore[arg-type]
    assert bot.last_text(STAFF_CHAT).endswith(f"{block}\n\n{bans}")
    assert "NetworkError" in block and str(first) in block and str(second) in block

    assert await _retry(bot, staff_user, "/retry oops") == TEXTS.render("staff/retry_usage", lang)  # type: ignore[arg-type]
    assert await _retry(bot, staff_user, f"/retry #{first}") == TEXTS.render(
        "staff/retried",
        lang,  # type: ignore[arg-type]
        count=1,
        item_id=first,
    )
    assert bot.app.job_queue is not None
    assert bot.app.job_queue.get_jobs_by_name("delivery_kick")  # delivered right away
    assert await _retry(bot, staff_user, f"/retry {first}") == TEXTS.render(
        "staff/retried",
        lang,  # type: ignore[arg-type]
        count=0,
        item_id=first,
    )
    assert await _retry(bot, staff_user, "/retry") == TEXTS.render(
        "staff/retried",
        lang,  # type: ignore[arg-type]
        count=1,
        item_id=None,
    )
    assert await _retry(bot, staff_user, "/retry") == TEXTS.render(
        "staff/retried",
        lang,  # type: ignore[arg-type]
        count=0,
        item_id=None,
    )
    assert {i.status for i in await bot.store.outbox()} == {"pending"}
    assert await bot.deliver() == 2


async def test_an_unexpected_error_neither_stops_the_pass_nor_keeps_the_row_leased(
    bot: Harness,
) -> None:
    from bot.db.outbox_queries import withdrawal

    async with bot.store.session.begin() as session:  # a row the code cannot handle
        session.add(withdrawal(STAFF_CHAT, 1, 1, note="no-such-template"))
    [lead_id] = await add_leads(bot.store, 1)
    assert await bot.deliver() == 1
    assert list(posted_lead_ids(bot)) == [lead_id]
    broken, posted = await bot.store.outbox()
    assert (broken.status, broken.lease_token, broken.last_error) == (
        "pending",
        None,
        "TemplateNotFound",
    )
    assert posted.status == "sent"
