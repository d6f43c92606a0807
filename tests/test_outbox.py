"""Delivery of leads to the staff chat: failures, retries, restarts, repeats, unqualified leads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest

from bot.db.models import utcnow
from bot.local_api import ApiCall, LocalBotApi, LocalUser, buttons
from bot.outbox import deliver_due
from tests.conftest import STAFF_CHAT, Harness
from tests.test_lead_form import TEXTS, no_error_replies, submit_form


def fail_staff_posts(api: LocalBotApi, *kinds: str, retry_after: int = 30) -> None:
    """Make the next staff-chat posts fail, one per kind, and nothing else.

    ``fail_next`` applies to the next call of a method, and the user's own
    confirmation is a sendMessage too; so the failure is queued the moment a
    call to the staff chat is made (``on_call`` runs before the reply is chosen).
    """
    pending = list(kinds)

    def on_call(call: ApiCall) -> None:
        if pending and call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            api.fail_next("sendMessage", pending.pop(0), retry_after=retry_after)

    api.on_call = on_call


@pytest.mark.parametrize(
    ("kind", "retry_in"),
    [
        ("retry_after", timedelta(seconds=30)),
        ("network", timedelta(seconds=2)),
        ("server_error", timedelta(seconds=2)),
    ],
)
async def test_failed_delivery_keeps_the_lead_and_is_retried_once(
    bot: Harness, english_user: LocalUser, kind: str, retry_in: timedelta
) -> None:
    fail_staff_posts(bot.api, kind)
    await submit_form(bot, english_user)
    # The attempt was made and failed; the user was told all is well.
    assert len(bot.staff_posts()) == 1
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")
    no_error_replies(bot, english_user)
    [lead] = await bot.store.all_leads()
    [item] = await bot.store.outbox()
    assert (item.status, item.attempts, item.lead_id) == ("pending", 1, lead.id)
    assert item.last_error
    assert lead.staff_message_id is None

    # Not due yet: nothing is sent.
    now = utcnow()
    assert (
        await deliver_due(bot.app.bot, bot.services, now + retry_in - timedelta(seconds=1.5)) == 0
    )
    assert len(bot.staff_posts()) == 1
    assert await deliver_due(bot.app.bot, bot.services, now + retry_in + timedelta(seconds=1)) == 1
    assert len(bot.staff_posts()) == 2  # one failed attempt, one post
    assert await deliver_due(bot.app.bot, bot.services, now + timedelta(hours=1)) == 0
    assert len(bot.staff_posts()) == 2
    [item] = await bot.store.outbox()
    assert (item.status, item.attempts) == ("sent", 2)
    stored = await bot.store.lead(lead.id)
    assert stored is not None and stored.staff_message_id is not None


async def test_pending_delivery_survives_a_restart(make_bot: Any, english_user: LocalUser) -> None:
    a: Harness = await make_bot()
    fail_staff_posts(a.api, "network")
    await submit_form(a, english_user)
    await a.app.shutdown()
    b: Harness = await make_bot()
    assert await deliver_due(b.app.bot, b.services, utcnow() + timedelta(minutes=1)) == 1
    [post] = b.staff_posts()
    assert "Acme Security" in post.params["text"]
    assert await deliver_due(b.app.bot, b.services, utcnow() + timedelta(hours=1)) == 0
    assert len(b.staff_posts()) == 1


async def test_two_instances_never_post_the_same_item_twice(
    make_bot: Any, english_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    fail_staff_posts(a.api, "server_error")
    await submit_form(a, english_user)
    later = utcnow() + timedelta(minutes=1)
    delivered = [
        await deliver_due(a.app.bot, a.services, later),
        await deliver_due(b.app.bot, b.services, later),
    ]
    assert sorted(delivered) == [0, 1]
    assert len(b.staff_posts()) + len(a.staff_posts()) == 2  # the failed one and the real one


async def test_without_a_staff_chat_leads_wait_in_the_outbox(
    make_bot: Any, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_chat_id": None}})
    await submit_form(bot, english_user)
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")
    assert bot.staff_posts() == []
    assert [i.status for i in await bot.store.outbox()] == ["pending"]


async def test_unqualified_lead_is_stored_with_reasons_and_posted_for_review(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user, sector="typed:Agriculture", email="sam.smith@gmail.com")
    [lead] = await bot.store.all_leads()
    assert (lead.sector, lead.sector_detail) == ("other", "Agriculture")
    assert lead.status == "unqualified"
    assert lead.qualified is False
    assert lead.score == 20
    assert {"code": "sector", "sector": "other"} in lead.reasons
    assert {"code": "free_mail", "domain": "gmail.com"} in lead.reasons
    assert {"code": "below_minimum", "score": 20, "minimum": 60} in lead.reasons
    # Every consented lead reaches staff; qualification only labels it.
    [post] = bot.staff_posts()
    assert "Needs review" in post.params["text"] and "Agriculture" in post.params["text"]
    assert [i.status for i in await bot.store.outbox()] == ["sent"]
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")


async def test_repeat_inquiry_updates_the_lead_and_edits_the_post(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    [post] = bot.staff_posts()
    await submit_form(bot, english_user, country="Qatar", role="CISO")
    assert bot.last_text(english_user.id) == TEXTS.render("form/updated", "en")
    [lead] = await bot.store.all_leads()
    assert lead.repeat_count == 1
    assert (lead.organisation, lead.country, lead.role) == ("Acme Security", "Qatar", "CISO")
    assert lead.status == "new"
    assert len(bot.staff_posts()) == 1  # no new post
    edits = [
        c
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT
    ]
    [edit] = edits
    assert int(edit.params["message_id"]) == lead.staff_message_id
    assert "🔁" in edit.params["text"] and "repeat inquiry ×2" in edit.params["text"]
    assert "Qatar" in edit.params["text"] and "CISO" in edit.params["text"]
    assert buttons({"reply_markup": edit.params["reply_markup"]})[0][0] == (
        "🙋 Claim",
        f"lead:claim:{lead.id}",
    )
    assert post.params["text"] != edit.params["text"]
    assert [i.status for i in await bot.store.outbox()] == ["sent", "sent"]


async def test_repeat_before_the_first_post_was_delivered_posts_once(
    bot: Harness, english_user: LocalUser
) -> None:
    fail_staff_posts(bot.api, "network")
    await submit_form(bot, english_user)
    await submit_form(bot, english_user, role="CISO")
    await deliver_due(bot.app.bot, bot.services, utcnow() + timedelta(minutes=5))
    await deliver_due(bot.app.bot, bot.services, utcnow() + timedelta(hours=1))
    posted = [c for c in bot.staff_posts() if "CISO" in c.params["text"]]
    assert len(posted) == 1
    assert "repeat inquiry ×2" in posted[0].params["text"]


async def test_wrong_staff_chat_is_retried_slowly_not_as_a_network_blip(
    bot: Harness, english_user: LocalUser
) -> None:
    """BadRequest ("chat not found") subclasses NetworkError but is not transient."""

    def chat_not_found(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            raise BadRequest("Chat not found")

    bot.api.on_call = chat_not_found
    before = utcnow()
    await submit_form(bot, english_user)
    [item] = await bot.store.outbox()
    assert item.status == "pending"
    assert item.last_error == "BadRequest: Chat not found"
    max_wait = timedelta(seconds=bot.services.config.delivery.backoff_max_seconds)
    assert item.next_attempt_at >= before + max_wait
    bot.api.on_call = None
    assert (
        await deliver_due(bot.app.bot, bot.services, utcnow() + max_wait + timedelta(seconds=5))
        == 1
    )
