"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a bot harness.

The harness runs the real python-telegram-bot Application; only the network is
replaced, at the request layer, by ``LocalBotApi``, which records every call.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import build_application, build_services
from bot.config import Config, load_config
from bot.context import BotApplication, Services
from bot.db.migrate import upgrade_database
from bot.db.models import utcnow
from bot.db.store import Store
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.local_api import LOCAL_TOKEN, ApiCall, LocalBotApi, LocalUser, UpdateFactory, buttons
from bot.outbox import deliver_due

# The suite's own cache of learned models and parsed files (bot/disk_cache.py), empty at
# its start: a test never reads what an earlier run or another checkout kept in the user's
# cache (the processes tests start inherit it too). The first matcher trains its models.
_CACHE = tempfile.mkdtemp(prefix="partnerbot-test-cache-")
os.environ["PARTNERBOT_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

PG_ENV = "PARTNERBOT_TEST_DATABASE_URL"
STAFF_CHAT = -100500
STAFF_ID = 900
TEST_CONFIG: dict[str, Any] = {
    "telegram": {"staff_chat_id": STAFF_CHAT, "staff_user_ids": [STAFF_ID]},
    "bot": {"rate_limit_messages": 1000},
}


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade_database(f"sqlite+aiosqlite:///{path}")
    return path


def _database_params() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=_database_params())
async def database_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url = os.environ[PG_ENV]
    await _reset_postgres(url)
    await asyncio.to_thread(upgrade_database, url)
    return url


class Clock:
    """A settable clock, so idle timeouts and retry schedules are tested without sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """One bot instance and the fake Bot API it talks to."""

    def __init__(self, app: BotApplication, api: LocalBotApi, services: Services) -> None:
        self.app = app
        self.api = api
        self.services = services
        self.updates = UpdateFactory(app.bot)

    @property
    def store(self) -> Store:
        return self.services.store

    async def send(self, user: LocalUser, text: str, chat_id: int | None = None) -> list[ApiCall]:
        """Deliver a text (or /command) from ``user``; return the calls the bot made."""
        return await self._process(self.updates.text(user, text, chat_id))

    async def send_update(self, update: Any) -> list[ApiCall]:
        return await self._process(update)

    async def press(self, user: LocalUser, label: str, chat_id: int | None = None) -> list[ApiCall]:
        """Press the newest button whose label or callback data is ``label``."""
        chat = chat_id if chat_id is not None else user.id
        for (msg_chat, _), message in reversed(list(self.api.messages.items())):
            if msg_chat != chat:
                continue
            for row in buttons(message):
                for caption, data in row:
                    if label in (caption, data) or caption.endswith(label):
                        return await self._process(self.updates.press(user, message, data))
        raise AssertionError(f"no button {label!r} in chat {chat}")

    async def deliver(self, now: datetime | None = None) -> int:
        """One delivery pass, as the JobQueue runs it (the harness never starts the JobQueue)."""
        return await deliver_due(self.app.bot, self.services, now)

    async def _process(self, update: Any) -> list[ApiCall]:
        before = len(self.api.calls)
        await self.app.process_update(update)
        return self.api.calls[before:]

    def texts(self, chat_id: int) -> list[str]:
        """Every text sent to or edited in ``chat_id``, in order."""
        return [
            c.params["text"]
            for c in self.api.calls
            if c.method in ("sendMessage", "editMessageText")
            and int(c.params["chat_id"]) == chat_id
        ]

    def last_text(self, chat_id: int) -> str:
        return self.texts(chat_id)[-1]

    def last_buttons(self, chat_id: int) -> list[list[tuple[str, str]]]:
        for call in reversed(self.api.calls):
            if (
                call.method in ("sendMessage", "editMessageText")
                and int(call.params["chat_id"]) == chat_id
                and call.params.get("reply_markup")
            ):
                return buttons({"reply_markup": call.params["reply_markup"]})
        return []

    def staff_posts(self) -> list[ApiCall]:
        return [
            c
            for c in self.api.calls
            if c.method == "sendMessage" and int(c.params["chat_id"]) == STAFF_CHAT
        ]


MakeBot = Callable[..., Any]


@pytest.fixture
async def make_bot(database_url: str) -> AsyncIterator[MakeBot]:
    """Factory: ``await make_bot(config_overrides)`` -> an initialised Harness.

    Several harnesses share one database, like several bot processes would.
    """
    started: list[Harness] = []

    async def factory(
        overrides: dict[str, Any] | None = None, clock: Clock | None = None
    ) -> Harness:
        config = _config(database_url, overrides)
        services = build_services(config)
        if clock is not None:
            services.clock = clock
        api = LocalBotApi()
        app = build_application(config, services=services, request=api, token=LOCAL_TOKEN)
        await app.initialize()
        harness = Harness(app, api, services)
        started.append(harness)
        return harness

    yield factory
    for harness in started:
        await harness.app.shutdown()


def _config(database_url: str, overrides: dict[str, Any] | None) -> Config:
    data: dict[str, Any] = {key: dict(value) for key, value in TEST_CONFIG.items()}
    data["database"] = {"url": database_url}
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    return load_config(data=data, env={})


@pytest.fixture
async def bot(make_bot: MakeBot) -> Harness:
    harness: Harness = await make_bot()
    return harness


@pytest.fixture
def english_user() -> LocalUser:
    return LocalUser(id=101, first_name="Sam", language_code="en", username="sam")


@pytest.fixture
def arabic_user() -> LocalUser:
    return LocalUser(id=202, first_name="سارة", language_code="ar", username="sara")


@pytest.fixture
def staff_user() -> LocalUser:
    return LocalUser(id=STAFF_ID, first_name="Staff", language_code="en", username="staffer")
