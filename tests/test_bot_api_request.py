"""The Bot API's HTTP client (bot/bot_api_request.py), through a real Bot, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.bot_api_request import AiohttpRequest
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
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "slow")
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


async def test_an_uninitialised_client_refuses_to_send() -> None:
    request = AiohttpRequest(timeout=1)
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/bot1:x/getMe", "POST")
