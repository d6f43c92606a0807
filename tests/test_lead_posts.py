"""A lead has one live staff post, and that post tells the truth: a new post withdraws the
lead's earlier one (so /forget leaves no details behind), a change made while a post is
being sent is shown on it, a post staff deleted is made again when there is news, and a
staff button racing the partner's /forget cannot bring their details back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from telegram.error import BadRequest

from bot.db.models import Lead, OutboxItem, utcnow
from bot.db.outbox_queries import Claim
from bot.local_api import ApiCall, LocalUser
from bot.outbox import _deliver
from tests.conftest import STAFF_CHAT, Harness, MakeBot
from tests.test_delivery_stuck import FAST_RETRIES, passes, staff_chat_down
from tests.test_lead_form import find_button, form_steps, run_steps, submit_form


async def deliver_claim(bot: Harness, claim: Claim, now: datetime) -> None:
    """One leased row delivered, as a delivery pass does."""
    await _deliver(bot.app.bot, bot.services, claim, now)


def shown(bot: Harness, needle: str) -> list[int]:
    """The staff-chat messages that show ``needle`` now."""
    return [
        message_id
        for (chat, message_id), message in bot.api.messages.items()
        if chat == STAFF_CHAT and needle in message.get("text", "")
    ]


async def forget(bot: Harness, user: LocalUser) -> None:
    await bot.send(user, "/forget")
    await bot.press(user, "forget:yes")


async def test_a_new_post_withdraws_the_leads_earlier_one_and_forget_leaves_none(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    [first] = shown(bot, "sam@acme-security.com")
    await submit_form(bot, english_user, organisation="Acme Security Group")  # posted again
    await bot.deliver()  # the withdrawal that recording the new post queued
    [second] = shown(bot, "sam@acme-security.com")
    assert second != first
    assert shown(bot, "newer post") == [first]  # staff see why the first lost its details
    await forget(bot, english_user)
    await bot.deliver()
    assert shown(bot, "sam@acme-security.com") == []


async def test_a_staff_edit_racing_forget_cannot_restore_the_details(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is not None
    post = bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]

    async def forget_lands_first(call: ApiCall) -> None:
        if call.method == "editMessageText" and "Sam Smith" in call.params["text"]:
            bot.api.before_call = None
            await forget(bot, english_user)
            await bot.deliver()  # the withdrawal lands before the staff edit

    bot.api.before_call = forget_lands_first
    await bot.send_update(bot.updates.press(staff_user, post, f"lead:claim:{lead.id}"))
    assert await bot.store.all_leads() == []
    assert shown(bot, "Sam Smith") == []


async def test_news_reaches_staff_after_they_deleted_the_post(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is not None
    del bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]  # staff deleted the post

    def telegram(call: ApiCall) -> None:
        key = (int(call.params.get("chat_id", 0)), int(call.params.get("message_id", 0)))
        if call.method == "editMessageText" and key not in bot.api.messages:
            raise BadRequest("Message to edit not found")

    bot.api.on_call = telegram
    await submit_form(bot, english_user, message="Please call me now.")
    await bot.deliver()
    [post] = shown(bot, "Please call me now.")
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id == post
    assert [item.status for item in await bot.store.outbox()] == ["sent", "sent"]


async def test_a_repeat_confirmed_while_the_post_is_sent_is_shown_on_it(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, [*form_steps("en"), ("press", "form:confirm")])
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps("en", role="Chief Security Officer"))
    message, data = find_button(bot.api, english_user.id, "form:confirm")

    async def confirm_meanwhile(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            bot.api.before_call = None
            await bot.send_update(bot.updates.press(english_user, message, data))

    bot.api.before_call = confirm_meanwhile
    await bot.deliver()  # the post, made from the first submission
    assert shown(bot, "Chief Security Officer") == []
    await bot.deliver()  # the refresh its recording queued
    [lead] = await bot.store.all_leads()
    assert lead.role == "Chief Security Officer"
    assert shown(bot, "Chief Security Officer") == [lead.staff_message_id]


async def test_a_repeat_while_the_post_is_stuck_is_posted_once_after_retry(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot = await make_bot(FAST_RETRIES)
    bot.api.on_call = staff_chat_down
    await submit_form(bot, english_user)
    await passes(bot, 4)  # stuck
    await submit_form(bot, english_user, role="CISO")
    bot.api.on_call = None
    await bot.deliver(utcnow() + timedelta(minutes=10))
    await bot.send(staff_user, "/retry")
    await bot.deliver(utcnow() + timedelta(minutes=20))
    [post] = shown(bot, "lead #1")
    assert post == shown(bot, "CISO")[0]  # the one post shows the repeat's values


async def test_a_refresh_that_edited_an_old_post_withdraws_it_again(
    bot: Harness, english_user: LocalUser
) -> None:
    """Two processes deliver: one refreshes the lead's post while the other records a newer
    one. The edit brought the old post's details back; recording it takes them away."""
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is not None
    old_post = lead.staff_message_id
    async with bot.store.session.begin() as session:
        session.add(OutboxItem(lead_id=lead.id, kind="refresh"))
    now = utcnow()
    [claim] = await bot.store.claim_due(now, timedelta(seconds=60))

    async def newer_post_recorded(call: ApiCall) -> None:
        if call.method == "editMessageText":
            bot.api.before_call = None
            async with bot.store.session.begin() as session:  # the other process's post
                await session.execute(
                    update(Lead).where(Lead.id == lead.id).values(staff_message_id=old_post + 1000)
                )

    bot.api.before_call = newer_post_recorded
    await deliver_claim(bot, claim, now)
    await bot.deliver()
    assert "newer post" in bot.api.messages[(STAFF_CHAT, old_post)]["text"]
    assert "sam@acme-security.com" not in bot.api.messages[(STAFF_CHAT, old_post)]["text"]
