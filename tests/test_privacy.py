"""/privacy, /forget and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select, update

from bot.app import purge_job
from bot.context import BotContext
from bot.db.models import FormState, Lead, OutboxItem, UnansweredQuestion, UserProfile, utcnow
from bot.local_api import ApiCall, LocalUser
from tests.conftest import STAFF_CHAT, Harness
from tests.test_delivery_leases import is_staff_post
from tests.test_lead_form import TEXTS, form_steps, run_steps, submit_form

OTHER = LocalUser(id=303, first_name="Omar", language_code="en", username="omar")


async def _rows(bot: Harness, user_id: int) -> dict[str, int]:
    """How many rows of each kind the database holds about ``user_id``."""
    async with bot.store.session() as session:
        lead_ids = select(Lead.id).where(Lead.user_id == user_id)

        async def count(query: Select[Any]) -> int:
            return len((await session.scalars(query)).all())

        return {
            "leads": await count(select(Lead.id).where(Lead.user_id == user_id)),
            "outbox": await count(select(OutboxItem.id).where(OutboxItem.lead_id.in_(lead_ids))),
            "forms": await count(select(FormState.user_id).where(FormState.user_id == user_id)),
            "questions": await count(
                select(UnansweredQuestion.id).where(UnansweredQuestion.user_id == user_id)
            ),
            "profiles": await count(
                select(UserProfile.user_id).where(UserProfile.user_id == user_id)
            ),
        }


async def test_privacy_notice_in_both_languages(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    await bot.send(english_user, "/privacy")
    text = bot.last_text(english_user.id)
    assert text.startswith("<b>Privacy notice</b>")
    assert "after 365 days" in text and "/forget" in text
    await bot.send(arabic_user, "/privacy")
    assert bot.last_text(arabic_user.id) == TEXTS.render("privacy", "ar", retention_days=365)
    assert "365" in bot.last_text(arabic_user.id)


async def _user_with_everything(bot: Harness, user: LocalUser, lang: str = "en") -> None:
    """A submitted lead, a second open form, an unanswered question and a profile."""
    await bot.send(user, "/start spring-campaign")
    await submit_form(bot, user, lang, email=f"user{user.id}@acme-security.com")
    await bot.send(user, "price of solana today" if lang == "en" else "كم سعر البيتكوين اليوم")
    await bot.send(user, "/apply")
    await run_steps([bot], user, form_steps(lang)[:2])


async def test_forget_deletes_every_row_of_that_user_only(
    bot: Harness, english_user: LocalUser
) -> None:
    await _user_with_everything(bot, english_user)
    await _user_with_everything(bot, OTHER)
    before_other = await _rows(bot, OTHER.id)
    assert all(before_other.values()), before_other
    assert all((await _rows(bot, english_user.id)).values())

    lead, other_lead = await bot.store.all_leads()
    assert lead.user_id == english_user.id
    assert lead.staff_message_id is not None and other_lead.staff_message_id is not None
    await bot.send(english_user, "/forget")
    assert bot.last_text(english_user.id) == TEXTS.render("forget_confirm", "en")
    assert await bot.store.all_leads() != []  # nothing deleted before confirming
    await bot.press(english_user, "forget:yes")
    await bot.deliver()  # the withdrawal /forget queued
    text = bot.last_text(english_user.id)
    assert text == TEXTS.render(
        "forgotten", "en", counts={"leads": 1, "forms": 1, "questions": 1, "ban_kept": 0}
    )
    assert "deleted your partnership request, your unfinished form, your stored questions" in text
    assert "Nothing about you remains" in text
    assert await _rows(bot, english_user.id) == dict.fromkeys(before_other, 0)
    assert await _rows(bot, OTHER.id) == before_other
    # The confirmation's buttons were removed, so it cannot be pressed twice by mistake.
    assert any(c.method == "editMessageReplyMarkup" for c in bot.api.calls)
    # The staff chat's copy of the lead no longer shows the person's details.
    [edit] = [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT
    ]
    assert int(edit.params["message_id"]) == lead.staff_message_id
    assert edit.params["text"] == TEXTS.render("staff/forgotten", "en", lead_id=lead.id)
    assert "reply_markup" not in edit.params
    post = bot.api.messages[(STAFF_CHAT, lead.staff_message_id)]
    assert "user101@acme-security.com" not in post["text"] and "reply_markup" not in post
    other_post = bot.api.messages[(STAFF_CHAT, other_lead.staff_message_id)]
    assert "user303@acme-security.com" in other_post["text"]


async def test_forget_in_arabic(bot: Harness, arabic_user: LocalUser) -> None:
    await _user_with_everything(bot, arabic_user, "ar")
    await bot.send(arabic_user, "/forget")
    await bot.press(arabic_user, "forget:yes")
    assert "حذفنا" in bot.last_text(arabic_user.id)
    assert not any((await _rows(bot, arabic_user.id)).values())


async def test_keep_my_data_deletes_nothing(bot: Harness, english_user: LocalUser) -> None:
    await _user_with_everything(bot, english_user)
    before = await _rows(bot, english_user.id)
    await bot.send(english_user, "/forget")
    await bot.press(english_user, "Keep my data")
    assert bot.last_text(english_user.id) == TEXTS.render("forget_kept", "en")
    assert await _rows(bot, english_user.id) == before


async def test_purge_before_removes_old_rows_only(bot: Harness, english_user: LocalUser) -> None:
    await _user_with_everything(bot, english_user)
    await _user_with_everything(bot, OTHER)
    old = utcnow() - timedelta(days=400)
    async with bot.store.session.begin() as session:
        await session.execute(update(Lead).where(Lead.user_id == OTHER.id).values(updated_at=old))
        await session.execute(
            update(FormState).where(FormState.user_id == OTHER.id).values(updated_at=old)
        )
        await session.execute(
            update(UnansweredQuestion)
            .where(UnansweredQuestion.user_id == OTHER.id)
            .values(created_at=old)
        )
    before = await _rows(bot, english_user.id)
    counts = await bot.store.purge_before(utcnow() - timedelta(days=365))
    assert counts == {"leads": 1, "conversations": 0, "forms": 1, "questions": 1}
    assert await _rows(bot, english_user.id) == before
    left = await _rows(bot, OTHER.id)
    assert (left["leads"], left["outbox"], left["forms"], left["questions"]) == (0, 0, 0, 0)
    assert await bot.store.purge_before(utcnow() - timedelta(days=365)) == {
        "leads": 0,
        "conversations": 0,
        "forms": 0,
        "questions": 0,
    }


async def test_retention_and_delivery_run_on_a_schedule(bot: Harness) -> None:
    """The purge and the outbox poll are JobQueue jobs, so they run while the bot runs."""
    assert bot.app.job_queue is not None
    jobs = {job.name: job for job in bot.app.job_queue.jobs()}
    assert {"purge_job", "delivery_job"} <= set(jobs)


async def test_purge_job_deletes_personal_data_past_retention(
    make_bot: Any, english_user: LocalUser
) -> None:
    from tests.conftest import Clock

    clock = Clock()
    bot = await make_bot({"privacy": {"retention_days": 30}}, clock=clock)
    await bot.send(english_user, "price of gold today")  # stored as unanswered
    await bot.send(english_user, "/apply")  # a form state
    clock.now += timedelta(days=31)
    await purge_job(BotContext(application=bot.app))
    async with bot.store.session() as session:
        assert (await session.scalars(select(UnansweredQuestion))).all() == []
        assert (await session.scalars(select(FormState))).all() == []


# Withdrawing staff posts: through the outbox, queued with the deletion ------------------


def _staff_edits(bot: Harness) -> list[ApiCall]:
    return [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT
    ]


async def test_a_post_made_while_its_lead_is_forgotten_is_withdrawn_at_once(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, [*form_steps(), ("press", "form:confirm")])
    forgotten: list[bool] = []

    async def forget_meanwhile(call: ApiCall) -> None:
        # The user confirms /forget while the staff post is on its way to Telegram.
        if is_staff_post(call) and not forgotten:
            forgotten.append(True)
            await bot.send(english_user, "/forget")
            await bot.press(english_user, "forget:yes")

    bot.api.before_call = forget_meanwhile
    await bot.deliver()
    assert forgotten and await bot.store.all_leads() == []
    [post] = bot.staff_posts()  # it was made...
    assert "sam@acme-security.com" in post.params["text"]
    [delete] = [c for c in bot.api.calls if c.method == "deleteMessage"]  # ...and taken back
    assert int(delete.params["chat_id"]) == STAFF_CHAT
    await bot.deliver()  # what the deletion queued meanwhile
    [item, note] = sorted(await bot.store.outbox(), key=lambda i: i.message_id is None)
    assert (item.kind, item.status, item.lead_id) == ("withdraw", "sent", None)
    assert item.message_id == int(delete.params["message_id"])
    # The post was in flight when its lead went: had this process died then, nothing could
    # withdraw it, so the deletion also told staff that a post of the lead may remain.
    assert (note.kind, note.status, note.message_id) == ("withdraw", "sent", None)
    [message] = [m for k, m in bot.api.messages.items() if k[0] == STAFF_CHAT]
    assert message["text"].startswith("🗑") and "sam@" not in message["text"]


async def test_forget_queues_the_withdrawal_with_the_deletion_past_a_429_and_a_restart(
    make_bot: Any, english_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    await submit_form(a, english_user)
    [lead] = await a.store.all_leads()
    message_id = lead.staff_message_id
    assert message_id is not None
    await a.send(english_user, "/forget")
    await a.press(english_user, "forget:yes")
    assert _staff_edits(a) == []  # not inside the user's update: queued instead
    [item] = [i for i in await a.store.outbox() if i.kind == "withdraw"]
    assert (item.status, item.chat_id, item.message_id) == ("pending", STAFF_CHAT, message_id)
    assert item.payload == {"lead_id": lead.id, "note": "forgotten", "delete": False}

    a.api.fail_next("editMessageText", "retry_after", retry_after=30)
    assert await a.deliver() == 0
    [item] = await a.store.outbox()
    assert (item.status, item.last_error) == ("pending", "RetryAfter")
    assert "sam@acme-security.com" in a.api.messages[(STAFF_CHAT, message_id)]["text"]
    await a.app.shutdown()  # the process goes away; the withdrawal is in the database

    b: Harness = await make_bot()
    assert await b.deliver(utcnow() + timedelta(seconds=31)) == 1
    [edit] = _staff_edits(b)
    assert int(edit.params["message_id"]) == message_id
    assert edit.params["text"] == TEXTS.render("staff/forgotten", "en", lead_id=lead.id)
    assert "reply_markup" not in edit.params
    assert [i.status for i in await b.store.outbox()] == ["sent"]


async def test_retention_purge_withdraws_the_staff_posts_of_the_leads_it_deletes(
    make_bot: Any, english_user: LocalUser
) -> None:
    from tests.conftest import Clock

    clock = Clock()
    bot: Harness = await make_bot({"privacy": {"retention_days": 30}}, clock=clock)
    clock.now = utcnow() + timedelta(minutes=1)  # the posts below are due
    await submit_form(bot, english_user)
    await submit_form(bot, OTHER, email="omar@acme-security.com")
    lead, other = await bot.store.all_leads()
    async with bot.store.session.begin() as session:  # only the first one is old
        await session.execute(
            update(Lead).where(Lead.id == other.id).values(updated_at=clock.now + timedelta(days=2))
        )
    clock.now += timedelta(days=31)
    await purge_job(BotContext(application=bot.app))
    assert [lead.id for lead in await bot.store.all_leads()] == [other.id]
    [item] = [i for i in await bot.store.outbox() if i.kind == "withdraw"]
    assert item.payload == {"lead_id": lead.id, "note": "expired", "delete": False}
    assert bot.app.job_queue is not None
    assert bot.app.job_queue.get_jobs_by_name("delivery_kick")  # withdrawn right away

    assert await bot.deliver() == 1
    [edit] = _staff_edits(bot)
    assert int(edit.params["message_id"]) == lead.staff_message_id
    assert edit.params["text"] == TEXTS.render("staff/expired", "en", lead_id=lead.id)
    other_post = bot.api.messages[(STAFF_CHAT, other.staff_message_id)]
    assert "omar@acme-security.com" in other_post["text"]


async def test_a_form_abandoned_before_consent_is_purged_after_the_idle_timeout(
    bot: Harness, english_user: LocalUser
) -> None:
    """What a partner typed and never consented to send is not kept for the retention period."""
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps("en")[:7])  # up to the phone
    other = LocalUser(id=303, first_name="Kim")
    await bot.send(other, "/apply")  # a form in progress: kept
    async with bot.store.session.begin() as session:  # a week idle (the timeout: 24 h)
        await session.execute(
            update(FormState)
            .where(FormState.user_id == english_user.id)
            .values(updated_at=utcnow() - timedelta(days=7))
        )
    await purge_job(BotContext(application=bot.app))
    async with bot.store.session() as session:
        assert (await session.scalars(select(FormState.user_id))).all() == [other.id]
