"""Bans, /forget with an open conversation, and "Talk to our team" after a confirmed lead."""

from __future__ import annotations

from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness
from tests.relay_helpers import (
    TEXTS,
    deliver_all,
    newest_staff_message,
    partner_writes,
    relay_rows,
    staff_replies,
    staff_sends,
)
from tests.test_lead_form import submit_form


async def test_a_banned_partner_is_dropped_silently_until_unbanned(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "buy my crypto course")
    await deliver_all(bot)
    await staff_replies(bot, staff_user, newest_staff_message(bot), text="/ban spam")
    assert bot.last_text(STAFF_CHAT) == TEXTS.render(
        "staff/relay/result", "en", what="banned", user_id=101
    )
    await deliver_all(bot)
    assert "Banned by Staff (@staffer)" in staff_sends(bot)[-1].params["text"]

    rows = len(await relay_rows(bot))
    for message in ("hello?", "/contact", "/start", "what is expert secondment?"):
        before = len(bot.api.calls)
        await partner_writes(bot, english_user, message)
        assert bot.api.calls[before:] == []  # no answer of any kind
    calls = await bot.press(english_user, "talk:back:en")
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert "text" not in calls[0].params
    assert len(await relay_rows(bot)) == rows  # nothing reached staff
    await bot.send(english_user, "/privacy")  # privacy rights stay
    assert "Privacy notice" in bot.last_text(english_user.id)
    await bot.send(english_user, "/forget")
    await bot.press(english_user, "forget:yes")
    forgotten = bot.last_text(english_user.id)  # told the truth: the ban stays
    assert "We keep one thing: your Telegram user number" in forgotten
    assert "Nothing about you remains" not in forgotten
    assert [ban.user_id for ban in await bot.store.bans()] == [101]

    await bot.send(staff_user, "/stats", chat_id=STAFF_CHAT)
    stats = bot.last_text(STAFF_CHAT)
    assert "<b>Banned from writing to staff</b>\n<code>101</code>" in stats
    assert "Staff (@staffer): spam" in stats

    await bot.send(staff_user, "/unban 101", chat_id=STAFF_CHAT)
    assert bot.last_text(STAFF_CHAT) == "✅ User 101 is no longer banned."
    await partner_writes(bot, english_user, "what is expert secondment?")
    assert "Expert" in bot.last_text(english_user.id)
    await bot.send(staff_user, "/unban 101", chat_id=STAFF_CHAT)
    assert bot.last_text(STAFF_CHAT) == "User 101 is not banned."


async def test_the_ban_button_bans_and_ban_needs_a_reason(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await deliver_all(bot)
    await bot.send(staff_user, "/ban 101", chat_id=STAFF_CHAT)
    assert bot.last_text(STAFF_CHAT).startswith("In a partner's topic")
    assert await bot.store.bans() == []
    calls = await bot.press(staff_user, "relay:ban:101", chat_id=STAFF_CHAT)
    assert [c.params["text"] for c in calls if c.method == "answerCallbackQuery"] == [
        "Banned: their messages no longer reach staff."
    ]
    [ban] = await bot.store.bans()
    assert (ban.user_id, ban.banned_by) == (101, "Staff (@staffer)")
    assert not (await bot.store.user_state(101)).relay_open


async def test_forget_with_an_open_conversation_deletes_its_cards(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "my phone is +962 79 123 4567")
    await deliver_all(bot)
    await staff_replies(bot, staff_user, newest_staff_message(bot), text="Thanks, we will call")
    await deliver_all(bot)
    cards = sorted(k[1] for k in bot.api.messages if k[0] == STAFF_CHAT)
    assert len(cards) == 2  # the first message and the partner's card
    await partner_writes(bot, english_user, "and my email is sam@example.org")  # not yet sent

    await bot.send(english_user, "/forget")
    await bot.press(english_user, "forget:yes")
    assert await bot.store.conversation(english_user.id) is None
    assert not (await bot.store.user_state(english_user.id)).relay_open
    [drop] = [i for i in await relay_rows(bot) if i.status == "pending"]
    assert drop.kind == "relay_drop"
    await deliver_all(bot)
    [delete] = [c for c in bot.api.calls if c.method == "deleteMessages"]
    staff_reply = delete.params["message_ids"][-1]  # the staff member's answer goes too
    assert sorted(delete.params["message_ids"]) == sorted([*cards, staff_reply])
    assert not [k for k in bot.api.messages if k[0] == STAFF_CHAT]
    assert "sam@example.org" not in str([i.payload for i in await bot.store.outbox()])


async def test_the_thanks_after_a_confirmed_lead_offers_a_person(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await submit_form(bot, arabic_user, "ar")
    assert [b for row in bot.last_buttons(arabic_user.id) for b in row] == [
        ("💬 التحدث مع فريقنا", "talk:open:ar")
    ]


async def test_retention_purges_old_conversations_with_their_cards(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from bot.db.models import RelayConversation, utcnow

    for user in (english_user, arabic_user):
        await bot.send(user, "/contact")
        await partner_writes(bot, user, "hello")
    await deliver_all(bot)
    old = utcnow() - timedelta(days=400)
    async with bot.store.session.begin() as session:
        await session.execute(
            update(RelayConversation)
            .where(RelayConversation.user_id == english_user.id)
            .values(last_activity_at=old)
        )
    counts = await bot.store.purge_before(utcnow() - timedelta(days=365))
    assert counts["conversations"] == 1
    assert await bot.store.conversation(english_user.id) is None
    assert await bot.store.conversation(arabic_user.id) is not None
    await deliver_all(bot)
    [delete] = [c for c in bot.api.calls if c.method == "deleteMessages"]
    assert len(delete.params["message_ids"]) == 2  # the English partner's two cards only
    assert len([k for k in bot.api.messages if k[0] == STAFF_CHAT]) == 2
