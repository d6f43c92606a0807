"""A forum staff chat: a topic per partner, closed and reopened; /forget deletes it.
Idle conversations close by themselves; the weekly digest is posted once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.local_api import ApiCall, LocalUser
from bot.relay.jobs import digest_job, idle_close_job
from tests.conftest import STAFF_CHAT, Clock, Harness, MakeBot
from tests.relay_helpers import TEXTS, deliver_all, partner_sends, partner_writes, relay_rows
from tests.test_staff_posts import add_lead


def calls(bot: Harness, method: str) -> list[ApiCall]:
    return [c for c in bot.api.calls if c.method == method]


async def in_topic(bot: Harness, user: LocalUser, thread: int, text: str) -> None:
    """A message written in a forum topic of the staff chat."""
    fields: dict[str, Any] = {"text": text, "message_thread_id": thread, "is_topic_message": True}
    if text.startswith("/"):
        fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    await bot.send_update(bot.updates.message(user, STAFF_CHAT, **fields))


async def run_job(bot: Harness, callback: Any) -> None:
    assert bot.app.job_queue is not None
    job = bot.app.job_queue.run_once(callback, when=3600)
    await job.run(bot.app)
    job.schedule_removal()


async def test_each_partner_gets_a_topic_that_closes_and_reopens(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot.api.forum_chats.add(STAFF_CHAT)  # relay.forum: auto asks getChat
    lead = await add_lead(bot, user_id=english_user.id, organisation="Acme <Security>")
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "Hello from Acme")
    await deliver_all(bot)
    [create] = calls(bot, "createForumTopic")
    assert create.params["name"] == "Sam · Acme <Security> · EN"
    [thread] = [t for (chat, t) in bot.api.topics if chat == STAFF_CHAT]
    head = calls(bot, "sendMessage")[-1]
    assert head.params["message_thread_id"] == thread
    assert "<b>Organisation:</b> Acme &lt;Security&gt;" in head.params["text"]
    assert f"<b>Lead:</b> #{lead.id} · 🆕 New" in head.params["text"]
    assert "write in this topic" in head.params["text"]
    [copy] = calls(bot, "copyMessage")
    assert copy.params["message_thread_id"] == thread and "caption" not in copy.params

    await in_topic(bot, staff_user, thread, "Welcome, Sam")
    await in_topic(bot, staff_user, thread, "/close")
    await deliver_all(bot)
    [answer] = [c for c in partner_sends(bot, english_user) if c.method == "copyMessage"]
    assert int(answer.params["from_chat_id"]) == STAFF_CHAT
    assert bot.api.topics[(STAFF_CHAT, thread)] == "closed"
    assert bot.last_text(english_user.id) == TEXTS.render("relay/closed", "en")

    await bot.press(english_user, "talk:open:en")
    await partner_writes(bot, english_user, "Back again")
    await deliver_all(bot)
    assert len(calls(bot, "createForumTopic")) == 1  # the same topic, reopened
    assert bot.api.topics[(STAFF_CHAT, thread)] == "open"
    reopened = [c for c in calls(bot, "sendMessage") if "Conversation reopened" in c.params["text"]]
    assert reopened[0].params["message_thread_id"] == thread
    assert calls(bot, "copyMessage")[-1].params["message_thread_id"] == thread

    await bot.send(english_user, "/forget")
    await bot.press(english_user, "forget:yes")
    await deliver_all(bot)
    [delete] = calls(bot, "deleteForumTopic")
    assert int(delete.params["message_thread_id"]) == thread
    assert (STAFF_CHAT, thread) not in bot.api.topics


async def test_a_forum_set_in_config_needs_no_getchat(
    make_bot: MakeBot, arabic_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"relay": {"forum": True}, "telegram": {"staff_language": "ar"}})
    await bot.send(arabic_user, "/contact")
    await deliver_all(bot)
    assert calls(bot, "getChat") == []
    [create] = calls(bot, "createForumTopic")
    assert create.params["name"] == "سارة · ع"
    assert "اكتبوا في هذا الموضوع" in calls(bot, "sendMessage")[-1].params["text"]


async def test_an_idle_conversation_closes_by_itself_and_the_partner_is_told(
    make_bot: MakeBot, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    clock = Clock()
    bot: Harness = await make_bot({"relay": {"idle_close_hours": 48}}, clock=clock)
    await bot.send(english_user, "/contact")
    clock.now += timedelta(hours=47)
    await bot.send(arabic_user, "/contact")
    await deliver_all(bot)
    clock.now += timedelta(hours=2)
    await run_job(bot, idle_close_job)
    await deliver_all(bot)
    assert bot.last_text(english_user.id) == TEXTS.render("relay/idle_closed", "en", hours=48)
    assert "after 48 hours without messages" in bot.last_text(english_user.id)
    assert "closed after 48 hours" in bot.last_text(STAFF_CHAT)
    assert (await bot.store.user_state(arabic_user.id)).relay_open  # wrote 2 hours ago
    assert not (await bot.store.user_state(english_user.id)).relay_open
    await partner_writes(bot, english_user, "what is expert secondment?")
    assert "Expert" in bot.last_text(english_user.id)


async def test_the_weekly_digest_is_posted_once(make_bot: MakeBot, english_user: LocalUser) -> None:
    clock = Clock()
    bot: Harness = await make_bot(clock=clock)
    other: Harness = await make_bot(clock=clock)
    await add_lead(bot, status="new")
    await add_lead(bot, status="claimed", user_id=303)
    await bot.send(english_user, "zxqv plorf")  # unanswered
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "Is anyone there?")
    await deliver_all(bot)
    clock.now += timedelta(hours=5)
    await run_job(bot, digest_job)
    await run_job(other, digest_job)  # a second process on the same day
    assert [i.kind for i in await relay_rows(bot)].count("relay_digest") == 1
    await deliver_all(bot)
    digest = bot.last_text(STAFF_CHAT)
    assert digest.startswith("📰 <b>Weekly digest</b>")
    assert "🆕 New: 1\n🙋 Claimed: 1" in digest
    assert "<b>Waiting for a staff reply</b>\nSam · @sam: 5 hours" in digest
    assert "1× zxqv plorf" in digest


async def test_forget_while_the_topic_is_made_leaves_no_topic(
    bot: Harness, english_user: LocalUser
) -> None:
    bot.api.forum_chats.add(STAFF_CHAT)
    await add_lead(bot, user_id=english_user.id)
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "Hello")

    async def meanwhile(call: ApiCall) -> None:
        # The partner forgets themselves while the topic named after them is being made.
        if call.method == "createForumTopic":
            bot.api.before_call = None
            await bot.send(english_user, "/forget")
            await bot.press(english_user, "forget:yes")

    bot.api.before_call = meanwhile
    await deliver_all(bot)
    await deliver_all(bot)  # the withdrawal queued meanwhile
    assert [t for (chat, t) in bot.api.topics if chat == STAFF_CHAT] == []
