"""One person's lead is theirs: repeats by the same user only, history kept, one lead per
form however Confirm is pressed, and text PostgreSQL would refuse cleaned at the edge."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness
from tests.test_lead_form import TEXTS, find_button, form_steps, run_steps, submit_form

MALLORY = LocalUser(id=666, first_name="Mallory", language_code="en", username="mallory")


def _staff_sends(bot: Harness) -> list[str]:
    return [c.params["text"] for c in bot.staff_posts()]


def _staff_edits(bot: Harness) -> list[str]:
    return [
        c.params["text"]
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT
    ]


async def test_a_stranger_reusing_an_email_gets_a_lead_of_their_own(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    await submit_form(bot, MALLORY, organisation="Evil Corp", name="Mallory M")
    theirs, mine = sorted(await bot.store.all_leads(), key=lambda lead: lead.id)
    # The partner's lead is untouched: same owner, same values, no repeat.
    assert (theirs.user_id, theirs.username, theirs.organisation, theirs.name) == (
        english_user.id,
        "sam",
        "Acme Security",
        "Sam Smith",
    )
    assert (theirs.repeat_count, theirs.history, theirs.duplicate_of) == (0, [], None)
    # The stranger's lead is separate and flagged for staff.
    assert (mine.user_id, mine.organisation, mine.duplicate_of) == (
        MALLORY.id,
        "Evil Corp",
        theirs.id,
    )
    assert bot.last_text(MALLORY.id) == TEXTS.render("form/submitted", "en")
    # The partner's /forget still finds (and deletes) their own lead, and only it.
    await bot.send(english_user, "/forget")
    await bot.press(english_user, "forget:yes")
    [left] = await bot.store.all_leads()
    assert left.user_id == MALLORY.id


async def test_a_second_form_keeps_the_first_and_a_new_organisation_is_posted_again(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    assert len(_staff_sends(bot)) == 1
    await submit_form(bot, english_user, organisation="Acme Security Group", country="Qatar")
    assert bot.last_text(english_user.id) == TEXTS.render("form/updated", "en")
    [lead] = await bot.store.all_leads()
    assert (lead.organisation, lead.country, lead.repeat_count) == (
        "Acme Security Group",
        "Qatar",
        1,
    )
    [earlier] = lead.history
    assert (earlier["organisation"], earlier["country"], earlier["email"]) == (
        "Acme Security",
        "Jordan",
        "sam@acme-security.com",
    )
    assert earlier["submitted_at"]
    # A changed organisation is news: a new post, not only an edit of the old one.
    sends = _staff_sends(bot)
    assert len(sends) == 2
    assert "Acme Security Group" in sends[1]
    assert lead.staff_message_id == max(mid for chat, mid in bot.api.messages if chat == STAFF_CHAT)


async def test_a_repeat_with_the_same_organisation_edits_the_post(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    await submit_form(bot, english_user, role="CISO")
    [lead] = await bot.store.all_leads()
    assert lead.role == "CISO"
    assert [h["role"] for h in lead.history] == ["Head of threat intelligence"]
    assert len(_staff_sends(bot)) == 1
    [edit] = _staff_edits(bot)
    assert "CISO" in edit


async def _at_summary(bot: Harness, user: LocalUser) -> tuple[dict[str, Any], str]:
    await bot.send(user, "/apply")
    await run_steps([bot], user, form_steps("en"))
    found = find_button(bot.api, user.id, "form:confirm")
    assert found is not None
    return found


async def test_confirm_pressed_twice_at_once_makes_one_lead(
    bot: Harness, english_user: LocalUser
) -> None:
    message, data = await _at_summary(bot, english_user)
    presses = [bot.updates.press(english_user, message, data) for _ in range(2)]
    await asyncio.gather(*(bot.app.process_update(p) for p in presses))
    [lead] = await bot.store.all_leads()
    assert lead.repeat_count == 0 and lead.history == []
    assert bot.texts(english_user.id).count(TEXTS.render("form/submitted", "en")) == 1
    assert not any(t == TEXTS.render("form/updated", "en") for t in bot.texts(english_user.id))
    answers = [c for c in bot.api.calls if c.method == "answerCallbackQuery"][-2:]
    assert sorted(a.params.get("text", "") for a in answers) == [
        "",
        TEXTS.render("form/closed", "en"),
    ]
    assert len([i for i in await bot.store.outbox() if i.kind == "post"]) == 1


async def test_confirm_on_two_instances_at_once_makes_one_lead(
    make_bot: Any, english_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    message, data = await _at_summary(a, english_user)
    await asyncio.gather(
        a.app.process_update(a.updates.press(english_user, message, data)),
        b.app.process_update(b.updates.press(english_user, message, data)),
    )
    [lead] = await a.store.all_leads()
    assert lead.repeat_count == 0
    submitted = TEXTS.render("form/submitted", "en")
    assert (
        a.texts(english_user.id).count(submitted) + b.texts(english_user.id).count(submitted) == 1
    )


async def test_nul_and_control_characters_are_cleaned_not_fatal(
    bot: Harness, english_user: LocalUser
) -> None:
    await submit_form(
        bot,
        english_user,
        organisation="ACME\x00Co",
        name="Sam\x07 Smith",
        message="Hello\x00 there\x1b",
    )
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")
    [lead] = await bot.store.all_leads()
    assert (lead.organisation, lead.name, lead.message) == ("ACMECo", "Sam Smith", "Hello there")
    assert "ACMECo" in _staff_sends(bot)[0]


async def test_a_question_with_nul_is_answered_and_stored(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "price of\x00 solana today")
    assert not any("went wrong" in t for t in bot.texts(english_user.id))
    assert await bot.store.top_unanswered() == [("price of solana today", 1)]
