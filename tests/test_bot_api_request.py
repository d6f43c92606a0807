"""The Bot API's HTTP client (bot/bot_api_request.py), through a real Bot, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import traceback
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.bot_api_request import AiohttpRequest, may_have_landed
from tests.bot_api_server import BotApiServer

CHAT = 55


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as server:
        yield server


def _bot(server: BotApiServer, timeout: float = 5.0) -> Bot:
    request = AiohttpRequest(timeout=timeout)
    return Bot(server.token, base_url=server.base_url, request=request, get_updates_request=request)


async def test_a_message_and_its_keyboard_arrive_as_sent(server: BotApiServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("<b>نعم</b> & yes", callback_data="y:1")]])
    async with _bot(server) as bot:
        sent = await bot.send_message(CHAT, "مرحبا & <hello> +1", reply_markup=markup)
    [message] = server.messages(CHAT)
    assert message.text == "مرحبا & <hello> +1"
    assert message.buttons == [[("<b>نعم</b> & yes", "y:1")]]
    assert sent.message_id == message.message_id and sent.text == message.text


async def test_a_document_goes_as_multipart_with_its_name(server: BotApiServer) -> None:
    content = "name,email\nمنى,m@example.com\n".encode()
    async with _bot(server) as bot:
        await bot.send_document(CHAT, document=content, filename="leads.csv", caption="2 leads")
    [call] = [c for c in server.calls if c.method == "sendDocument"]
    assert call.files["document"] == content
    assert call.params["caption"] == "2 leads"
    assert server.messages(CHAT)[0].text == "2 leads"


async def test_telegrams_errors_keep_their_meaning(server: BotApiServer) -> None:
    server.fail("sendMessage", "429", retry_after=7)
    server.fail("sendMessage", "400")
    async with _bot(server) as bot:
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(CHAT, "one")
        with pytest.raises(BadRequest):
            await bot.send_message(CHAT, "two")
        await bot.send_message(CHAT, "three")
    assert flood.value.retry_after in (7, timedelta(seconds=7))
    assert [m.text for m in server.messages(CHAT)] == ["three"]


async def test_an_answer_slower_than_the_timeout_is_timed_out(server: BotApiServer) -> None:
    server.fail("sendMessage", "slow", delay=2.0)
    async with _bot(server, timeout=0.3) as bot:
        with pytest.raises(TimedOut) as error:
            await bot.send_message(CHAT, "slow")
        assert may_have_landed(error.value)  # sent, and the answer was not waited for
        # The pool is not poisoned by the abandoned call.
        await bot.send_message(CHAT, "next")
    assert "next" in [m.text for m in server.messages(CHAT)]


async def test_an_unreachable_api_is_a_network_error_without_the_token(
    server: BotApiServer,
) -> None:
    bot = _bot(server)
    await bot.initialize()
    try:
        await server.down()
        with pytest.raises(NetworkError) as error:
            await bot.send_message(CHAT, "lost")
        assert not isinstance(error.value, TimedOut)
        secret = server.token.split(":", 1)[1]
        assert secret not in str(error.value) and secret not in repr(error.value)
        await server.up()
        await bot.send_message(CHAT, "back")
    finally:
        await bot.shutdown()
    assert [m.text for m in server.messages(CHAT)] == ["back"]


async def test_a_refused_connection_is_known_never_to_have_been_sent() -> None:
    """Unlike a connection dropped while a call was under way (above), which may have
    been carried out."""
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(timeout=5)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as error:
            await request.do_request(f"http://127.0.0.1:{port}/bot1:x/getMe", "POST")
    finally:
        await request.shutdown()
    assert not may_have_landed(error.value)
    assert may_have_landed(NetworkError("aiohttp.ServerDisconnectedError"))


async def test_an_uninitialised_client_refuses_to_send() -> None:
    request = AiohttpRequest(timeout=1)
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/bot1:x/getMe", "POST")


async def test_a_timeout_waiting_for_a_connection_never_carries_the_token(
    server: BotApiServer,
) -> None:
    # One connection, held by a call the stand-in answers late: the second call waits for
    # the pool and gives up. aiohttp words that error with the whole URL, token included.
    server.fail("getMe", "slow", delay=1.5)
    request = AiohttpRequest(timeout=5, connection_pool_size=1)
    await request.initialize()
    url = f"{server.base_url}{server.token}/getMe"
    try:
        held = asyncio.ensure_future(request.do_request(url, "POST"))
        await asyncio.sleep(0.3)  # the first call has the connection
        with pytest.raises(TimedOut) as error:
            await request.do_request(url, "POST", pool_timeout=0.2, connect_timeout=0.2)
        assert (await held)[0] == 200
    finally:
        await request.shutdown()
    secret = server.token.split(":", 1)[1]
    printed = "".join(traceback.format_exception(error.value))
    assert "ConnectionTimeoutError" in printed  # the pool's timeout, not a read's
    assert not may_have_landed(error.value)
    assert secret not in printed and "/bot1" not in printed


async def test_a_redirect_is_not_followed() -> None:
    elsewhere: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere")

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(request.method)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/bot1:secret/getMe", moved)
    app.router.add_route("*", "/elsewhere", other)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(timeout=2)
    await request.initialize()
    try:
        status, _ = await request.do_request(f"http://127.0.0.1:{port}/bot1:secret/getMe", "POST")
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert status == 302 and elsewhere == []


async def test_parameters_go_as_json_with_their_objects_nested() -> None:
    """Not a form: aiohttp percent-encodes a form byte by byte in Python, and Arabic text
    is mostly bytes to encode. The Bot API takes JSON for every call without files."""
    seen: list[tuple[str, bytes]] = []

    async def commands(request: web.Request) -> web.Response:
        seen.append((request.content_type, await request.read()))
        return web.json_response({"ok": True, "result": True})

    async def get_me(request: web.Request) -> web.Response:
        me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "partner_bot"}
        return web.json_response({"ok": True, "result": me})

    app = web.Application()
    app.router.add_post("/bot1:secret/getMe", get_me)
    app.router.add_post("/bot1:secret/setMyCommands", commands)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = Bot(
        "1:secret", base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(timeout=2)
    )
    try:
        async with bot:
            await bot.set_my_commands([BotCommand("apply", "طلب الشراكة")], language_code="ar")
    finally:
        await runner.cleanup()
    [(content_type, body)] = seen
    assert content_type == "application/json"
    assert "طلب الشراكة".encode() in body  # UTF-8, not escaped
    sent = json.loads(body)
    assert sent == {
        "commands": [{"command": "apply", "description": "طلب الشراكة"}],
        "language_code": "ar",
    }
