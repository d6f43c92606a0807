"""Talking to a person in a plain staff group: both ways and in both languages, media,
edits, closing by button and by command, the staff-only buttons."""

from __future__ import annotations

from typing import Any

from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness, MakeBot
from tests.relay_helpers import (
    TEXTS,
    card,
    deliver_all,
    newest_staff_message,
    partner_sends,
    partner_writes,
    relay_rows,
    staff_replies,
    staff_sends,
)
from tests.test_lead_posts import forget
from tests.test_rtl_rendering import assert_reads_right_to_left

PHOTO = [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]
VOICE = {"file_id": "v1", "file_unique_id": "v1", "duration": 3}
DOCUMENT = {"file_id": "d1", "file_unique_id": "d1", "file_name": "profile.pdf"}


async def test_a_partner_talks_to_staff_and_gets_the_answer_in_the_bots_voice(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    assert bot.last_text(english_user.id) == TEXTS.render(
        "relay/opened", "en", hours=24, again=False
    )
    assert "usually within 24 hours" in bot.last_text(english_user.id)
    assert bot.last_buttons(english_user.id) == [[("🤖 Back to the assistant", "talk:back:en")]]
    await deliver_all(bot)
    [head] = staff_sends(bot)
    assert "New conversation" in head.params["text"] and "Sam · @sam" in head.params["text"]
    assert bot.last_buttons(STAFF_CHAT) == [
        [
            ("🔒 Close", "relay:close:101"),
            ("🚫 Ban", "relay:ban:101"),
            ("📄 Show lead", "relay:lead:101"),
        ]
    ]

    # The matcher does not answer: the question goes to staff, and the partner is not
    # told again that a person will reply.
    before = len(bot.api.calls)
    await partner_writes(bot, english_user, "who won the champions league")
    assert bot.api.calls[before:] == []
    assert await bot.store.top_unanswered() == []
    await deliver_all(bot)
    assert staff_sends(bot)[-1].params["text"] == card("Sam", "who won the champions league", "sam")

    await staff_replies(bot, staff_user, newest_staff_message(bot))
    await deliver_all(bot)
    [answer] = partner_sends(bot, english_user)[-1:]
    assert answer.method == "copyMessage"
    assert int(answer.params["from_chat_id"]) == STAFF_CHAT
    assert "caption" not in answer.params  # unsigned: the staff member's name is not shown


async def test_an_arabic_partner_talks_to_arabic_staff(
    make_bot: MakeBot, arabic_user: LocalUser, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    await bot.send(arabic_user, "من فاز بكأس العالم لكرة القدم")
    assert ("💬 التحدث مع فريقنا", "talk:open:ar") in [
        b for row in bot.last_buttons(arabic_user.id) for b in row
    ]
    await bot.press(arabic_user, "talk:open:ar")
    opened = bot.last_text(arabic_user.id)
    assert opened == TEXTS.render("relay/opened", "ar", hours=24, again=False)
    assert "في غضون 24 ساعة" in opened
    assert_reads_right_to_left(opened)
    assert bot.last_buttons(arabic_user.id) == [[("🤖 العودة إلى المساعد", "talk:back:ar")]]
    await partner_writes(bot, arabic_user, "نود ترتيب اجتماع مع فريقكم")
    await deliver_all(bot)
    head, relayed = staff_sends(bot)
    assert "محادثة جديدة" in head.params["text"]
    assert_reads_right_to_left(head.params["text"])
    assert [label for row in bot.last_buttons(STAFF_CHAT) for label, _ in row] == [
        "📄 عرض الطلب",
        "🚫 حظر",
        "🔒 إغلاق",
    ]  # a right-to-left row: Close is read first, at the right
    assert relayed.params["text"] == card("سارة", "نود ترتيب اجتماع مع فريقكم", "sara", "ar")

    await staff_replies(bot, staff_user, newest_staff_message(bot), text="أهلًا بكم، يسعدنا ذلك.")
    await deliver_all(bot)
    assert partner_sends(bot, arabic_user)[-1].method == "copyMessage"


async def test_signed_replies_carry_the_staff_members_first_name(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"relay": {"sign_replies": True}})
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "Hello?")
    await deliver_all(bot)
    await staff_replies(bot, staff_user, newest_staff_message(bot), text="Hi <there>")
    await deliver_all(bot)
    [signed] = partner_sends(bot, english_user)[-1:]
    assert signed.params["text"] == "Hi &lt;there&gt;\n\n— Staff, partnerships team"


async def test_photos_documents_and_voice_are_copied_and_stickers_are_refused(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await bot.send_update(bot.updates.message(english_user, photo=PHOTO, caption="Our <b>logo</b>"))
    await bot.send_update(bot.updates.message(english_user, document=DOCUMENT))
    await bot.send_update(bot.updates.message(english_user, voice=VOICE))
    await deliver_all(bot)
    photo, document, voice = staff_sends(bot)[1:]
    assert [c.method for c in (photo, document, voice)] == ["copyMessage"] * 3
    assert photo.params["caption"] == card("Sam", "Our &lt;b&gt;logo&lt;/b&gt;", "sam")
    assert voice.params["caption"] == card("Sam", "", "sam").rstrip("\n")
    assert int(photo.params["from_chat_id"]) == english_user.id

    before = len(await relay_rows(bot))
    await bot.send_update(bot.updates.sticker(english_user))
    location = {"latitude": 45.76, "longitude": 4.84}
    await bot.send_update(bot.updates.message(english_user, location=location))
    assert bot.texts(english_user.id)[-2:] == [TEXTS.render("relay/cannot_send", "en")] * 2
    assert len(await relay_rows(bot)) == before


async def test_edits_are_relayed_as_edits_both_ways(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    message_id = await partner_writes(bot, english_user, "We are 40 people")
    await deliver_all(bot)
    relayed = newest_staff_message(bot)
    await bot.send_update(bot.updates.edited(english_user, message_id, text="We are 400 people"))
    await deliver_all(bot)
    [edit] = [c for c in bot.api.calls if c.method == "editMessageText"]
    assert int(edit.params["message_id"]) == relayed["message_id"]
    assert edit.params["text"] == card("Sam", "We are 400 people", "sam")

    update = bot.updates.message(
        staff_user, STAFF_CHAT, text="See you at 10", reply_to_message=relayed
    )
    await bot.send_update(update)
    await deliver_all(bot)
    assert update.message is not None
    fix = bot.updates.edited(
        staff_user, update.message.message_id, STAFF_CHAT, text="See you at 11"
    )
    await bot.send_update(fix)
    await deliver_all(bot)
    partner_edit = [c for c in bot.api.calls if c.method == "editMessageText"][-1]
    assert int(partner_edit.params["chat_id"]) == english_user.id
    assert partner_edit.params["text"] == "See you at 11"


async def test_an_edit_of_a_message_sent_before_the_conversation_is_not_relayed(
    bot: Harness, english_user: LocalUser
) -> None:
    message_id = await partner_writes(bot, english_user, "what is expert secondment?")
    await bot.send(english_user, "/contact")
    await bot.send_update(bot.updates.edited(english_user, message_id, text="edited"))
    assert [i.kind for i in await relay_rows(bot)] == ["relay_head"]


async def test_back_to_the_assistant_and_staff_closing_by_button_and_by_command(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await bot.press(english_user, "talk:back:en")
    assert bot.last_text(english_user.id) == TEXTS.render("relay/back", "en")
    await partner_writes(bot, english_user, "what is expert secondment?")
    assert "Expert" in bot.last_text(english_user.id)  # the matcher answers again
    await deliver_all(bot)
    assert "went back to the assistant" in staff_sends(bot)[-1].params["text"]

    # Closed by the button on the first message.
    await bot.send(english_user, "/contact")
    await deliver_all(bot)
    calls = await bot.press(staff_user, "relay:close:101", chat_id=STAFF_CHAT)
    [alert] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert alert.params["text"] == "Conversation closed."
    await deliver_all(bot)
    assert bot.last_text(english_user.id) == TEXTS.render("relay/closed", "en")
    assert bot.last_buttons(english_user.id) == [[("💬 Talk to our team", "talk:open:en")]]
    assert "closed by Staff (@staffer)" in staff_sends(bot)[-1].params["text"]
    calls = await bot.press(staff_user, "relay:close:101", chat_id=STAFF_CHAT)
    assert [c.params["text"] for c in calls if c.method == "answerCallbackQuery"] == [
        "This conversation is already closed."
    ]

    # Closed with /close as a reply to one of the partner's cards.
    await bot.press(english_user, "talk:open:en")
    await partner_writes(bot, english_user, "one more thing")
    await deliver_all(bot)
    await staff_replies(bot, staff_user, newest_staff_message(bot), text="/close")
    assert [i.kind for i in await relay_rows(bot)][-2:] == ["relay_note", "relay_tell"]
    await deliver_all(bot)
    assert bot.last_text(english_user.id) == TEXTS.render("relay/closed", "en")
    assert (await bot.store.conversation(english_user.id)).status == "closed"  # type: ignore[union-attr]


async def test_strangers_cannot_use_the_staff_buttons_or_answer_partners(
    bot: Harness, english_user: LocalUser
) -> None:
    stranger = LocalUser(id=555, first_name="Eve", username="eve")
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "hello team")
    await deliver_all(bot)
    for action in ("close", "ban", "lead"):
        calls = await bot.press(stranger, f"relay:{action}:101", chat_id=STAFF_CHAT)
        [alert] = [c for c in calls if c.method == "answerCallbackQuery"]
        assert alert.params["text"] == "Only staff can do this."
    assert await bot.store.bans() == []
    assert (await bot.store.conversation(english_user.id)).status == "open"  # type: ignore[union-attr]
    before = len(await relay_rows(bot))
    await staff_replies(bot, stranger, newest_staff_message(bot), text="I am not staff")
    await bot.send_update(bot.updates.text(stranger, "/ban 101 spam", STAFF_CHAT))
    assert len(await relay_rows(bot)) == before
    assert await bot.store.bans() == []


async def test_show_lead_posts_the_partners_lead_in_the_staff_chat(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    from tests.test_staff_posts import add_lead

    await bot.send(english_user, "/contact")
    await deliver_all(bot)
    calls = await bot.press(staff_user, "relay:lead:101", chat_id=STAFF_CHAT)
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        "No lead from this person yet."
    ]
    lead = await add_lead(bot, user_id=english_user.id)
    calls = await bot.press(staff_user, "relay:lead:101", chat_id=STAFF_CHAT)
    [post] = [c for c in calls if c.method == "sendMessage"]
    assert f"Partnership lead #{lead.id}" in post.params["text"]
    # The copy is recorded: the partner's /forget takes it back as it does /lead's.
    [copy] = await bot.store.lead_copies()
    assert (copy.lead_id, copy.chat_id) == (lead.id, STAFF_CHAT)
    await forget(bot, english_user)
    await bot.deliver()
    shown = bot.api.messages[(copy.chat_id, copy.message_id)]["text"]
    assert shown == TEXTS.render("staff/forgotten", "en", lead_id=lead.id)


async def entry_points(bot: Harness, user: LocalUser, command: str) -> list[Any]:
    await bot.send(user, command)
    return [d for row in bot.last_buttons(user.id) for _, d in row]


async def test_talk_to_our_team_is_offered_in_the_menu_fallback_and_did_you_mean(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    # Nothing is answered on the fuzzy scores, so a vague question gets "did you mean" (one
    # that neither model is sure of: either would answer it below the fuzzy bar).
    bot: Harness = await make_bot({"matching": {"answer_threshold": 100, "suggest_threshold": 1}})
    assert "talk:open:en" in await entry_points(bot, english_user, "/topics")
    assert "talk:open:en" in await entry_points(bot, english_user, "zxqv plorf")
    assert bot.last_text(english_user.id) == TEXTS.render("fallback", "en", victim_hint=False)
    assert "/contact" in bot.last_text(english_user.id)
    assert "talk:open:en" in await entry_points(bot, english_user, "working together maybe")
    assert bot.last_text(english_user.id) == TEXTS.render("did_you_mean", "en")


async def test_staff_hear_once_when_the_partner_has_blocked_the_bot(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/contact")
    await partner_writes(bot, english_user, "please call me")
    await deliver_all(bot)
    bot.api.fail_next("copyMessage", "blocked")
    await staff_replies(bot, staff_user, newest_staff_message(bot), text="Calling now")
    await deliver_all(bot)
    blocked = TEXTS.render("staff/relay/blocked", "en").strip()
    notes = [c for c in staff_sends(bot) if c.params["text"].strip() == blocked]
    assert len(notes) == 1
    assert not [
        c for c in partner_sends(bot, english_user) if c.params.get("text") == "Calling now"
    ]
