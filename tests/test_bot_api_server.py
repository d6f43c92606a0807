"""The HTTP Bot API stand-in, exercised through a real python-telegram-bot ``Bot``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.bot_api_server import BotApiServer, Call, serve_in_thread


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as running:
        yield running
    assert not running._tasks  # no background loop outlives stop()


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with Bot(server.token, base_url=server.base_url) as client:
        yield client


def called(method: str, count: int = 1) -> Any:
    """A wait_for predicate: ``method`` was received at least ``count`` times."""
    return lambda calls: sum(c.method == method for c in calls) >= count


async def test_long_poll_returns_an_update_that_arrives_while_it_waits(
    server: BotApiServer, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(called("getUpdates"))
    await asyncio.sleep(0.1)
    assert not poll.done()  # held open: nothing to return yet
    sent = server.user_text(55, "hello", language_code="ar", username="lina")
    [update] = await asyncio.wait_for(poll, 5)
    assert update.update_id == sent["update_id"]
    assert update.message is not None and update.message.text == "hello"
    assert update.effective_user is not None and update.effective_user.language_code == "ar"
    assert update.effective_chat is not None and update.effective_chat.id == 55
    assert await bot.get_updates(offset=update.update_id + 1) == ()


async def test_offset_acknowledges_and_limit_caps(server: BotApiServer, bot: Bot) -> None:
    first = server.user_text(1, "one")["update_id"]
    second = server.user_command(1, "start", "ref")["update_id"]
    assert second > first
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    [update] = await bot.get_updates(offset=first + 1)
    assert update.update_id == second
    assert update.message is not None and update.message.text == "/start ref"
    assert update.message.entities[0].type == "bot_command"
    assert await bot.get_updates(offset=second + 1) == ()
    assert await bot.get_updates() == ()  # acknowledged updates are gone for good
    offsets = [c.params.get("offset") for c in server.calls if c.method == "getUpdates"]
    assert offsets[-2:] == [str(second + 1), None]


async def test_a_second_poller_ends_the_first_with_conflict(server: BotApiServer) -> None:
    async with (
        Bot(server.token, base_url=server.base_url) as a,
        Bot(server.token, base_url=server.base_url) as b,
    ):
        first = asyncio.create_task(a.get_updates(timeout=10))
        await server.wait_for(called("getUpdates"))
        second = asyncio.create_task(b.get_updates(timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        server.user_text(2, "hi")
        assert len(await asyncio.wait_for(second, 5)) == 1


async def test_set_webhook_makes_get_updates_conflict(server: BotApiServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(called("getUpdates"))
    async with Bot(server.token, base_url=server.base_url) as other:
        assert await other.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    with pytest.raises(Conflict, match="webhook is active"):
        await asyncio.wait_for(poll, 5)  # the poll that was waiting ends too
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


@contextlib.asynccontextmanager
async def _webhook_receiver(
    hook: Callable[[web.Request], Awaitable[web.Response]],
) -> AsyncIterator[str]:
    """A local HTTP server answering POST /hook with ``hook``; yields its URL."""
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


async def test_webhook_posts_with_the_secret_and_retries(server: BotApiServer, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=500 if len(received) == 1 else 200)

    async with _webhook_receiver(hook) as url:
        await bot.set_webhook(url, secret_token="s3cret", allowed_updates=["message"])
        update_id = server.user_text(7, "via webhook")["update_id"]
        await server.wait_for(lambda _: len(received) >= 2)
        assert [secret for secret, _ in received] == ["s3cret", "s3cret"]
        assert [body["update_id"] for _, body in received] == [update_id, update_id]
        assert received[1][1]["message"]["text"] == "via webhook"
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 500"
        server.redeliver_on_success = True
        again = server.user_text(7, "twice")["update_id"]
        await server.wait_for(lambda _: len(received) >= 4)
        assert [body["update_id"] for _, body in received[2:]] == [again, again]
        assert [d.status for d in server.deliveries] == [500, 200, 200, 200]
        assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_webhook_posts_several_at_once_but_one_chat_at_a_time() -> None:
    """As Telegram with max_connections: chats overlap, one chat's updates stay in order."""
    in_flight: list[int] = []
    overlap: list[int] = []
    order: list[tuple[int, str]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.json()
        chat = body["message"]["chat"]["id"]
        assert chat not in in_flight  # never two POSTs of one chat at once
        in_flight.append(chat)
        overlap.append(len(in_flight))
        await asyncio.sleep(0.05)
        in_flight.remove(chat)
        order.append((chat, body["message"]["text"]))
        return web.Response(status=200)

    async with (
        _webhook_receiver(hook) as url,
        BotApiServer(webhook_connections=4) as server,
        Bot(server.token, base_url=server.base_url) as bot,
    ):
        await bot.set_webhook(url)
        for n in range(3):
            for chat in (1, 2, 3, 4, 5, 6):
                server.user_text(chat, f"{chat}-{n}")
        await server.wait_for(lambda _: len(order) >= 18)
        assert (await bot.get_webhook_info()).pending_update_count == 0
    assert max(overlap) == 4  # four connections busy at once, never more
    for chat in (1, 2, 3, 4, 5, 6):
        assert [text for c, text in order if c == chat] == [f"{chat}-{n}" for n in range(3)]


@pytest.mark.parametrize(
    ("kind", "error", "match"),
    [
        ("429", RetryAfter, "Retry in 3"),
        ("500", NetworkError, "Internal Server Error"),
        ("502", NetworkError, "Bad Gateway"),
        ("403", Forbidden, "blocked by the user"),
        ("refuse", NetworkError, "Server disconnected"),
    ],
)
async def test_faults_surface_as_ptb_errors(
    server: BotApiServer, bot: Bot, kind: str, error: type[Exception], match: str
) -> None:
    server.fail("sendMessage", kind, retry_after=3)
    with pytest.raises(error, match=match) as raised:
        await bot.send_message(5, "lost")
    assert not isinstance(raised.value, BadRequest | TimedOut)
    assert server.messages(5) == []
    await bot.send_message(5, "delivered")  # times=1: the next call succeeds
    assert [m.text for m in server.messages(5)] == ["delivered"]


async def test_slow_answer_times_out_after_the_message_was_sent(
    server: BotApiServer, bot: Bot
) -> None:
    server.fail("sendMessage", "slow", delay=0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(5, "accepted", read_timeout=0.1)
    assert [m.text for m in server.messages(5)] == ["accepted"]  # Telegram had accepted it


async def test_faults_can_target_a_chat_and_repeat(server: BotApiServer, bot: Bot) -> None:
    server.fail("*", "500", chat_id=1, times=2)
    await bot.send_message(2, "other chat")
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(1, "x")
    await bot.send_message(1, "third time")
    assert [c.status for c in server.calls if c.method == "sendMessage"] == [200, 500, 500, 200]
    with pytest.raises(ValueError, match="unknown fault"):
        server.fail("sendMessage", "boom")


async def test_down_refuses_connections_until_up(server: BotApiServer, bot: Bot) -> None:
    await bot.get_me()  # leaves a kept-alive connection that down() must drop
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_for(called("getUpdates"))
    await server.down()
    with pytest.raises(NetworkError):
        await asyncio.wait_for(poll, 5)
    with pytest.raises(NetworkError):
        await bot.get_me()
    await server.up()
    assert (await bot.get_me()).username == "partnerbot_test"
    await server.down(0.3)  # back by itself
    with pytest.raises(NetworkError):
        await bot.get_me()
    for _ in range(100):
        try:
            await bot.get_me()
            break
        except NetworkError:
            await asyncio.sleep(0.05)
    else:
        pytest.fail("the server did not come back up")


async def test_max_rate_counts_messages_per_chat_and_overall(
    server: BotApiServer, bot: Bot
) -> None:
    for _ in range(3):
        await bot.send_message(1, "burst")
    await bot.send_message(2, "once")
    server.fail("sendMessage", "429")
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "refused")  # not delivered, not counted
    assert server.max_rate(1, 60) == 3
    assert server.max_rate(2, 60) == 1
    assert server.max_rate(None, 60) == 4
    assert server.max_rate(1, 1e-9) == 1
    assert server.max_rate(3, 60) == 0


async def test_messages_buttons_presses_edits_and_deletes(server: BotApiServer, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="claim:1")]])
    sent = await bot.send_message(-100, "Lead #1", reply_markup=keyboard, message_thread_id=9)
    assert sent.reply_markup == keyboard and sent.message_thread_id == 9
    second = await bot.send_message(-100, "Lead #2")
    assert second.message_id == sent.message_id + 1
    [posted, _] = server.messages(-100)
    assert posted.buttons == [[("Claim", "claim:1")]] and posted.message_thread_id == 9
    server.user_press(900, posted, "claim:1")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "claim:1" and query.from_user.id == 900
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id)
    await bot.edit_message_text("Lead #1 (claimed)", chat_id=-100, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Lead #1 (claimed)", chat_id=-100, message_id=sent.message_id)
    edited = server.messages(-100)[-1]
    assert (edited.method, edited.text, edited.buttons) == (
        "editMessageText",
        "Lead #1 (claimed)",
        [],
    )
    assert await bot.edit_message_reply_markup(-100, sent.message_id, reply_markup=keyboard)
    assert await bot.delete_message(-100, second.message_id)
    assert server.message(-100, second.message_id) is None
    with pytest.raises(BadRequest, match="not found"):
        await bot.delete_message(-100, second.message_id)


async def test_documents_contacts_members_and_other_methods(server: BotApiServer, bot: Bot) -> None:
    document = await bot.send_document(
        900, b"id,name\n1,Acme\n", filename="leads.csv", caption="CSV"
    )
    assert document.document is not None and document.document.file_name == "leads.csv"
    [call] = [c for c in server.calls if c.method == "sendDocument"]
    assert call.files["document"] == b"id,name\n1,Acme\n"
    assert server.messages(900)[0].text == "CSV"
    server.user_contact(55, "+971501234567")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.user_id == 55
    server.set_member(-100, 7, "administrator")
    server.set_member(-100, 8, "restricted")
    server.set_member(-100, 9, "kicked")
    assert isinstance(await bot.get_chat_member(-100, 7), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(-100, 8), ChatMemberRestricted)
    assert isinstance(await bot.get_chat_member(-100, 9), ChatMemberBanned)
    assert isinstance(await bot.get_chat_member(-100, 10), ChatMemberMember)
    assert await bot.set_my_commands([("start", "Start")], language_code="ar")
    assert await bot.set_my_description("About", language_code="ar")
    assert await bot.set_my_short_description("Short")
    assert await bot.leave_chat(-5)  # anything else: ok, True
    commands = next(c for c in server.calls if c.method == "setMyCommands")
    assert commands.params["commands"] == [{"command": "start", "description": "Start"}]
    assert commands.params["language_code"] == "ar"
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=server.base_url):
            pass


async def test_json_and_form_bodies_are_accepted(server: BotApiServer) -> None:
    url = f"{server.base_url}{server.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, json={"chat_id": 3, "text": "json", "reply_markup": markup}
        ) as r:
            assert (await r.json())["result"]["message_id"] == 1
        async with session.post(url, data={"chat_id": "3", "text": "form"}) as r:
            assert (await r.json())["result"]["text"] == "form"
        async with session.post(f"{server.base_url}{server.token}/getChatMember", json={}) as r:
            assert r.status == 400 and (await r.json())["description"].startswith("Bad Request")
    assert [(m.text, m.buttons) for m in server.messages(3)] == [
        ("json", [[("Go", "go")]]),
        ("form", []),
    ]


async def test_allowed_updates_filters_new_updates(server: BotApiServer, bot: Bot) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    server.user_text(1, "dropped: messages are not allowed")
    assert await bot.get_updates() == ()
    await bot.get_updates(allowed_updates=[])  # back to the default: everything here
    server.user_text(1, "kept")
    assert len(await bot.get_updates()) == 1


async def test_an_application_keeps_polling_through_an_outage(server: BotApiServer) -> None:
    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text.upper())

    app = ApplicationBuilder().token(server.token).base_url(server.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        server.user_text(55, "before")
        await server.wait_for(called("sendMessage"))
        await server.down(0.3)
        server.user_text(55, "during")  # queued; delivered once the API is back
        await server.wait_for(called("sendMessage", 2), timeout=20)
        await app.updater.stop()
        await app.stop()
    assert [m.text for m in server.messages(55)] == ["BEFORE", "DURING"]


async def test_stop_answers_a_held_poll(server: BotApiServer, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await server.wait_for(called("getUpdates"))
    await asyncio.wait_for(server.stop(), 5)
    await asyncio.wait_for(asyncio.gather(poll, return_exceptions=True), 5)
    with pytest.raises(TimeoutError, match="last calls"):
        await server.wait_for(called("sendMessage"), timeout=0.1)


def test_serve_in_thread_works_from_synchronous_code() -> None:
    with serve_in_thread(BotApiServer()) as server:
        server.user_text(55, "from another thread")
        server.fail("sendMessage", "500")

        async def use() -> tuple[str | None, type[Exception] | None]:
            async with Bot(server.token, base_url=server.base_url) as bot:
                [update] = await bot.get_updates()
                try:
                    await bot.send_message(55, "first try")
                except NetworkError as exc:
                    return (update.message.text if update.message else None), type(exc)
                return None, None

        assert asyncio.run(use()) == ("from another thread", NetworkError)
        calls: list[Call] = server.blocking(server.wait_for(called("sendMessage")))
        assert calls[-1].status == 500
        server.blocking(server.down(0.1))
        assert server.messages(55) == []
