"""`partnerbot run` processes end to end, over real HTTP (tests/bot_api_server.py):
polling and webhook, a whole lead, staff buttons, faults (Bot API down, SIGKILL, the
database unreachable), a wrong webhook secret, Telegram's re-delivery, two workers."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.knowledge import default_path
from tests.bot_api_server import BotApiServer, Sent
from tests.conftest import PG_ENV, _reset_postgres

ROOT = Path(__file__).resolve().parent.parent
STAFF_CHAT = -100500
STAFF = 900
SECRET = "e2e-secret_token"
needs_postgres = pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs {PG_ENV}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class BotProcess:
    """One `partnerbot run` subprocess and its log."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process, self.log = process, log

    @classmethod
    async def start(
        cls,
        api: BotApiServer,
        workdir: Path,
        db_url: str,
        *args: str,
        knowledge: Path | None = None,
        config_lines: str = "",
        **env: str,
    ) -> BotProcess:
        config, log = _prepare(workdir, knowledge, config_lines)
        variables = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": api.token,
            "PARTNERBOT_API_BASE_URL": api.base_url,
            "PARTNERBOT_DATABASE_URL": db_url,
            **env,
        }
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "--config", str(config), "run", *args,
                cwd=workdir, env=variables, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        return cls(process, log)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def stop(self) -> str:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.output

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()


def _prepare(
    workdir: Path, knowledge: Path | None = None, config_lines: str = ""
) -> tuple[Path, Path]:
    """A config file for a test process, and a new log file for its output."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yaml"
    folder = f", knowledge_path: '{knowledge}'" if knowledge else ""
    config.write_text(
        f"telegram: {{staff_chat_id: {STAFF_CHAT}, staff_user_ids: [{STAFF}]}}\n"
        f"bot: {{rate_limit_messages: 1000{folder}}}\n"
        "delivery: {backoff_base_seconds: 1, backoff_max_seconds: 3, poll_seconds: 1, max_attempts: 100}\n"
        "serving: {lease_seconds: 5}\n" + config_lines,
        encoding="utf-8",
    )
    return config, workdir / f"bot-{len(list(workdir.glob('bot-*.log')))}.log"


@pytest.fixture
async def api() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(max_poll_seconds=1) as server:
        yield server


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    """PostgreSQL when configured (reset), else a SQLite file."""
    url = os.environ.get(PG_ENV)
    if url:
        await _reset_postgres(url)
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
async def bots() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        await bot.stop()


async def reply_to(
    api: BotApiServer, chat: int, send: Callable[[], Any], within: float = 20
) -> Sent:
    """Do ``send`` and wait for the bot's next message (or edit) in ``chat``."""
    before = len(api.messages(chat))
    send()
    await api.wait_for(lambda _: len(api.messages(chat)) > before, within)
    await asyncio.sleep(0.3)  # the rest of the answer (a prompt after an error, say)
    return api.messages(chat)[-1]


def press(api: BotApiServer, user: int, data: str, chat: int | None = None) -> Callable[[], Any]:
    """A press of the newest button with callback ``data`` in ``chat`` (default: the user's)."""
    for message in reversed(api.messages(chat or user)):
        if any(d == data for row in message.buttons for _, d in row):
            return lambda: api.user_press(user, message, data)
    raise AssertionError(f"no button {data!r}")


FORM = [
    ("say", "/apply"), ("say", "Acme Security"), ("press", "form:sector:cybersecurity"),
    ("say", "Jordan"), ("say", "Sam Smith"), ("say", "CISO"), ("say", "sam@acme-security.com"),
    ("say", "skip"), ("press", "form:interest:training"), ("press", "form:interests_done"),
    ("say", "no thanks"), ("press", "form:consent:yes"),
]  # fmt: skip


async def fill_form(api: BotApiServer, user: int) -> None:
    """/apply and every step up to the summary, as a partner would."""
    for kind, value in FORM:
        if kind == "say":
            await reply_to(api, user, lambda value=value: api.user_text(user, value))
        else:
            await reply_to(api, user, press(api, user, value))


def staff_posts(api: BotApiServer) -> list[Sent]:
    return [m for m in api.messages(STAFF_CHAT) if m.method == "sendMessage"]


async def test_polling_answers_both_languages_takes_a_lead_and_staff_buttons(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    bots.append(await BotProcess.start(api, tmp_path, db_url))
    answer = await reply_to(api, 101, lambda: api.user_text(101, "what is expert secondment?"), 60)
    assert "secondment" in (answer.text or "").lower()
    answer = await reply_to(
        api, 202, lambda: api.user_text(202, "ما هي خيارات الشراكة؟", language_code="ar")
    )
    assert "الشراكة" in (answer.text or "")
    await fill_form(api, 101)
    await reply_to(api, 101, press(api, 101, "form:confirm"))
    await api.wait_for(lambda _: len(staff_posts(api)) == 1, 20)
    [post] = staff_posts(api)
    assert "Acme Security" in (post.text or "")
    claim = next(d for row in post.buttons for _, d in row if d.startswith("lead:claim:"))
    await reply_to(api, STAFF_CHAT, lambda: api.user_press(STAFF, post, claim))
    assert "Claimed" in (api.messages(STAFF_CHAT)[-1].text or "")
    output = await bots[0].stop()
    assert api.token not in output and "Traceback" not in output
    assert "database OK" in output and "Bot API OK" in output


async def test_webhook_checks_the_secret_and_handles_a_redelivery_once(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    bots.append(
        await BotProcess.start(
            api,
            tmp_path,
            db_url,
            "--webhook",
            PARTNERBOT_WEBHOOK_URL=url,
            PARTNERBOT_WEBHOOK_PORT=str(port),
            PARTNERBOT_WEBHOOK_SECRET=SECRET,
        )
    )
    await api.wait_for(lambda calls: any(c.method == "setWebhook" for c in calls), 60)
    [hook] = [c for c in api.calls if c.method == "setWebhook"]
    assert hook.params["secret_token"] == SECRET
    async with httpx.AsyncClient() as client:
        forged = {"update_id": 999, "message": {"message_id": 1, "date": 0, "text": "hi",
                  "chat": {"id": 7, "type": "private"}, "from": {"id": 7, "is_bot": False, "first_name": "E"}}}  # fmt: skip
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            assert (await client.post(url, json=forged, headers=headers)).status_code == 403
    api.redeliver_on_success = True
    answer = await reply_to(api, 303, lambda: api.user_text(303, "what is information sharing?"))
    assert "information" in (answer.text or "").lower()
    await asyncio.sleep(1.5)
    assert len(api.messages(303)) == 1  # delivered twice, answered once
    assert api.messages(7) == []  # the forged update was never stored or handled
    output = await bots[0].stop()
    assert SECRET not in output and api.token not in output


async def test_a_lead_confirmed_while_the_bot_api_is_down_arrives_once_afterwards(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    bots.append(await BotProcess.start(api, tmp_path, db_url))
    await reply_to(api, 101, lambda: api.user_text(101, "hello"), 60)
    await fill_form(api, 101)
    api.fail("sendMessage", "500", chat_id=STAFF_CHAT)  # the first staff post fails...
    await reply_to(api, 101, press(api, 101, "form:confirm"))
    await api.down(30)  # ...and the Bot API is gone for 30 s while it is retried
    await api.wait_for(lambda _: len(staff_posts(api)) >= 1, 40)
    await asyncio.sleep(3)
    assert len(staff_posts(api)) == 1
    output = await bots[0].stop()
    assert output.count("Bot API unreachable") <= 2 and "Traceback" not in output


async def test_a_429_on_get_updates_is_waited_out_and_polling_goes_on(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    """RetryAfter is no NetworkError: it used to end the poller for good, silently."""
    bots.append(await BotProcess.start(api, tmp_path, db_url))
    await reply_to(api, 101, lambda: api.user_text(101, "hello"), 60)
    api.fail("getUpdates", "429", times=1, retry_after=1)
    await asyncio.sleep(2)
    answer = await reply_to(api, 101, lambda: api.user_text(101, "what is expert secondment?"))
    assert "secondment" in (answer.text or "").lower()


async def test_sigkill_loses_no_fetched_update(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    users = list(range(5001, 5021))
    first = await BotProcess.start(api, tmp_path, db_url)
    bots.append(first)
    await reply_to(api, 5000, lambda: api.user_text(5000, "hello"), 60)
    api.fail("sendMessage", "slow", times=None, delay=3)  # replies hang: updates pile up
    for user in users:
        api.user_text(user, "what is expert secondment?")
    await api.wait_for(
        lambda calls: (
            sum(1 for c in calls if c.method == "sendMessage" and (c.chat_id or 0) in users) >= 5
        ),
        30,
    )
    await first.kill()  # fetched and acknowledged, some mid-reply, none marked handled yet
    api.clear_faults()
    bots.append(await BotProcess.start(api, tmp_path, db_url))
    await api.wait_for(lambda _: all(api.messages(u) for u in users), 60)
    # Every update was handled; only those cut off mid-reply may have been answered twice.
    replies = [len(api.messages(u)) for u in users]
    assert min(replies) >= 1
    assert sum(replies) - len(users) <= 16  # at most the in-flight ones (serving.concurrency)


class Proxy:
    """A TCP proxy to PostgreSQL that can cut the database off, as an outage would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = True
        self.links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        self.up = False
        for writer in self.links:
            writer.close()
        self.links.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


@needs_postgres
async def test_database_unreachable_for_10_s_one_reply_per_message_no_traces(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    proxy = Proxy(5432)
    port = await proxy.start()
    proxied = db_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    try:
        bots.append(await BotProcess.start(api, tmp_path, proxied))
        await reply_to(api, 101, lambda: api.user_text(101, "hello"), 60)
        proxy.cut()
        for question in ("what is expert secondment?", "what is information sharing?"):
            api.user_text(101, question)
        await asyncio.sleep(10)
        proxy.up = True
        await api.wait_for(lambda _: len(api.messages(101)) >= 3, 40)
        await asyncio.sleep(3)
        texts = [m.text or "" for m in api.messages(101)]
        assert len(texts) == 3, texts  # the greeting, then one answer per message
        assert not any("went wrong" in t for t in texts)
        assert texts[1] != "what is expert secondment?"
        await reply_to(api, 101, lambda: api.user_text(101, "thanks"))  # the next works
        output = await bots[0].stop()
        assert "Traceback" not in output
        assert output.count("database unreachable") == 1
        assert output.count("database reachable again") == 1
    finally:
        await proxy.close()


class Alternator:
    """Telegram's webhook POSTs, spread over two workers in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports, self.turn = ports, 0

    async def start(self) -> int:
        from aiohttp import web

        async def forward(request: web.Request) -> web.Response:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    content=await request.read(),
                    headers={
                        k: v
                        for k, v in request.headers.items()
                        if k.lower().startswith("x-") or k.lower() == "content-type"
                    },
                )
            return web.Response(status=answer.status_code)

        app = web.Application()
        app.router.add_post("/telegram", forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return port


@needs_postgres
async def test_two_webhook_workers_share_one_users_form(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    ports = [free_port(), free_port()]
    alternator = Alternator(ports)
    front = await alternator.start()
    try:
        for n, port in enumerate(ports):
            bots.append(
                await BotProcess.start(
                    api,
                    tmp_path / f"w{n}",
                    db_url,
                    "--webhook",
                    PARTNERBOT_WEBHOOK_URL=f"http://127.0.0.1:{front}/telegram",
                    PARTNERBOT_WEBHOOK_PORT=str(port),
                    PARTNERBOT_WEBHOOK_SECRET=SECRET,
                )
            )
        await api.wait_for(lambda calls: sum(c.method == "setWebhook" for c in calls) == 2, 60)
        await asyncio.sleep(1)
        await fill_form(api, 101)
        await reply_to(api, 101, press(api, 101, "form:confirm"))
        await api.wait_for(lambda _: len(staff_posts(api)) == 1, 20)
        assert alternator.turn >= 10  # both workers took part
        engine = create_async_engine(db_url)
        async with engine.connect() as conn:
            leads = (await conn.execute(text("SELECT organisation, role FROM leads"))).all()
        await engine.dispose()
        assert [tuple(row) for row in leads] == [("Acme Security", "CISO")]
        await asyncio.sleep(2)
        assert len(staff_posts(api)) == 1
    finally:
        await alternator.runner.cleanup()


async def test_a_refused_token_stops_with_one_line_and_no_token(
    api: BotApiServer, db_url: str, tmp_path: Path
) -> None:
    wrong = "987654:wrong-token-never-logged"
    bot = await BotProcess.start(api, tmp_path, db_url, TELEGRAM_BOT_TOKEN=wrong)
    assert await asyncio.wait_for(bot.process.wait(), 60) == 1
    output = bot.output
    assert "Bot API refused the token" in output
    assert wrong not in output and wrong.split(":")[1] not in output
    assert "Traceback" not in output and len(output.splitlines()) <= 8


async def test_a_reply_that_meets_a_429_is_sent_later_and_ops_endpoints_answer(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    ops = free_port()
    bots.append(await BotProcess.start(api, tmp_path, db_url, PARTNERBOT_OPS_PORT=str(ops)))
    await reply_to(api, 101, lambda: api.user_text(101, "hello"), 60)
    api.fail("sendMessage", "429", chat_id=101, retry_after=2)
    answer = await reply_to(api, 101, lambda: api.user_text(101, "what is expert secondment?"))
    assert "secondment" in (answer.text or "").lower()
    refused = [c for c in api.calls if c.method == "sendMessage" and c.status == 429]
    assert len(refused) == 1 and len(api.messages(101)) == 2  # sent once it was allowed
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ops}") as client:
        assert (await client.get("/healthz")).text == "ok"
        assert (await client.get("/readyz")).json() == {"ready": True}
        metrics = (await client.get("/metrics")).text
    assert 'partnerbot_updates_total{kind="message",outcome="handled"} 2.0' in metrics
    output = await bots[0].stop()
    assert "apscheduler" not in output and "Running job" not in output  # no scheduler chatter
    handled = [line for line in output.splitlines() if " handled in " in line]
    assert len(handled) == 2  # one line per update


async def test_a_burst_of_leads_reaches_the_staff_chat_in_order_within_flood_limits(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    from bot.db.migrate import upgrade_database
    from bot.db.store import Store
    from tests.test_delivery_leases import add_leads

    await asyncio.to_thread(upgrade_database, db_url)
    store = Store.from_url(db_url)
    lead_ids = await add_leads(store, 22)
    await store.close()
    bots.append(await BotProcess.start(api, tmp_path, db_url))
    await api.wait_for(lambda _: len(staff_posts(api)) >= 22, 120)
    posts = staff_posts(api)
    numbers = [int((p.text or "").split("#")[1].split("<")[0]) for p in posts]
    assert numbers == sorted(lead_ids)  # each once, in order
    assert api.max_rate(STAFF_CHAT, 60) <= 20  # Telegram's 20 messages a minute per group


async def test_sighup_reloads_the_knowledge_base_and_staff_hear_of_a_broken_one(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    from tests.test_knowledge_reload import MARK, QUESTION, _mark_cost_answer

    knowledge = tmp_path / "knowledge"
    shutil.copytree(default_path(), knowledge)
    bots.append(await BotProcess.start(api, tmp_path / "bot", db_url, knowledge=knowledge))
    ask = lambda: api.user_text(101, QUESTION)  # noqa: E731
    assert MARK not in ((await reply_to(api, 101, ask, 60)).text or "")

    (knowledge / "99-broken.yaml").write_text("- id: broken-entry\n", encoding="utf-8")
    report = await reply_to(api, STAFF_CHAT, lambda: bots[0].process.send_signal(signal.SIGHUP))
    assert "not reloaded" in (report.text or "") and "99-broken.yaml" in (report.text or "")

    (knowledge / "99-broken.yaml").unlink()
    _mark_cost_answer(knowledge)
    bots[0].process.send_signal(signal.SIGHUP)
    for _ in range(100):
        if "knowledge base reloaded" in bots[0].output:
            break
        await asyncio.sleep(0.1)
    assert MARK in ((await reply_to(api, 101, ask)).text or "")
    output = await bots[0].stop()
    assert "knowledge base reloaded" in output and "Traceback" not in output


async def test_a_conversation_with_staff_both_ways_and_after_a_restart(
    api: BotApiServer, db_url: str, tmp_path: Path, bots: list[BotProcess]
) -> None:
    """Talk to a person over HTTP: a partner's messages reach the staff chat as cards, a
    staff reply (Telegram's reply to the card) reaches the partner, in both languages; the
    card still finds its partner after the process restarts."""
    plain_group = "relay: {forum: false}\n"
    bots.append(await BotProcess.start(api, tmp_path, db_url, config_lines=plain_group))

    async def card_with(words: str) -> Sent:
        def found(_: object) -> bool:
            return any(words in (m.text or "") for m in api.messages(STAFF_CHAT))

        await api.wait_for(found, 20)
        return next(m for m in api.messages(STAFF_CHAT) if words in (m.text or ""))

    def staff_answers(card: Sent, answer: str) -> Callable[[], Any]:
        return lambda: api.user_text(STAFF, answer, chat_id=STAFF_CHAT, reply_to=card)

    cards: dict[int, Sent] = {}
    for user, lang, words, opened in (
        (101, "en", "Hello team", "partnerships team"),
        (202, "ar", "مرحبا بفريقكم", "فريق الشراكات"),
    ):
        contact = functools.partial(api.user_command, user, "contact", language_code=lang)
        assert opened in ((await reply_to(api, user, contact, 60)).text or "")
        api.user_text(user, words, language_code=lang)
        cards[user] = await card_with(words)
    for user, answer in ((101, "We will call you tomorrow"), (202, "سنتصل بكم غدًا")):
        got = await reply_to(api, user, staff_answers(cards[user], answer))
        assert (got.text, got.method) == (answer, "copyMessage")  # in the bot's voice
    await bots[0].stop()

    bots.append(await BotProcess.start(api, tmp_path, db_url, config_lines=plain_group))
    got = await reply_to(api, 101, staff_answers(cards[101], "One more thing"), 60)
    assert got.text == "One more thing"
    output = await bots[1].stop()
    assert "Traceback" not in output and "One more thing" not in output  # no text in logs
    assert "Hello team" not in bots[0].output
