"""Reloading the knowledge base while the bot runs: /reload by staff, followed by every
worker on the same database; a broken base is refused with its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.knowledge import default_path
from bot.knowledge_reload import follow_reloads
from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness, MakeBot

QUESTION = "how much does a partnership cost?"
MARK = "RELOADED-7f3a"


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A copy of the shipped knowledge folder that the test may edit."""
    folder = tmp_path / "knowledge"
    shutil.copytree(default_path(), folder)
    return folder


def _mark_cost_answer(folder: Path) -> None:
    """Edit the cost entry's English answer, as a maintainer would."""
    for path in folder.glob("*.yaml"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if isinstance(entry, dict) and entry.get("id") == "partnership-cost":
                entry["answer"]["en"] = f"{MARK} {entry['answer']['en']}"
                path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
                return
    raise AssertionError("no partnership-cost entry")


async def _bot(make_bot: MakeBot, folder: Path) -> Harness:
    harness: Harness = await make_bot({"bot": {"knowledge_path": str(folder)}})
    return harness


async def test_staff_reload_takes_an_edited_answer_at_once(
    make_bot: MakeBot, knowledge: Path, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot = await _bot(make_bot, knowledge)
    await bot.send(english_user, QUESTION)
    assert MARK not in bot.last_text(english_user.id)

    _mark_cost_answer(knowledge)
    await bot.send(staff_user, "/reload", chat_id=STAFF_CHAT)
    assert "Knowledge base reloaded" in bot.last_text(STAFF_CHAT)

    await bot.send(english_user, QUESTION)
    assert MARK in bot.last_text(english_user.id)


async def test_a_broken_base_is_refused_with_file_and_line_and_the_old_one_answers(
    make_bot: MakeBot, knowledge: Path, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot = await _bot(make_bot, knowledge)
    before = bot.services.kb
    _mark_cost_answer(knowledge)
    (knowledge / "99-broken.yaml").write_text(
        "- id: broken-entry\n  title: {en: Broken}\n  questions: {en: [x]}\n", encoding="utf-8"
    )

    await bot.send(staff_user, "/reload", chat_id=STAFF_CHAT)
    report = bot.last_text(STAFF_CHAT)
    assert "not reloaded" in report
    assert "99-broken.yaml:1" in report  # the file and the line the entry starts on
    assert bot.services.kb is before

    await bot.send(english_user, QUESTION)
    assert MARK not in bot.last_text(english_user.id)  # still the base in use


async def test_other_workers_follow_a_reload(
    make_bot: MakeBot, knowledge: Path, english_user: LocalUser, staff_user: LocalUser
) -> None:
    """Two processes on one database: /reload on one, the other's check job follows."""
    first, second = await _bot(make_bot, knowledge), await _bot(make_bot, knowledge)
    assert await follow_reloads(second.services) is None  # learns the current generation

    _mark_cost_answer(knowledge)
    await first.send(staff_user, "/reload", chat_id=STAFF_CHAT)
    await second.send(english_user, QUESTION)
    assert MARK not in second.last_text(english_user.id)  # not yet looked

    outcome = await follow_reloads(second.services)
    assert outcome is not None and outcome.ok
    await second.send(english_user, QUESTION)
    assert MARK in second.last_text(english_user.id)
    assert await follow_reloads(second.services) is None  # once per reload


async def test_a_stranger_cannot_reload(
    make_bot: MakeBot, knowledge: Path, english_user: LocalUser
) -> None:
    bot = await _bot(make_bot, knowledge)
    before = bot.services.kb
    _mark_cost_answer(knowledge)
    await bot.send(english_user, "/reload")
    assert "Knowledge base reloaded" not in bot.last_text(english_user.id)
    assert bot.services.kb is before


async def test_a_reload_in_a_frozen_worker_frees_the_old_base_and_freezes_the_new(
    make_bot: MakeBot, knowledge: Path, staff_user: LocalUser
) -> None:
    """A serving process freezes what it built (bot/heap.py). A reload must hand the old
    base back to the collector, or a reference cycle in it would never be freed, and
    freeze the new one."""
    import gc
    import weakref

    from bot.heap import freeze_long_lived

    bot = await _bot(make_bot, knowledge)

    class Cycle:
        pass

    old = Cycle()
    old.self = old  # type: ignore[attr-defined]  # only the collector frees it
    gone = weakref.ref(old)
    bot.services.kb.__dict__["_test_cycle"] = old  # held by the base in use only
    del old
    freeze_long_lived()
    try:
        gc.collect()
        assert gone() is not None  # frozen: even a full collection leaves it
        await bot.send(staff_user, "/reload", chat_id=STAFF_CHAT)
        assert "Knowledge base reloaded" in bot.last_text(STAFF_CHAT)
        assert gone() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
