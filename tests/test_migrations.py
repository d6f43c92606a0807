"""Migrations: concurrent starts on one PostgreSQL database are safe; read-only commands
never migrate."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.db.migrate import upgrade_database
from bot.local_api import LocalUser
from tests.conftest import PG_ENV, STAFF_ID, Harness, _reset_postgres
from tests.test_lead_form import submit_form

UPGRADE = "from bot.db.migrate import upgrade_database; import sys; upgrade_database(sys.argv[1])"


@pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"needs {PG_ENV}")
async def test_two_processes_migrating_a_fresh_database_at_once_both_succeed() -> None:
    url = os.environ[PG_ENV]
    for _ in range(4):
        await _reset_postgres(url)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", UPGRADE, url, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        results = [await p.communicate() for p in procs]
        codes = [p.returncode for p in procs]
        assert codes == [0, 0], [err.decode()[-500:] for _, err in results]


def test_kb_unanswered_never_creates_or_migrates_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    config = tmp_path / "config.yaml"
    config.write_text(f"database:\n  url: sqlite+aiosqlite:///{path}\n", encoding="utf-8")
    assert main(["--config", str(config), "kb", "unanswered"]) == 1
    assert "partnerbot db upgrade" in capsys.readouterr().err
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == []


def test_the_newest_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config, newest_revision

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert newest_revision() == head


async def test_an_up_to_date_database_is_not_handed_to_alembic(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from alembic import command

    from bot.db.migrate import current_revision, newest_revision, upgrade_database

    assert await current_revision(database_url) == newest_revision()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Alembic was run on an up-to-date database")

    monkeypatch.setattr(command, "upgrade", refuse)
    await asyncio.to_thread(upgrade_database, database_url)  # reads the revision, stops
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert await current_revision(fresh) is None
    with pytest.raises(AssertionError):  # a new database does need Alembic
        await asyncio.to_thread(upgrade_database, fresh)


async def test_a_worker_upgrades_through_a_child_and_never_loads_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"
    script = (
        "import asyncio, sys\n"
        "from bot.db.migrate import current_revision, newest_revision, upgrade_in_child\n"
        "asyncio.run(upgrade_in_child(sys.argv[1]))\n"
        "assert asyncio.run(current_revision(sys.argv[1])) == newest_revision()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script, url], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


async def test_an_unreachable_database_is_an_outage_to_wait_out() -> None:
    from bot.db.migrate import upgrade_in_child
    from bot.inbox import is_database_outage

    with pytest.raises(Exception) as error:
        await upgrade_in_child("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert is_database_outage(error.value)


async def test_a_failing_upgrade_says_why_in_one_line(tmp_path: Path) -> None:
    from bot.db.migrate import MigrationError, upgrade_in_child

    path = tmp_path / "not-a-database.sqlite3"
    await asyncio.to_thread(path.write_bytes, b"this is not SQLite " * 100)
    with pytest.raises(MigrationError, match="not a database"):
        await upgrade_in_child(f"sqlite+aiosqlite:///{path}")


async def test_downgrading_below_0010_keeps_the_doubt_of_a_copy_without_its_id(
    bot: Harness, english_user: LocalUser, database_url: str
) -> None:
    """0009 has no room for a copy record without a message id: its lead is marked
    instead, so that deleting the lead still asks staff to check."""
    from alembic import command

    from bot.db.migrate import alembic_config

    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert await bot.store.begin_copy(lead.id, STAFF_ID) is not None
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0009")
    async with bot.store.session() as session:
        copies = await session.scalar(text("SELECT count(*) FROM lead_copies"))
        marked = await session.scalar(text("SELECT unsure_since FROM leads"))
    assert copies == 0 and marked is not None
    await asyncio.to_thread(upgrade_database, database_url)
    assert await bot.store.lead_copies() == []
