"""The inbox under faults: a slow update keeps its lease, outages and Telegram's "retry
after" postpone an update (never drop it, never act on half of it, never apply a form
answer twice), unexpected errors do not end the claim loop, and stopping takes nothing
new. Found by an audit; each test failed on the code before."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.app import build_application, build_services
from bot.db.models import InboxUpdate, utcnow
from bot.inbox import InboxWorkers
from bot.local_api import LOCAL_TOKEN, LocalBotApi, LocalUser
from bot.outbox import delivery_job
from bot.web import SECRET_HEADER, build_web_app
from tests.conftest import Harness, MakeBot, _config
from tests.test_inbox import LEASE, SECRET, store, text_update

Q = "what is expert secondment?"


def pool(bot: Harness) -> InboxWorkers:
    return InboxWorkers(bot.app, bot.store, bot.services.config.serving)


async def due_now(bot: Harness) -> None:
    async with bot.store.session.begin() as session:
        await session.execute(update(InboxUpdate).values(next_attempt_at=InboxUpdate.received_at))


async def handle_next(bot: Harness, workers: InboxWorkers) -> str:
    [claim] = await bot.store.claim_updates(LEASE, 1)
    return await workers.handle(claim)


async def run_until_empty(bot: Harness, workers: InboxWorkers, settle: float = 0) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(workers.run(stop))
    try:
        async with asyncio.timeout(15):
            while (await bot.store.inbox_lag()).pending:
                assert not running.done(), f"claim loop ended: {running.exception()!r}"
                await asyncio.sleep(0.05)
        await asyncio.sleep(settle)
    finally:
        stop.set()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_slow_update_keeps_its_lease_and_its_users_order(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"serving": {"lease_seconds": 1.0, "concurrency": 2}})
    first = asyncio.Event()

    async def before_call(call: Any) -> None:
        if call.method == "sendMessage" and not first.is_set():
            first.set()
            await asyncio.sleep(2.5)  # one slow reply (a 429 waited out) outlives the lease

    bot.api.before_call = before_call
    await store(
        bot,
        text_update(61, english_user, Q),
        text_update(62, english_user, "what is information sharing?"),
    )
    await run_until_empty(bot, pool(bot), settle=3)
    texts = [t.split("\n")[0] for t in bot.texts(english_user.id)]
    assert texts == ["<b>Expert secondment</b>", "<b>Information sharing</b>"], texts


async def test_postponements_through_an_outage_do_not_use_up_attempts(
    bot: Harness, english_user: LocalUser
) -> None:
    await store(bot, text_update(40, english_user, Q))
    workers = pool(bot)
    for _ in range(bot.services.config.serving.max_attempts):  # ~62 s of outage
        bot.api.fail_next("sendMessage", "network")
        assert await handle_next(bot, workers) == "postponed"
        await due_now(bot)
    assert await handle_next(bot, workers) == "handled"  # before: "given_up", dropped


async def test_a_form_answer_handled_again_is_applied_once(
    bot: Harness, english_user: LocalUser
) -> None:
    for step in ("/apply", "Acme Security"):
        await bot.send(english_user, step)
    await bot.press(english_user, "form:sector:cybersecurity")
    await bot.send(english_user, "Jordan")
    workers = pool(bot)
    await store(bot, text_update(50, english_user, "Sam Smith"))  # answers "name"
    bot.api.fail_next("sendMessage", "network")  # the "role" prompt is not sent
    assert await handle_next(bot, workers) == "postponed"
    await due_now(bot)
    assert await handle_next(bot, workers) == "handled"
    row = await bot.store.load_form(english_user.id)
    assert row is not None and row.state["data"].get("role") is None, row.state["data"]


async def test_an_outage_in_an_early_handler_group_stops_the_update(
    bot: Harness, english_user: LocalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, blips = bot.services.limiter.check, [OperationalError("x", {}, ConnectionResetError())]

    async def check(user_id: int) -> Any:
        if blips:
            raise blips.pop()  # the database-backed limit blips once
        return await real(user_id)

    monkeypatch.setattr(bot.services.limiter, "check", check)
    await store(bot, text_update(97, english_user, Q))
    workers = pool(bot)
    assert await handle_next(bot, workers) == "postponed"
    await due_now(bot)
    assert await handle_next(bot, workers) == "handled"
    assert len(bot.texts(english_user.id)) == 1  # before: answered twice


async def test_an_unexpected_claim_error_does_not_end_the_claim_loop(
    bot: Harness, english_user: LocalUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, errors = bot.store.claim_updates, [ProgrammingError("x", None, Exception("deadlock"))]

    async def claim_updates(*args: Any) -> Any:
        if errors:
            raise errors.pop()
        return await real(*args)

    monkeypatch.setattr(bot.store, "claim_updates", claim_updates)
    await store(bot, text_update(70, english_user, Q))
    await run_until_empty(bot, pool(bot))


async def test_a_database_outage_is_logged_once_by_the_delivery_passes(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def down(*args: object, **kwargs: object) -> None:
        raise OperationalError("x", {}, ConnectionRefusedError())

    monkeypatch.setattr(bot.store, "claim_due", down)
    assert bot.app.job_queue is not None
    job = bot.app.job_queue.run_repeating(delivery_job, interval=5, first=3600)
    for _ in range(12):  # one minute at delivery.poll_seconds=5
        await job.run(bot.app)
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) <= 1


async def test_a_429_outlasting_the_flood_limiter_postpones_the_update(
    database_url: str, english_user: LocalUser
) -> None:
    config = _config(database_url, None)
    services, api = build_services(config), LocalBotApi()
    app = build_application(config, services=services, request=api, token=LOCAL_TOKEN, serving=True)
    await app.initialize()
    try:
        bot = Harness(app, api, services)
        await store(bot, text_update(80, english_user, Q))
        for _ in range(6):  # AIORateLimiter: the call and its 5 retries
            api.fail_next("sendMessage", "retry_after", retry_after=1)
        assert await handle_next(bot, pool(bot)) == "postponed"  # before: an apology, "handled"
    finally:
        await app.shutdown()


async def test_with_redis_down_a_message_is_answered_without_apology(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot(
        {"bot": {"rate_limit_store": "redis", "redis_url": "redis://127.0.0.1:1/0"}}
    )
    await store(bot, text_update(95, english_user, Q))
    await handle_next(bot, pool(bot))
    assert not any("went wrong" in t for t in bot.texts(english_user.id))


async def test_a_non_ascii_secret_header_gets_403(bot: Harness) -> None:
    web = build_web_app(
        bot.services.config, bot.store, bot.services.kb, pool(bot), webhook_secret=SECRET
    )
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        answer = await client.post("/telegram", content=b"{}", headers={SECRET_HEADER: b"s\xe9"})
    assert answer.status_code == 403  # before: 500 (compare_digest TypeError)


async def test_no_new_claims_after_stop(make_bot: MakeBot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot: Harness = await make_bot({"serving": {"concurrency": 1}})
    workers, release, taken = pool(bot), asyncio.Event(), []

    async def handle(claim: Any) -> str:
        taken.append(claim.update_id)
        await release.wait()
        return "handled"

    monkeypatch.setattr(workers, "handle", handle)
    await store(bot, *(text_update(90 + n, LocalUser(id=7000 + n), "hi") for n in range(4)))
    stop = asyncio.Event()
    running = asyncio.create_task(workers.run(stop))
    while not taken:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    stop.set()  # SIGTERM with 2 in hand
    release.set()
    await asyncio.wait_for(running, 10)
    assert sorted(taken) == [90, 91]  # before: [90, 91, 92, 93]


async def test_a_postponed_update_still_notes_its_language_when_handled_again(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await store(bot, text_update(41, arabic_user, "ما هو تبادل المعلومات؟"))
    workers = pool(bot)
    bot.api.fail_next("sendMessage", "network")  # the answer is not sent: postponed
    assert await handle_next(bot, workers) == "postponed"
    await due_now(bot)
    assert await handle_next(bot, workers) == "handled"
    profile = await bot.store.profile(arabic_user.id)
    assert profile is not None and profile.written_language == "ar"


async def test_postponements_count_once_the_update_is_older_than_the_patience(
    bot: Harness, english_user: LocalUser
) -> None:
    """An update that fails like an outage every time is given up, not retried forever."""
    await store(bot, text_update(42, english_user, Q))
    async with bot.store.session.begin() as session:  # it arrived two hours ago
        await session.execute(update(InboxUpdate).values(received_at=utcnow() - timedelta(hours=2)))
    workers = pool(bot)
    outcomes = []
    for _ in range(bot.services.config.serving.max_attempts + 1):
        bot.api.fail_next("sendMessage", "network")
        outcomes.append(await handle_next(bot, workers))
        await due_now(bot)
    assert outcomes[-1] == "given_up" and set(outcomes[:-1]) == {"postponed"}


async def test_a_stopping_worker_keeps_renewing_the_leases_it_drains(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    """Stopped while a slow update is handled: the update stays its own until finished,
    so a second worker does not take it again."""
    settings = {"serving": {"lease_seconds": 1.0, "concurrency": 1}}
    bot: Harness = await make_bot(settings)
    second: Harness = await make_bot(settings)
    sending = asyncio.Event()

    async def slow_send(call: Any) -> None:
        if call.method == "sendMessage":
            sending.set()
            await asyncio.sleep(2.5)  # outlives the lease twice over

    bot.api.before_call = slow_send
    await store(bot, text_update(63, english_user, Q))
    stop = asyncio.Event()
    first = asyncio.create_task(pool(bot).run(stop))
    await asyncio.wait_for(sending.wait(), 10)
    stop.set()  # SIGTERM: the worker drains what it holds
    await run_until_empty(second, pool(second), settle=0.5)
    await asyncio.wait_for(first, 10)
    assert len(bot.texts(english_user.id)) == 1
    assert second.texts(english_user.id) == []  # never handled a second time


async def test_a_task_started_while_an_update_is_handled_writes_at_once(bot: Harness) -> None:
    """A task started during the update (a scheduler's timer, say) outlives its handling and
    inherits its context: its writes must not go to a collector nobody will write."""

    async def a_moment_later() -> None:
        await asyncio.sleep(0.05)
        await bot.store.note_written_language(88, "ar")

    with bot.store.deferring():
        task = asyncio.create_task(a_moment_later())
    await task
    profile = await bot.store.profile(88)
    assert profile is not None and profile.written_language == "ar"
