"""A staff post the bot never learnt the id of: it cannot be withdrawn, so when its lead is
deleted (/forget, retention) the note asks staff to delete it. Such a post comes from a send
that ended with no outcome: the process died after Telegram accepted it, or the answer was
lost (a timeout after acceptance). A post whose lease was lost while it was made is known
and recorded as a copy, which is withdrawn with the lead."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.db.models import OutboxItem, utcnow
from bot.local_api import ApiCall, LocalUser
from bot.outbox import _deliver
from tests.conftest import STAFF_CHAT, Harness, MakeBot
from tests.test_lead_copies import edits_fail_where_deleted, showing
from tests.test_lead_form import TEXTS, form_steps, run_steps
from tests.test_lead_posts import forget, shown

EMAIL = "sam@acme-security.com"


class Crash(BaseException):
    """The process dying: nothing after it runs (no ``except Exception`` catches it)."""


async def confirm_form(bot: Harness, user: LocalUser) -> None:
    """/apply, every step and Confirm: the lead's post is queued, not yet delivered."""
    await bot.send(user, "/apply")
    await run_steps([bot], user, [*form_steps("en"), ("press", "form:confirm")])


def note(lead_id: int, since: datetime | None) -> str:
    text = TEXTS.render("staff/forgotten", "en", lead_id=lead_id)
    if since is None:
        return text
    when = since.strftime("%Y-%m-%d %H:%M UTC")
    return text + "\n\n" + TEXTS.render("staff/unsure_post", "en", lead_id=lead_id, since=when)


async def post_then_die(bot: Harness, user: LocalUser) -> None:
    """The lead's post is made, and the process dies right after Telegram accepted it."""
    await confirm_form(bot, user)

    async def die(*args: object, **kwargs: object) -> None:
        raise Crash

    bot.store.mark_sent = die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await bot.deliver()


async def lapse_leases(bot: Harness) -> None:
    """Every lease runs out now (they run on the database's clock, not the test's)."""
    async with bot.store.session.begin() as session:
        await session.execute(update(OutboxItem).values(locked_until=utcnow() - timedelta(1)))


async def test_a_post_made_just_before_a_crash_is_named_when_its_lead_is_forgotten(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    await post_then_die(a, english_user)
    assert len(shown(a, EMAIL)) == 1  # posted; the bot never recorded where
    [lead] = await a.store.all_leads()
    assert (lead.staff_message_id, lead.unsure_since) == (None, None)
    await a.app.shutdown()

    b: Harness = await make_bot()
    await lapse_leases(b)
    assert await b.deliver() == 1  # the post is made again, and that one is recorded
    [lead] = await b.store.all_leads()
    assert lead.staff_message_id is not None and lead.unsure_since is not None
    await forget(b, english_user)
    await b.deliver()
    assert shown(b, EMAIL) == []
    assert b.api.messages[(STAFF_CHAT, lead.staff_message_id)]["text"] == note(
        lead.id, lead.unsure_since
    )


async def test_a_post_whose_answer_was_lost_is_named_when_its_lead_is_forgotten(
    bot: Harness, english_user: LocalUser
) -> None:
    await confirm_form(bot, english_user)
    bot.api.fail_next("sendMessage", "lost_reply")  # the staff post: accepted, then a timeout
    assert await bot.deliver() == 0
    [first] = shown(bot, EMAIL)
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is None and lead.unsure_since is not None
    [item] = await bot.store.outbox()
    assert (item.status, item.sending_since) == ("pending", None)
    await bot.deliver(utcnow() + timedelta(minutes=5))  # the retry: a second post, recorded
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id not in (None, first)
    assert sorted(shown(bot, EMAIL)) == sorted([first, lead.staff_message_id])
    await forget(bot, english_user)
    await bot.deliver()
    # The one the bot knows is withdrawn and says what remains; the first it cannot reach.
    assert shown(bot, EMAIL) == [first]
    assert bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]["text"] == note(
        lead.id, lead.unsure_since
    )


async def test_without_a_known_post_the_note_is_a_message_of_its_own(
    bot: Harness, english_user: LocalUser
) -> None:
    await confirm_form(bot, english_user)
    bot.api.fail_next("sendMessage", "lost_reply")
    await bot.deliver()
    [lead] = await bot.store.all_leads()
    await forget(bot, english_user)  # before the retry: no post the bot knows of
    await bot.deliver()
    [sent] = [c for c in bot.staff_posts() if c.params["text"].startswith("🗑")]
    assert sent.params["text"] == note(lead.id, lead.unsure_since)
    assert "reply_markup" not in sent.params
    assert {i.status for i in await bot.store.outbox()} == {"sent"}


async def test_a_clean_send_leaves_no_doubt(bot: Harness, english_user: LocalUser) -> None:
    """Refused outright (a 429, a wrong chat) is no doubt: Telegram made nothing."""
    await confirm_form(bot, english_user)
    bot.api.fail_next("sendMessage", "retry_after", retry_after=1)
    await bot.deliver()
    await bot.deliver(utcnow() + timedelta(minutes=1))
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is not None and lead.unsure_since is None
    await forget(bot, english_user)
    await bot.deliver()
    assert bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]["text"] == note(lead.id, None)


async def test_a_post_made_after_its_lease_was_lost_is_withdrawn_with_its_lead(
    bot: Harness, english_user: LocalUser
) -> None:
    """A worker whose lease lapsed mid-send knows its post's id: the worker that took the
    row over posts again, and the first post is recorded as a copy of the lead."""
    await confirm_form(bot, english_user)
    now = utcnow()
    [mine] = await bot.store.claim_due(now, timedelta(seconds=30))
    taken: list[object] = []

    async def taken_over_meanwhile(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            bot.api.before_call = None
            await lapse_leases(bot)
            taken.extend(await bot.store.claim_due(now, timedelta(seconds=30)))

    bot.api.before_call = taken_over_meanwhile
    await _deliver(bot.app.bot, bot.services, mine, now)
    [other] = taken
    [copy] = await bot.store.lead_copies()
    await _deliver(bot.app.bot, bot.services, other, now)  # type: ignore[arg-type]
    [lead] = await bot.store.all_leads()
    assert sorted(shown(bot, EMAIL)) == sorted([copy.message_id, lead.staff_message_id])
    await forget(bot, english_user)
    await bot.deliver()
    assert shown(bot, EMAIL) == []
    assert await bot.store.lead_copies() == []


async def test_a_crash_then_forget_before_the_retry_still_tells_staff(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    """The crash is noticed at the row's next send; deleted before that, the row itself
    says a post was in flight."""
    a: Harness = await make_bot()
    await post_then_die(a, english_user)
    await a.app.shutdown()
    b: Harness = await make_bot()
    await forget(b, english_user)
    await b.deliver()
    [sent] = [c for c in b.staff_posts() if c.params["text"].startswith("🗑")]
    assert TEXTS.render("staff/forgotten", "en", lead_id=1) in sent.params["text"]
    assert "may have been made" in sent.params["text"]


async def test_the_note_reaches_staff_when_they_deleted_the_known_post(
    bot: Harness, english_user: LocalUser
) -> None:
    await confirm_form(bot, english_user)
    bot.api.fail_next("sendMessage", "lost_reply")
    await bot.deliver()
    await bot.deliver(utcnow() + timedelta(minutes=5))
    [lead] = await bot.store.all_leads()
    assert lead.staff_message_id is not None
    del bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]  # staff deleted it
    bot.api.on_call = edits_fail_where_deleted(bot)
    await forget(bot, english_user)
    await bot.deliver()
    [sent] = [c for c in bot.staff_posts() if c.params["text"].startswith("🗑")]
    assert sent.params["text"] == note(lead.id, lead.unsure_since)


async def test_an_edit_that_timed_out_leaves_no_doubt(
    bot: Harness, english_user: LocalUser
) -> None:
    """Only a new post can be made unrecorded: a refresh's edit that timed out cannot."""
    await confirm_form(bot, english_user)
    await bot.deliver()
    async with bot.store.session.begin() as session:
        session.add(OutboxItem(lead_id=1, kind="refresh"))
    bot.api.fail_next("editMessageText", "network")
    await bot.deliver()
    [lead] = await bot.store.all_leads()
    assert lead.unsure_since is None
    assert [i.last_error for i in await bot.store.outbox() if i.kind == "refresh"] == [
        "NetworkError"
    ]


# /lead's copies: each is recorded before it is sent, and given its id once accepted.


async def copy_sent(
    bot: Harness, english_user: LocalUser, staff: LocalUser, kind: str, chat_id: int | None = None
) -> int:
    """A lead with its post delivered, and a /lead (in private, or in ``chat_id``) whose
    copy fails as ``kind``; the lead's id."""
    await confirm_form(bot, english_user)
    await bot.deliver()
    [lead] = await bot.store.all_leads()
    bot.api.fail_next("sendMessage", kind)
    await bot.send(staff, f"/lead {lead.id}", chat_id=chat_id)
    return lead.id


def lead_post(bot: Harness) -> str:
    [post] = [message for (chat, _), message in bot.api.messages.items() if chat == STAFF_CHAT]
    return str(post["text"])


async def test_a_copy_whose_answer_was_lost_is_named_in_its_chat_when_its_lead_is_forgotten(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    """The copy went to a staff member's private chat: the note goes there too, where
    staff will find the copy, and the lead's post says nothing of it."""
    lead_id = await copy_sent(bot, english_user, staff_user, "lost_reply")
    [copy] = showing(bot, staff_user.id, EMAIL)  # Telegram made it; the bot never learnt its id
    [record] = await bot.store.lead_copies()
    assert record.message_id is None
    await forget(bot, english_user)
    await bot.deliver()
    assert showing(bot, staff_user.id, EMAIL) == [copy]  # out of the bot's reach, so named:
    assert bot.texts(staff_user.id)[-1] == note(lead_id, record.created_at)
    assert lead_post(bot) == note(lead_id, None)
    assert await bot.store.lead_copies() == []


async def test_a_lost_copy_in_the_staff_chat_is_named_on_the_leads_post(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id = await copy_sent(bot, english_user, staff_user, "lost_reply", chat_id=STAFF_CHAT)
    assert len(shown(bot, EMAIL)) == 2  # the lead's post and the copy
    [record] = await bot.store.lead_copies()
    await forget(bot, english_user)
    await bot.deliver()
    notes = [text for text in bot.texts(STAFF_CHAT) if text.startswith("🗑")]
    assert notes == [note(lead_id, record.created_at)]  # one note, on the post
    assert len(shown(bot, EMAIL)) == 1


async def test_a_copy_made_just_before_a_crash_is_named_when_its_lead_is_forgotten(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    await confirm_form(a, english_user)
    await a.deliver()
    [lead] = await a.store.all_leads()

    async def die(*args: object, **kwargs: object) -> bool:
        raise Crash

    a.store.finish_copy = die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await a.send(staff_user, f"/lead {lead.id}")
    assert len(showing(a, staff_user.id, EMAIL)) == 1
    await a.app.shutdown()

    b: Harness = await make_bot()
    await forget(b, english_user)
    await b.deliver()
    [named] = b.texts(staff_user.id)  # where the copy was sent
    assert named.startswith(TEXTS.render("staff/forgotten", "en", lead_id=lead.id))
    assert "may have been made" in named
    assert await b.store.lead_copies() == []


@pytest.mark.parametrize("kind", ["blocked", "retry_after"])
async def test_a_copy_telegram_refused_leaves_no_doubt(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser, kind: str
) -> None:
    lead_id = await copy_sent(bot, english_user, staff_user, kind)
    assert showing(bot, staff_user.id, EMAIL) == []
    assert await bot.store.lead_copies() == []
    await forget(bot, english_user)
    await bot.deliver()
    assert lead_post(bot) == note(lead_id, None)


async def test_a_send_that_never_reached_telegram_is_retried_soon_without_doubt(
    bot: Harness, english_user: LocalUser, caplog: pytest.LogCaptureFixture
) -> None:
    """No connection could be made: nothing was posted, and it is network trouble, not a
    wrong staff chat."""
    await confirm_form(bot, english_user)
    bot.api.fail_next("sendMessage", "unreachable")
    now = utcnow()
    assert await bot.deliver(now) == 0
    assert shown(bot, EMAIL) == []
    [item] = await bot.store.outbox()
    assert item.status == "pending" and item.next_attempt_at <= now + timedelta(seconds=5)
    assert "staff_chat_id" not in caplog.text
    [lead] = await bot.store.all_leads()
    assert lead.unsure_since is None
    await bot.deliver(now + timedelta(seconds=5))
    assert len(shown(bot, EMAIL)) == 1


async def test_a_note_for_a_post_in_a_former_staff_chat_goes_to_todays(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    """The post was in the chat staff_chat_id named then: the note goes where staff are now."""
    a: Harness = await make_bot()
    await confirm_form(a, english_user)
    a.api.fail_next("sendMessage", "lost_reply")
    await a.deliver()
    await a.deliver(utcnow() + timedelta(minutes=5))  # the post the bot knows, in STAFF_CHAT
    [lead] = await a.store.all_leads()
    assert lead.staff_chat_id == STAFF_CHAT and lead.unsure_since is not None
    today = -100777
    b: Harness = await make_bot({"telegram": {"staff_chat_id": today}})
    b.api.on_call = edits_fail_where_deleted(b)  # b's Telegram has no such post
    await forget(b, english_user)
    await b.deliver()
    assert b.texts(today) == [note(lead.id, lead.unsure_since)]
    sent = [int(c.params["chat_id"]) for c in b.api.calls if c.method == "sendMessage"]
    assert [chat for chat in sent if chat != english_user.id] == [today]
