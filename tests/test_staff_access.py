"""Where staff commands and buttons work, and who counts as staff (cached getChatMember)."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Update

from bot.config import TelegramConfig
from bot.context import BotContext
from bot.local_api import ApiCall, LocalUser
from bot.staff_access import StaffAccess
from handlers.common import reply
from handlers.staff import StaffRoutes
from tests.conftest import STAFF_CHAT, Harness, MakeBot
from tests.test_lead_form import TEXTS, submit_form

OTHER_GROUP = -100777
ADMIN = LocalUser(id=777, first_name="Ada", language_code="en")
MEMBER = LocalUser(id=778, first_name="Max", language_code="en")
STAFF_COMMANDS = ["/leads", "/leads claimed", "/lead 1", "/export", "/stats"]
NOT_ALLOWED = TEXTS.label("staff.not_allowed", "en")


def _in_topic(bot: Harness, user: LocalUser, text: str, thread_id: int | None) -> Update:
    """A message in the staff chat, in forum topic ``thread_id`` (None: the General topic)."""
    data = bot.updates.text(user, text, STAFF_CHAT).to_dict()
    if thread_id is not None:
        data["message"].update(message_thread_id=thread_id, is_topic_message=True)
    update = Update.de_json(data, bot.app.bot)
    assert update is not None
    return update


async def _press_on(bot: Harness, user: LocalUser, chat_id: int, data: str) -> list[ApiCall]:
    """Press ``data`` on a copy of the staff post placed in ``chat_id``."""
    [post] = [m for (chat, _), m in bot.api.messages.items() if chat == STAFF_CHAT]
    chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "x"}
    return await bot.send_update(bot.updates.press(user, {**post, "chat": chat}, data))


def _member_checks(bot: Harness) -> list[ApiCall]:
    return [c for c in bot.api.calls if c.method == "getChatMember"]


def _answers(calls: list[ApiCall]) -> list[dict[str, Any]]:
    return [c.params for c in calls if c.method == "answerCallbackQuery"]


# Commands: the staff chat (its topic), or a private chat ---------------------------------------


@pytest.mark.parametrize("command", STAFF_COMMANDS)
async def test_staff_commands_do_nothing_in_another_group(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser, command: str
) -> None:
    await submit_form(bot, english_user)
    assert await bot.send(staff_user, command, chat_id=OTHER_GROUP) == []


async def test_staff_commands_answer_only_in_the_staff_topic(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_topic_id": 5}})
    await submit_form(bot, english_user)
    assert await bot.send_update(_in_topic(bot, staff_user, "/export", None)) == []
    assert await bot.send_update(_in_topic(bot, staff_user, "/export", 6)) == []
    [sent] = await bot.send_update(_in_topic(bot, staff_user, "/leads", 5))
    assert (sent.method, sent.params["message_thread_id"]) == ("sendMessage", 5)
    assert "Acme Security" in sent.params["text"]
    [doc] = await bot.send_update(_in_topic(bot, staff_user, "/export", 5))
    assert (doc.method, doc.params["message_thread_id"]) == ("sendDocument", 5)


async def test_a_member_of_the_staff_chat_who_is_not_staff_sees_no_leads(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    calls = await bot.send(MEMBER, "/export", chat_id=STAFF_CHAT)
    assert [c.method for c in calls] == ["getChatMember", "sendMessage"]
    assert bot.last_text(STAFF_CHAT) == NOT_ALLOWED


async def test_an_edited_command_is_not_run_again(bot: Harness, staff_user: LocalUser) -> None:
    data = bot.updates.text(staff_user, "/export", STAFF_CHAT).to_dict()
    message = data.pop("message")
    data["edited_message"] = {**message, "edit_date": message["date"]}
    update = Update.de_json(data, bot.app.bot)
    assert await bot.send_update(update) == []


async def test_a_later_staff_command_is_registered_in_one_line(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    async def probe(update: Update, context: BotContext) -> None:
        await reply(update, context, "staff/not_found", "en")

    # Where staff_handlers() puts it: before the catch-all for unknown commands.
    bot.app.handlers[0].insert(0, StaffRoutes(bot.services.config.telegram).command("probe", probe))
    assert bot.texts(staff_user.id) == []
    await bot.send(staff_user, "/probe")
    assert bot.last_text(staff_user.id) == TEXTS.render("staff/not_found", "en")
    await bot.send(english_user, "/probe")
    assert bot.last_text(english_user.id) == TEXTS.render("staff/not_staff", "en")
    assert await bot.send(staff_user, "/probe", chat_id=OTHER_GROUP) == []


# Buttons: only on messages in the staff chat ----------------------------------------------------


@pytest.mark.parametrize("chat_id", [OTHER_GROUP, STAFF_CHAT + 1, 900])
async def test_a_button_outside_the_staff_chat_is_refused(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser, chat_id: int
) -> None:
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    calls = await _press_on(bot, staff_user, chat_id, f"lead:claim:{lead.id}")
    [answer] = _answers(calls)
    assert (answer["text"], answer["show_alert"]) == (NOT_ALLOWED, True)
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    lead_after = await bot.store.lead(lead.id)
    assert lead_after is not None and (lead_after.status, lead_after.handled_by) == ("new", None)


# The administrator check: cached, and a failure means "not staff" --------------------------------


async def test_an_administrator_is_checked_once_for_two_presses(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    bot.api.chat_member_status[(STAFF_CHAT, ADMIN.id)] = "administrator"
    await bot.press(ADMIN, f"lead:claim:{lead.id}", chat_id=STAFF_CHAT)
    await bot.press(ADMIN, f"lead:contacted:{lead.id}", chat_id=STAFF_CHAT)
    assert len(_member_checks(bot)) == 1
    lead_after = await bot.store.lead(lead.id)
    assert lead_after is not None and lead_after.status == "contacted"


async def test_with_no_cache_every_press_is_checked(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_admin_cache_seconds": 0}})
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    bot.api.chat_member_status[(STAFF_CHAT, ADMIN.id)] = "administrator"
    await bot.press(ADMIN, f"lead:claim:{lead.id}", chat_id=STAFF_CHAT)
    await bot.press(ADMIN, f"lead:contacted:{lead.id}", chat_id=STAFF_CHAT)
    assert len(_member_checks(bot)) == 2


@pytest.mark.parametrize("failure", ["server_error", "network"])
async def test_a_failing_check_is_a_polite_no_and_is_not_remembered(
    bot: Harness, english_user: LocalUser, failure: str
) -> None:
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    bot.api.chat_member_status[(STAFF_CHAT, ADMIN.id)] = "administrator"
    bot.api.fail_next("getChatMember", failure)
    calls = await bot.press(ADMIN, f"lead:claim:{lead.id}", chat_id=STAFF_CHAT)
    [answer] = _answers(calls)
    assert (answer["text"], answer["show_alert"]) == (NOT_ALLOWED, True)
    assert [c.method for c in calls] == ["getChatMember", "answerCallbackQuery"]
    lead_after = await bot.store.lead(lead.id)
    assert lead_after is not None and lead_after.status == "new"
    # Telegram is back: the next press asks again, and the one after uses the answer.
    await bot.press(ADMIN, f"lead:claim:{lead.id}", chat_id=STAFF_CHAT)
    await bot.press(ADMIN, f"lead:contacted:{lead.id}", chat_id=STAFF_CHAT)
    assert len(_member_checks(bot)) == 2
    lead_after = await bot.store.lead(lead.id)
    assert lead_after is not None and lead_after.status == "contacted"
    assert not any(
        c.method == "sendMessage" and c.params["chat_id"] == ADMIN.id for c in bot.api.calls
    )


class _Members:
    """A Bot stand-in for StaffAccess alone: counts getChatMember calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_chat_member(self, chat_id: int, user_id: int) -> Any:
        self.calls += 1
        return type("Member", (), {"status": "administrator"})()


async def test_the_cache_expires_and_stays_bounded() -> None:
    now = [0.0]
    access = StaffAccess(max_users=2, clock=lambda: now[0])
    telegram = TelegramConfig(staff_chat_id=STAFF_CHAT, staff_admin_cache_seconds=300)
    members = _Members()
    bot: Bot = members  # type: ignore[assignment]
    assert await access.is_staff(bot, telegram, 1)
    assert await access.is_staff(bot, telegram, 1)
    assert members.calls == 1
    now[0] = 301
    assert await access.is_staff(bot, telegram, 1)
    assert members.calls == 2
    await access.is_staff(bot, telegram, 2)
    await access.is_staff(bot, telegram, 3)  # the oldest entry (user 1) makes room
    assert members.calls == 4
    await access.is_staff(bot, telegram, 1)
    assert members.calls == 5
    assert len(access._admins) == 2
