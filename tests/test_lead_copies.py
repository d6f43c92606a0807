"""The copies of a lead that /lead sends (the lead, its history) are withdrawn with the
lead: /forget and retention edit each to the note its staff post gets, through the
outbox, and a /lead racing a /forget leaves no copy with the partner's details."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from bot.app import purge_job
from bot.context import BotContext
from bot.db import outbox_queries
from bot.db.models import OutboxItem, utcnow
from bot.db.outbox_queries import withdrawal
from bot.local_api import ApiCall, LocalUser
from tests.conftest import STAFF_CHAT, Clock, Harness, MakeBot
from tests.test_lead_form import TEXTS, submit_form
from tests.test_lead_posts import forget

OTHER = LocalUser(id=303, first_name="Omar", language_code="en", username="omar")
DETAILS = ("Sam Smith", "sam@acme-security.com")  # the English partner's, as staff see them


def showing(bot: Harness, chat_id: int, needle: str) -> list[int]:
    """The messages in ``chat_id`` that show ``needle`` now."""
    return [
        message_id
        for (chat, message_id), message in bot.api.messages.items()
        if chat == chat_id and needle in message.get("text", "")
    ]


def with_details(bot: Harness, staff: LocalUser) -> list[tuple[int, int]]:
    """Messages in the staff chat or the staff member's private chat that show the
    partner's name or email."""
    return [
        (chat, message_id)
        for chat in (STAFF_CHAT, staff.id)
        for needle in DETAILS
        for message_id in showing(bot, chat, needle)
    ]


async def assert_withdrawn(bot: Harness, staff: LocalUser, *, outbox_done: bool = False) -> None:
    """No copy shows the partner's details, no copy record is left, and (``outbox_done``)
    every outbox row is sent."""
    assert with_details(bot, staff) == []
    assert await bot.store.lead_copies() == []
    if outbox_done:
        assert {i.status for i in await bot.store.outbox()} == {"sent"}


def edits_to(bot: Harness, chat_id: int) -> list[ApiCall]:
    return [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == chat_id
    ]


async def one_copy(bot: Harness, user: LocalUser, staff: LocalUser) -> tuple[int, int]:
    """A lead without history, and the one message /lead sends of it in private."""
    await submit_form(bot, user)
    [lead] = await bot.store.all_leads()
    await bot.send(staff, f"/lead {lead.id}")
    [copy] = showing(bot, staff.id, "Sam Smith")
    return lead.id, copy


async def lead_with_history(bot: Harness, user: LocalUser) -> int:
    """A lead submitted twice, so /lead sends the lead and its history."""
    await submit_form(bot, user)
    await submit_form(bot, user, role="Chief Security Officer")
    [lead] = await bot.store.all_leads()
    assert len(lead.history) == 1
    return lead.id


def edits_fail_where_deleted(bot: Harness) -> Callable[[ApiCall], None]:
    """Telegram's answer to an edit of a message that is gone (staff deleted it)."""

    def telegram(call: ApiCall) -> None:
        key = (int(call.params.get("chat_id", 0)), int(call.params.get("message_id", 0)))
        if call.method == "editMessageText" and key not in bot.api.messages:
            raise BadRequest("Message to edit not found")

    return telegram


async def test_forget_withdraws_the_copies_lead_sent_in_the_staff_chat_and_in_private(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id = await lead_with_history(bot, english_user)
    await bot.send(staff_user, f"/lead {lead_id}", chat_id=STAFF_CHAT)
    await bot.send(staff_user, f"/lead {lead_id}")
    in_private = showing(bot, staff_user.id, "Sam Smith")
    assert len(in_private) == 2  # the lead and its history
    copies = await bot.store.lead_copies()
    assert len(copies) == 4 and {c.lead_id for c in copies} == {lead_id}
    assert {c.message_id for c in copies if c.chat_id == staff_user.id} == set(in_private)

    await forget(bot, english_user)
    await bot.deliver()
    note = TEXTS.render("staff/forgotten", "en", lead_id=lead_id)
    for copy in copies:
        message = bot.api.messages[(copy.chat_id, copy.message_id)]
        assert message["text"] == note and "reply_markup" not in message
    await assert_withdrawn(bot, staff_user, outbox_done=True)  # records done, so gone


async def test_a_429_or_a_timeout_on_the_edit_is_retried_until_it_lands(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id, copy = await one_copy(bot, english_user, staff_user)
    failures: list[Exception] = [TimedOut("simulated"), RetryAfter(30)]  # 429 first

    def copy_edit_fails(call: ApiCall) -> None:
        is_copy = int(call.params.get("chat_id", 0)) == staff_user.id
        if call.method == "editMessageText" and is_copy and failures:
            raise failures.pop()

    bot.api.on_call = copy_edit_fails
    await forget(bot, english_user)
    await bot.deliver()  # the staff post is withdrawn; the copy's edit gets a 429
    assert showing(bot, staff_user.id, "Sam Smith") == [copy]
    [record] = await bot.store.lead_copies()  # kept until its withdrawal is done
    assert record.withdrawal_id is not None
    await bot.deliver(utcnow() + timedelta(seconds=31))  # times out
    assert showing(bot, staff_user.id, "Sam Smith") == [copy]
    assert [c.id for c in await bot.store.lead_copies()] == [record.id]
    await bot.deliver(utcnow() + timedelta(minutes=10))
    assert not failures
    assert len(edits_to(bot, staff_user.id)) == 3
    note = TEXTS.render("staff/forgotten", "en", lead_id=lead_id)
    assert bot.api.messages[(staff_user.id, copy)]["text"] == note
    await assert_withdrawn(bot, staff_user, outbox_done=True)


async def test_a_copy_staff_deleted_counts_as_withdrawn(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    _, copy = await one_copy(bot, english_user, staff_user)
    del bot.api.messages[(staff_user.id, copy)]

    bot.api.on_call = edits_fail_where_deleted(bot)
    await forget(bot, english_user)
    await bot.deliver()
    assert [int(c.params["message_id"]) for c in edits_to(bot, staff_user.id)] == [copy]
    assert await bot.store.lead_copies() == []
    assert {i.status for i in await bot.store.outbox()} == {"sent"}


async def test_another_leads_copy_is_left_alone(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    await submit_form(bot, OTHER, name="Omar Haddad", email="omar@acme-security.com")
    lead, other = await bot.store.all_leads()
    await bot.send(staff_user, f"/lead {lead.id}")
    await bot.send(staff_user, f"/lead {other.id}")
    [other_copy] = showing(bot, staff_user.id, "omar@acme-security.com")
    await forget(bot, english_user)
    await bot.deliver()
    assert with_details(bot, staff_user) == []
    assert showing(bot, staff_user.id, "omar@acme-security.com") == [other_copy]
    edited = [int(c.params["message_id"]) for c in edits_to(bot, staff_user.id)]
    assert len(edited) == 1 and other_copy not in edited
    [kept] = await bot.store.lead_copies()
    assert (kept.lead_id, kept.message_id, kept.withdrawal_id) == (other.id, other_copy, None)


async def test_retention_withdraws_the_copies_of_the_leads_it_deletes(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    clock = Clock()
    bot: Harness = await make_bot({"privacy": {"retention_days": 30}}, clock=clock)
    clock.now = utcnow() + timedelta(minutes=1)  # the posts below are due
    lead_id = await lead_with_history(bot, english_user)
    await bot.send(staff_user, f"/lead {lead_id}")
    copies = showing(bot, staff_user.id, "Sam Smith")
    assert len(copies) == 2
    clock.now += timedelta(days=31)
    await purge_job(BotContext(application=bot.app))
    assert await bot.store.all_leads() == []
    await bot.deliver()
    note = TEXTS.render("staff/expired", "en", lead_id=lead_id)
    assert [bot.api.messages[(staff_user.id, c)]["text"] for c in copies] == [note, note]
    await assert_withdrawn(bot, staff_user)


# /lead and /forget at once --------------------------------------------------------------


async def test_a_copy_sent_while_the_lead_is_forgotten_is_withdrawn_at_once(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    """/lead read the lead; /forget deletes it, and its withdrawals land, while the copy is
    on its way: the copy is recorded after the withdrawal pass ran, and finds no lead.
    (The deletion saw the copy in flight, so staff were also told it may remain: the one
    false alarm, as a deletion cannot tell a send under way from one that died.)"""
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()

    async def forget_meanwhile(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == staff_user.id:
            bot.api.before_call = None
            await forget(bot, english_user)
            await bot.deliver()

    bot.api.before_call = forget_meanwhile
    await bot.send(staff_user, f"/lead {lead.id}")
    assert await bot.store.all_leads() == []
    made = [
        c
        for c in bot.api.calls
        if c.method == "sendMessage"
        and int(c.params["chat_id"]) == staff_user.id
        and "Sam Smith" in c.params["text"]
    ]
    assert len(made) == 1  # it was made...
    [edit] = edits_to(bot, staff_user.id)  # ...and taken back
    assert edit.params["text"] == TEXTS.render("staff/withdrawn", "en", lead_id=lead.id)
    await assert_withdrawn(bot, staff_user, outbox_done=True)


async def test_forget_between_the_copy_and_its_history_leaves_neither(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id = await lead_with_history(bot, english_user)
    sent: list[str] = []

    async def forget_before_the_history(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            sent.append(call.params["text"])
            if "Earlier submissions of lead" in call.params["text"]:
                bot.api.before_call = None
                await forget(bot, english_user)

    bot.api.before_call = forget_before_the_history
    await bot.send(staff_user, f"/lead {lead_id}", chat_id=STAFF_CHAT)
    assert len(sent) == 2 and all("Sam Smith" in text for text in sent)
    await bot.deliver()
    await assert_withdrawn(bot, staff_user)


async def test_lead_and_forget_at_once_leave_no_copy_with_details(
    make_bot: MakeBot, staff_user: LocalUser
) -> None:
    """Two processes: staff's /lead on one, the partner's /forget on the other, the
    /forget started later and later while the Bot API takes 20 ms to answer /lead."""
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    copies_made = 0

    async def slow(call: ApiCall) -> None:
        await asyncio.sleep(0.02)

    a.api.before_call = slow
    for n, delay in enumerate((0.0, 0.001, 0.003, 0.006, 0.01, 0.02, 0.04)):
        partner = LocalUser(id=1000 + n, first_name="Sam", language_code="en")
        await submit_form(b, partner)
        [lead] = [x for x in await b.store.all_leads() if x.user_id == partner.id]
        await b.send(partner, "/forget")

        async def forget_later(partner: LocalUser = partner, delay: float = delay) -> None:
            await asyncio.sleep(delay)
            await b.press(partner, "forget:yes")

        before = len(a.api.calls)
        await asyncio.gather(a.send(staff_user, f"/lead {lead.id}"), forget_later())
        copies_made += any(
            c.method == "sendMessage" and "Sam Smith" in c.params["text"]
            for c in a.api.calls[before:]
        )
        await a.deliver()  # a's fake Telegram holds the copies: every withdrawal goes there
        assert await b.store.all_leads() == []
        assert with_details(a, staff_user) == []
        assert await a.store.lead_copies() == []
    assert copies_made  # the race did send copies with details, which were all taken back


async def test_a_copy_recorded_while_forget_deletes_its_lead_is_withdrawn(
    bot: Harness,
    english_user: LocalUser,
    staff_user: LocalUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy is recorded inside /forget's transaction: after it read the lead's copies,
    before it deleted the lead and committed. The record waits for the deletion, finds no
    lead, and the copy is withdrawn (on PostgreSQL a plain insert would see the lead)."""
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    sending, in_window = asyncio.Event(), asyncio.Event()
    withdraw_copies = outbox_queries._withdraw_copies

    async def copies_read_then_wait(session: AsyncSession, lead_ids: list[int], note: str) -> None:
        await withdraw_copies(session, lead_ids, note)
        in_window.set()
        await asyncio.sleep(0.3)  # the copy is accepted and recorded meanwhile

    async def copy_waits_for_the_window(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == staff_user.id:
            sending.set()
            await in_window.wait()

    monkeypatch.setattr(outbox_queries, "_withdraw_copies", copies_read_then_wait)
    bot.api.before_call = copy_waits_for_the_window
    await bot.send(english_user, "/forget")
    show = asyncio.create_task(bot.send(staff_user, f"/lead {lead.id}"))
    await sending.wait()  # /lead read the lead and is sending its copy
    await bot.press(english_user, "forget:yes")
    await show
    assert "Sam Smith" in bot.texts(staff_user.id)[0]
    await bot.deliver()
    assert await bot.store.all_leads() == []
    await assert_withdrawn(bot, staff_user)


async def test_without_a_staff_chat_copies_sent_in_private_are_still_withdrawn(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    """Staff may read leads with /lead in private before any staff chat is set: the lead's
    post waits for one, but the copies' withdrawals name their chat and go at once."""
    bot: Harness = await make_bot({"telegram": {"staff_chat_id": None}})
    lead_id = await lead_with_history(bot, english_user)
    await bot.send(staff_user, f"/lead {lead_id}")
    assert len(showing(bot, staff_user.id, "Sam Smith")) == 2
    await forget(bot, english_user)
    await bot.deliver()
    await assert_withdrawn(bot, staff_user)
    assert [i.status for i in await bot.store.outbox()] == ["sent", "sent"]


async def test_without_a_staff_chat_a_relayed_message_waits_with_the_leads(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    """Rows meant for the staff chat stay queued, whatever chat they come from."""
    bot: Harness = await make_bot({"telegram": {"staff_chat_id": None}})
    await submit_form(bot, english_user)
    async with bot.store.session.begin() as session:
        session.add(withdrawal(None, None, 1, "forgotten", unsure_since=utcnow()))
        session.add(OutboxItem(kind="relay_in", user_id=english_user.id, chat_id=english_user.id))
    assert await bot.deliver() == 0
    assert {(i.status, i.attempts) for i in await bot.store.outbox()} == {("pending", 0)}


async def test_a_copy_in_the_private_chat_of_a_staff_member_who_blocked_the_bot_is_named(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    """The bot can no longer edit there: the staff chat is told which copy remains."""
    lead_id, copy = await one_copy(bot, english_user, staff_user)
    await bot.deliver()  # the lead's post

    def blocked(call: ApiCall) -> None:
        if int(call.params.get("chat_id", 0)) == staff_user.id:
            raise Forbidden("Forbidden: bot was blocked by the user")

    bot.api.on_call = blocked
    await forget(bot, english_user)
    await bot.deliver()
    assert showing(bot, staff_user.id, "Sam Smith") == [copy]  # out of the bot's reach
    told = TEXTS.render("staff/forgotten", "en", lead_id=lead_id) + "\n\n"
    told += TEXTS.render("staff/unreachable_copy", "en", lead_id=lead_id, staff_id=staff_user.id)
    assert told in bot.texts(STAFF_CHAT)
    assert {i.status for i in await bot.store.outbox()} == {"sent"}
    assert await bot.store.lead_copies() == []
