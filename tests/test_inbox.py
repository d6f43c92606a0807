"""The durable inbox: stored once, one user's updates in order and never at once, taken
again after a lost lease, postponed (not apologised for) through a database outage; and
the webhook endpoint that fills it."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from bot.db.inbox_queries import InboxClaim
from bot.db.models import InboxUpdate, UnansweredQuestion
from bot.inbox import InboxWorkers, routing
from bot.local_api import LocalUser
from bot.web import SECRET_HEADER, build_web_app
from tests.conftest import Harness

LEASE = timedelta(seconds=60)
SECRET = "s3cret-token"


def text_update(update_id: int, user: LocalUser, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": user.as_dict(),
            "text": text,
        },
    }


async def store(bot: Harness, *updates: dict[str, Any]) -> list[bool]:
    out = []
    for data in updates:
        key, kind = routing(data)
        out.append(await bot.store.store_update(data["update_id"], key, kind, data))
    return out


async def test_an_update_is_stored_once(bot: Harness, english_user: LocalUser) -> None:
    data = text_update(1, english_user, "hello")
    assert await store(bot, data, data) == [True, False]


async def test_one_users_updates_are_leased_one_at_a_time_in_order(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    await store(
        bot,
        text_update(1, english_user, "a"),
        text_update(2, english_user, "b"),
        text_update(3, arabic_user, "c"),
    )
    first = await bot.store.claim_updates(LEASE, 10)
    assert [c.update_id for c in first] == [1, 3]  # one per user, oldest first
    assert await bot.store.claim_updates(LEASE, 10) == []  # 2 waits for 1
    [one] = [c for c in first if c.update_id == 1]
    assert await bot.store.finish_update(one)
    [second] = await bot.store.claim_updates(LEASE, 10)
    assert second.update_id == 2


async def test_concurrent_claimers_never_share_a_user(
    make_bot: Any, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    users = [LocalUser(id=1000 + i) for i in range(20)]
    await store(
        a, *(text_update(10 * i + n, u, "x") for i, u in enumerate(users) for n in range(3))
    )
    claimed: list[int] = []

    async def drain(bot: Harness) -> None:
        while True:
            claims = await bot.store.claim_updates(LEASE, 4)
            if not claims:
                if not await bot.store.claim_updates(LEASE, 0):
                    lag = await bot.store.inbox_lag()
                    if lag.pending == 0:
                        return
                await asyncio.sleep(0.01)
                continue
            for claim in claims:
                user = claim.payload["message"]["from"]["id"]
                assert user not in active, "two workers on one user at once"
                active.add(user)
                claimed.append(claim.update_id)
                await asyncio.sleep(0.001)
                active.discard(user)
                assert await bot.store.finish_update(claim)

    active: set[int] = set()
    await asyncio.wait_for(asyncio.gather(drain(a), drain(b)), 60)
    assert sorted(claimed) == sorted(10 * i + n for i in range(20) for n in range(3))
    for i in range(20):  # each user's updates in order
        mine = [u for u in claimed if u // 10 == i]
        assert mine == sorted(mine)


async def test_a_lost_lease_is_taken_again_and_the_first_worker_writes_nothing(
    bot: Harness, english_user: LocalUser
) -> None:
    await store(bot, text_update(1, english_user, "hello"))
    [first] = await bot.store.claim_updates(LEASE, 1)
    async with bot.store.session.begin() as session:  # the lease lapses (a killed worker)
        await session.execute(update(InboxUpdate).values(locked_until=None))
    [second] = await bot.store.claim_updates(LEASE, 1)
    assert (second.update_id, second.attempts) == (1, 2)
    assert not await bot.store.finish_update(first)
    assert await bot.store.finish_update(second)


async def test_one_update_and_a_batch_are_stored_and_finished_alike(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    """A lone update takes the driver's single-row statement, a batch the same statement
    once per update in one round trip: the same rows either way, repeats and stale leases
    included."""
    one = text_update(1, english_user, "hello")
    batch = [text_update(2, arabic_user, "مرحبا"), text_update(3, english_user, "again")]
    assert await bot.store.store_updates([(1, *routing(one), one)]) == {1}
    assert await bot.store.store_updates([(1, *routing(one), one)]) == set()
    rows = [(u["update_id"], *routing(u), u) for u in batch]
    assert await bot.store.store_updates(rows) == {2, 3}
    assert await bot.store.store_updates(rows) == set()
    claims = {c.update_id: c for c in await bot.store.claim_updates(LEASE, 10)}
    assert sorted(claims) == [1, 2]  # 3 waits for 1, its user's older update
    assert claims[2].payload["message"]["text"] == "مرحبا"
    stale = InboxClaim(1, {}, 1, "not-the-lease")
    assert await bot.store.finish_updates([(stale, "done")]) == 0
    assert await bot.store.finish_updates([(stale, "done"), (claims[2], "failed")]) == 1
    assert await bot.store.finish_updates([(claims[1], "done")]) == 1
    [third] = await bot.store.claim_updates(LEASE, 10)
    assert await bot.store.finish_updates([(third, "done")]) == 1
    async with bot.store.session() as session:
        got = {
            row.update_id: (row.status, row.payload, row.lease_token, row.done_at is not None)
            for row in (await session.execute(select(InboxUpdate))).scalars()
        }
    assert got == {
        1: ("done", None, None, True),
        2: ("failed", None, None, True),
        3: ("done", None, None, True),
    }
    # As stored, not as the ORM reads it back: the text dropped as SQL NULL (not JSON
    # 'null'), and times written in one format by both paths (SQLite compares them as text).
    async with bot.store.engine.connect() as connection:
        raw = (
            await connection.execute(
                text(
                    "SELECT update_id, payload IS NULL, CAST(received_at AS TEXT),"
                    " CAST(done_at AS TEXT) FROM inbox ORDER BY update_id"
                )
            )
        ).all()
    assert [(n, bool(dropped)) for n, dropped, _, _ in raw] == [(1, True), (2, True), (3, True)]
    if bot.store.engine.dialect.name == "sqlite":  # PostgreSQL compares timestamps
        shapes = {re.sub(r"\d", "9", t) for _, _, got_at, done_at in raw for t in (got_at, done_at)}
        assert shapes == {"9999-99-99 99:99:99.999999"}


async def test_a_worker_handles_an_update_and_drops_its_text(
    bot: Harness, english_user: LocalUser
) -> None:
    await store(bot, text_update(7, english_user, "what is expert secondment?"))
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    [claim] = await bot.store.claim_updates(LEASE, 1)
    assert await workers.handle(claim) == "handled"
    assert "secondment" in bot.last_text(english_user.id).lower()
    async with bot.store.session() as session:
        row = await session.get(InboxUpdate, 7)
    assert row is not None and (row.status, row.payload) == ("done", None)


async def test_a_database_outage_postpones_the_update_without_an_apology(
    bot: Harness,
    english_user: LocalUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await store(bot, text_update(8, english_user, "price of solana today"))
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    real = bot.store.record_unanswered

    async def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database down"))

    monkeypatch.setattr(bot.store, "record_unanswered", down)
    [claim] = await bot.store.claim_updates(LEASE, 1)
    assert await workers.handle(claim) == "postponed"
    assert bot.texts(english_user.id) == []  # no apology, no half answer
    assert "Traceback" not in caplog.text
    monkeypatch.setattr(bot.store, "record_unanswered", real)
    async with bot.store.session.begin() as session:  # the postponement is over
        await session.execute(update(InboxUpdate).values(next_attempt_at=InboxUpdate.received_at))
    [again] = await bot.store.claim_updates(LEASE, 1)
    assert await workers.handle(again) == "handled"
    assert len(bot.texts(english_user.id)) == 1  # one reply for one message


def _client(bot: Harness, secret: str | None = SECRET) -> httpx.AsyncClient:
    """The web app in this event loop (the database pool belongs to it)."""
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    web = build_web_app(
        bot.services.config, bot.store, bot.services.kb, workers, webhook_secret=secret
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://bot")


async def test_webhook_refuses_a_wrong_secret_and_stores_nothing(
    bot: Harness, english_user: LocalUser
) -> None:
    data = text_update(20, english_user, "hello")
    async with _client(bot) as client:
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            assert (await client.post("/telegram", json=data, headers=headers)).status_code == 403
        assert (await bot.store.inbox_lag()).pending == 0
        ok = await client.post("/telegram", json=data, headers={SECRET_HEADER: SECRET})
        again = await client.post("/telegram", json=data, headers={SECRET_HEADER: SECRET})
        assert (ok.status_code, again.status_code) == (200, 200)
    assert (await bot.store.inbox_lag()).pending == 1  # Telegram's re-delivery stored once


async def test_webhook_requests_arriving_together_are_all_stored_once(
    bot: Harness, english_user: LocalUser
) -> None:
    """As Telegram opens many connections: concurrent POSTs share one INSERT, none lost."""
    users = [LocalUser(id=5000 + n, first_name=f"P{n}") for n in range(30)]
    updates = [text_update(100 + n, user, "hello") for n, user in enumerate(users)]
    headers = {SECRET_HEADER: SECRET}
    async with _client(bot) as client:
        first = await client.post("/telegram", json=updates[0], headers=headers)
        answers = await asyncio.gather(
            *(client.post("/telegram", json=data, headers=headers) for data in updates)
        )
    assert first.status_code == 200
    assert [a.status_code for a in answers] == [200] * 30
    assert (await bot.store.inbox_lag()).pending == 30  # the repeat of the first stored once
    claims = await bot.store.claim_updates(LEASE, 100)
    assert sorted(c.update_id for c in claims) == [100 + n for n in range(30)]


async def test_health_readiness_and_metrics(bot: Harness) -> None:
    async with _client(bot, secret=None) as client:
        assert (await client.get("/healthz")).text == "ok"
        assert (await client.get("/readyz")).json() == {"ready": True}
        body = (await client.get("/metrics")).text
        assert "partnerbot_inbox_pending 0.0" in body and "partnerbot_outbox_stuck" in body
        no_route = await client.post("/telegram", json={})
        assert no_route.status_code in (404, 405)  # polling mode: no webhook route


async def test_a_users_next_update_is_taken_as_soon_as_the_previous_is_finished(
    bot: Harness, english_user: LocalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second message arrives while the first is handled, so the claim made for it
    passes it over; finishing the first must wake the claimer (not its idle timer)."""
    monkeypatch.setattr("bot.inbox.IDLE_WAIT", 3600.0)
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    first_running, release_first = asyncio.Event(), asyncio.Event()
    real_handle = workers.handle

    async def handle(claim: Any) -> str:
        if claim.update_id == 31:
            first_running.set()
            await release_first.wait()
        return await real_handle(claim)

    monkeypatch.setattr(workers, "handle", handle)
    stop = asyncio.Event()
    await store(bot, text_update(31, english_user, "what is expert secondment?"))
    running = asyncio.create_task(workers.run(stop))
    workers.wake()
    await asyncio.wait_for(first_running.wait(), 10)
    await store(bot, text_update(32, english_user, "what is information sharing?"))
    workers.wake()  # as the webhook does: the claim finds 32 held up by 31
    await asyncio.sleep(0.2)
    release_first.set()
    try:
        async with asyncio.timeout(10):  # without the wake: the 3600 s idle timer
            while (await bot.store.inbox_lag()).pending:  # noqa: ASYNC110 (a database row)
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        workers.wake()
        await asyncio.wait_for(running, 10)
    texts = bot.texts(english_user.id)
    assert "secondment" in texts[0].lower() and "sharing" in texts[1].lower()


async def _unanswered(bot: Harness) -> list[tuple[int | None, str]]:
    async with bot.store.session() as session:
        rows = await session.execute(select(UnansweredQuestion.user_id, UnansweredQuestion.text))
    return [(user_id, text) for user_id, text in rows]


async def test_an_updates_language_and_unanswered_question_are_kept_once_handled(
    bot: Harness, arabic_user: LocalUser
) -> None:
    """On PostgreSQL they wait for the update's finish mark and are written with it."""
    await store(bot, text_update(11, arabic_user, "كم سعر الذهب اليوم"))
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    [claim] = await bot.store.claim_updates(LEASE, 1)
    assert await workers.handle(claim) == "handled"
    assert await _unanswered(bot) == [(arabic_user.id, "كم سعر الذهب اليوم")]
    profile = await bot.store.profile(arabic_user.id)
    assert profile is not None and profile.written_language == "ar"


async def test_an_update_handled_twice_records_its_unanswered_question_once(
    bot: Harness, english_user: LocalUser
) -> None:
    """The first worker lost its lease while handling: only the finish that holds the
    lease writes what the handling deferred."""
    if bot.store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writes at once: at least once, as the update is handled")
    await store(bot, text_update(12, english_user, "price of gold today"))
    workers = InboxWorkers(bot.app, bot.store, bot.services.config.serving)
    [first] = await bot.store.claim_updates(LEASE, 1)
    async with bot.store.session.begin() as session:  # the lease lapses (a frozen worker)
        await session.execute(update(InboxUpdate).values(locked_until=None))
    [second] = await bot.store.claim_updates(LEASE, 1)
    assert await workers.handle(first) == "handled"  # its finish matches nothing
    assert await _unanswered(bot) == []
    assert await workers.handle(second) == "handled"
    assert await _unanswered(bot) == [(english_user.id, "price of gold today")]


async def test_a_language_noted_in_an_update_is_read_back_before_it_is_written(
    bot: Harness,
) -> None:
    store = bot.store
    with store.deferring() as writes:
        await store.note_written_language(77, "ar")
        assert (await store.user_state(77)).written_language == "ar"
    if writes is not None:  # PostgreSQL: written with the finish mark, not yet
        assert await store.profile(77) is None
