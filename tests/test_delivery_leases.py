"""Outbox leases: a token and an expiry from the database clock; two workers never post twice."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.config import ConfigError, load_config
from bot.db.models import Lead, OutboxItem, utcnow
from bot.db.outbox_queries import Outcome
from bot.db.store import Store
from bot.local_api import ApiCall, buttons
from tests.conftest import STAFF_CHAT, Harness

LEASE = timedelta(seconds=30)
# A lease of one second, so sends can outlast it in a test that runs in seconds.
SHORT_LEASE: dict[str, Any] = {
    "delivery": {
        "lease_seconds": 1,
        "request_timeout_seconds": 0.4,
        "backoff_base_seconds": 0.05,
        "backoff_max_seconds": 0.2,
    }
}


async def add_leads(store: Store, count: int, first_user: int = 10_000) -> list[int]:
    """``count`` qualified leads with their outbox rows, written directly (fast)."""
    now = utcnow()
    async with store.session.begin() as session:
        leads = [
            Lead(
                user_id=first_user + i,
                language="en",
                organisation=f"Org {i}",
                sector="it",
                country="Jordan",
                name=f"Person {i}",
                role="CISO",
                email=f"person{i}@org{i}.example",
                interests=[],
                consent_at=now,
                score=100,
                qualified=True,
                reasons=[],
                status="new",
                history=[],
            )
            for i in range(count)
        ]
        session.add_all(leads)
        await session.flush()
        session.add_all(OutboxItem(lead_id=lead.id, kind="post") for lead in leads)
    return [lead.id for lead in leads]


def is_staff_post(call: ApiCall) -> bool:
    return call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT


def posted_lead_ids(*harnesses: Harness) -> Counter[int]:
    """How often each lead was posted to the staff chat, read from its buttons."""
    posted: Counter[int] = Counter()
    for harness in harnesses:
        for call in harness.api.calls:
            if is_staff_post(call):
                data = buttons({"reply_markup": call.params["reply_markup"]})[0][0][1]
                posted[int(data.rsplit(":", 1)[1])] += 1
    return posted


def slow_staff_posts(
    seconds: float, stall: float = 0.0, every: int = 0
) -> Callable[[ApiCall], Awaitable[None]]:
    """A Bot API whose staff posts take ``seconds``, and every ``every``-th one ``stall``."""
    count = itertools.count(1)

    async def before_call(call: ApiCall) -> None:
        if is_staff_post(call):
            n = next(count)
            await asyncio.sleep(stall if every and n % every == 0 else seconds)

    return before_call


# 1. The lease itself -------------------------------------------------------------------


async def test_claim_leases_with_a_token_and_the_database_clock(bot: Harness) -> None:
    [lead_id] = await add_leads(bot.store, 1)
    # ``now`` only decides what is due: two hours ahead, everything is.
    later = utcnow() + timedelta(hours=2)
    [claim] = await bot.store.claim_due(later, LEASE)
    assert claim.lead is not None and claim.lead.id == lead_id
    assert len(claim.token) == 32 and int(claim.token, 16) >= 0
    [item] = await bot.store.outbox()
    assert item.lease_token == claim.token
    # The expiry comes from the database clock, not from ``now``.
    assert item.locked_until is not None
    assert abs(item.locked_until - (utcnow() + LEASE)) < timedelta(seconds=5)
    # Held: another claim, however late its ``now``, takes nothing.
    assert await bot.store.claim_due(later + timedelta(days=1), LEASE) == []
    # Lapsed (by the database clock): another worker may take it, with a new token.
    async with bot.store.session.begin() as session:
        await session.execute(
            update(OutboxItem).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    [again] = await bot.store.claim_due(later, LEASE)
    assert again.token != claim.token


async def test_a_worker_that_lost_its_lease_overwrites_nothing(bot: Harness) -> None:
    await add_leads(bot.store, 1)
    now = utcnow()
    [first] = await bot.store.claim_due(now, LEASE)
    async with bot.store.session.begin() as session:  # the first worker stalled past its lease
        await session.execute(
            update(OutboxItem).values(locked_until=utcnow() - timedelta(seconds=1))
        )
    [second] = await bot.store.claim_due(now, LEASE)
    item_id = first.item.id
    assert await bot.store.renew_lease(item_id, first.token, LEASE) is None
    assert await bot.store.mark_sent(item_id, first.token, STAFF_CHAT, 777) == Outcome.LOST
    assert await bot.store.mark_retry(item_id, first.token, "x", now) == Outcome.LOST
    assert await bot.store.mark_stuck(item_id, first.token, "x") == Outcome.LOST
    [item] = await bot.store.outbox()
    assert (item.status, item.lease_token, item.last_error) == ("pending", second.token, None)
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is None
    assert await bot.store.mark_sent(item_id, second.token, STAFF_CHAT, 778) == Outcome.DONE
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id == 778


async def test_lease_must_outlive_the_request_timeout() -> None:
    with pytest.raises(ConfigError, match=r"delivery\.lease_seconds: .*request_timeout_seconds"):
        load_config(data={"delivery": {"lease_seconds": 15, "request_timeout_seconds": 10}}, env={})
    config = load_config(data={"delivery": {"lease_seconds": 20, "request_timeout_seconds": 10}})
    assert config.delivery.lease_seconds == 20


# 2. Slow sends ------------------------------------------------------------------------


async def test_item_taken_over_while_waiting_in_a_batch_is_skipped(make_bot: Any) -> None:
    """The renewal right before a send fails if another worker took the row: no second post."""
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    _, second_id = await add_leads(a.store, 2)
    taken: list[str] = []

    async def meanwhile(call: ApiCall) -> None:
        # While A posts the first lead, its lease on the second lapses and B claims it.
        if is_staff_post(call) and not taken:
            async with b.store.session.begin() as session:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.lead_id == second_id)
                    .values(locked_until=utcnow() - timedelta(seconds=1))
                )
            [claim] = await b.store.claim_due(utcnow(), LEASE)
            taken.append(claim.token)

    a.api.before_call = meanwhile
    assert await a.deliver() == 1
    assert list(posted_lead_ids(a)) == [second_id - 1]
    [_, item] = await a.store.outbox()
    assert (item.status, item.lease_token, item.attempts) == ("pending", taken[0], 0)


async def test_a_send_slower_than_the_lease_is_cut_off_not_doubled(make_bot: Any) -> None:
    """Old bug: A's lease lapsed during a slow send, B posted the lead too, then A did."""
    a: Harness = await make_bot(SHORT_LEASE)
    b: Harness = await make_bot(SHORT_LEASE)
    [lead_id] = await add_leads(a.store, 1)
    a.api.before_call = slow_staff_posts(seconds=1.5)  # longer than the 1 s lease

    async def b_keeps_trying() -> None:
        for _ in range(40):
            if await b.deliver():
                return
            await asyncio.sleep(0.05)

    await asyncio.gather(a.deliver(), b_keeps_trying())
    # A gave up within its lease (request_timeout_seconds), before Telegram had it.
    assert posted_lead_ids(a, b) == {lead_id: 1}
    assert [c for c in a.api.calls if is_staff_post(c)] == []
    [item] = await a.store.outbox()
    assert (item.status, item.attempts) == ("sent", 2)


# 3. Two workers at once, for real -------------------------------------------------------


async def _deliver_until_done(harness: Harness, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await harness.deliver() == 0:
            async with harness.store.session() as session:
                left = await session.scalar(select(func.count()).where(OutboxItem.status != "sent"))
            if left == 0:
                return
            await asyncio.sleep(0.02)


async def test_two_workers_overlapping_post_each_lead_exactly_once(
    make_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two bot instances on one database deliver at once; batches outlast the 1 s lease."""
    # Different batch sizes keep the workers out of step, so one claims while the other
    # is still working through a batch whose later leases have lapsed.
    a: Harness = await make_bot({"delivery": {**SHORT_LEASE["delivery"], "batch_size": 40}})
    b: Harness = await make_bot({"delivery": {**SHORT_LEASE["delivery"], "batch_size": 7}})
    lead_ids = await add_leads(a.store, 240)
    # 40 posts at 0.05 s outlast the lease. Every 30th post of A's stalls far past it
    # (and is cut off by request_timeout_seconds) while B keeps going.
    a.api.before_call = slow_staff_posts(seconds=0.05, stall=2.5, every=30)
    b.api.before_call = slow_staff_posts(seconds=0.05)
    caplog.set_level(logging.INFO, logger="bot.outbox")
    await asyncio.gather(_deliver_until_done(a, 25), _deliver_until_done(b, 25))

    assert posted_lead_ids(a, b) == dict.fromkeys(lead_ids, 1)
    assert all(posted_lead_ids(h) for h in (a, b))  # both really worked
    assert {i.status for i in await a.store.outbox()} == {"sent"}
    assert all(lead.staff_message_id for lead in await a.store.all_leads())
    # The race this guards against did happen: leases lapsed and rows changed hands.
    assert any("taken over by another worker" in r.getMessage() for r in caplog.records)
