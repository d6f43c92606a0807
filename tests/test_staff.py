"""Staff: the buttons on lead posts, /leads, /lead, /export, /stats, escaping, deep links."""

from __future__ import annotations

import csv
import io

import pytest

from bot.local_api import LocalUser, buttons
from tests.conftest import STAFF_CHAT, Harness
from tests.test_lead_form import TEXTS, form_steps, run_steps, submit_form

STRANGER = LocalUser(id=555, first_name="Eve", language_code="en", username="eve")


async def _post_lead(bot: Harness, user: LocalUser) -> int:
    await submit_form(bot, user)
    [lead] = await bot.store.all_leads()
    return lead.id


def _staff_edits(bot: Harness) -> list[str]:
    return [
        c.params["text"]
        for c in bot.api.calls
        if c.method == "editMessageText" and int(c.params["chat_id"]) == STAFF_CHAT
    ]


# 11. Buttons on the staff post ---------------------------------------------------------------


async def test_staff_claims_a_lead(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id = await _post_lead(bot, english_user)
    calls = await bot.press(staff_user, "🙋 Claim", chat_id=STAFF_CHAT)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == "Updated."
    lead = await bot.store.lead(lead_id)
    assert lead is not None
    assert lead.status == "claimed"
    assert lead.handled_by == "Staff (@staffer)"
    assert lead.handled_at is not None
    [edited] = _staff_edits(bot)
    assert "<b>Status:</b> 🙋 Claimed" in edited
    assert f"Staff (@staffer), {lead.handled_at:%Y-%m-%d %H:%M} UTC" in edited
    # The buttons stay, so the lead can move on.
    await bot.press(staff_user, f"lead:contacted:{lead_id}", chat_id=STAFF_CHAT)
    lead = await bot.store.lead(lead_id)
    assert lead is not None and lead.status == "contacted"
    assert "📞 Contacted" in _staff_edits(bot)[-1]


async def test_a_stranger_pressing_gets_an_alert_and_nothing_changes(
    bot: Harness, english_user: LocalUser
) -> None:
    lead_id = await _post_lead(bot, english_user)
    calls = await bot.press(STRANGER, f"lead:not_fit:{lead_id}", chat_id=STAFF_CHAT)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["show_alert"] is True
    assert answer.params["text"] == TEXTS.label("staff.not_allowed", "en")
    assert _staff_edits(bot) == []
    lead = await bot.store.lead(lead_id)
    assert lead is not None and (lead.status, lead.handled_by) == ("new", None)


async def test_an_administrator_of_the_staff_chat_is_allowed(
    bot: Harness, english_user: LocalUser
) -> None:
    lead_id = await _post_lead(bot, english_user)
    admin = LocalUser(id=777, first_name="Ada", language_code="en")
    bot.api.chat_member_status[(STAFF_CHAT, admin.id)] = "administrator"
    await bot.press(admin, f"lead:not_fit:{lead_id}", chat_id=STAFF_CHAT)
    lead = await bot.store.lead(lead_id)
    assert lead is not None
    assert (lead.status, lead.handled_by) == ("not_fit", "Ada (777)")
    assert "🚫 Not a fit" in _staff_edits(bot)[-1]


async def test_a_button_for_a_deleted_lead_says_so(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    lead_id = await _post_lead(bot, english_user)
    await bot.store.forget_user(english_user.id)
    calls = await bot.press(staff_user, f"lead:claim:{lead_id}", chat_id=STAFF_CHAT)
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == TEXTS.label("staff.unknown_lead", "en")


# 12. Staff commands ---------------------------------------------------------------------------


async def test_leads_and_lead_commands(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(staff_user, "/leads")
    assert bot.last_text(staff_user.id) == "No leads yet."
    await submit_form(bot, english_user)
    await submit_form(bot, arabic_user, "ar")
    first, second = await bot.store.all_leads()
    await bot.press(staff_user, f"lead:claim:{first.id}", chat_id=STAFF_CHAT)

    await bot.send(staff_user, "/leads")
    text = bot.last_text(staff_user.id)
    assert text.index(f"#{second.id} ·") < text.index(f"#{first.id} ·")  # newest first
    assert "شركة الأمان العربية" in text and "Acme Security" in text

    await bot.send(staff_user, "/leads claimed")
    text = bot.last_text(staff_user.id)
    assert "(🙋 Claimed)" in text
    assert "Acme Security" in text and "شركة الأمان العربية" not in text

    await bot.send(staff_user, "/leads bogus")
    assert bot.last_text(staff_user.id).startswith("Usage: /leads [new|claimed|")

    calls = await bot.send(staff_user, f"/lead {second.id}")
    text = bot.last_text(staff_user.id)
    assert f"Partnership lead #{second.id}" in text and "<code>+962791234567</code>" in text
    # Buttons act only in the staff chat, so a private copy has none...
    assert not any(c.params.get("reply_markup") for c in calls)
    # ...and in the staff chat it has them.
    await bot.send(staff_user, f"/lead {second.id}", chat_id=STAFF_CHAT)
    first_button = bot.last_buttons(STAFF_CHAT)[0][0]
    assert first_button == ("🙋 Claim", f"lead:claim:{second.id}")
    await bot.send(staff_user, f"/lead #{first.id}")
    assert "Acme Security" in bot.last_text(staff_user.id)
    await bot.send(staff_user, "/lead 9999")
    assert bot.last_text(staff_user.id) == TEXTS.render("staff/not_found", "en")
    await bot.send(staff_user, "/lead")
    assert bot.last_text(staff_user.id).startswith("Usage:")


async def test_staff_commands_work_in_the_staff_chat(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    await bot.send(staff_user, "/leads", chat_id=STAFF_CHAT)
    assert "Acme Security" in bot.last_text(STAFF_CHAT)


async def test_export_is_utf8_csv_with_bom_and_arabic(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, staff_user: LocalUser
) -> None:
    await submit_form(bot, english_user)
    await submit_form(bot, arabic_user, "ar")
    calls = await bot.send(staff_user, "/export")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    assert int(doc.params["chat_id"]) == staff_user.id
    assert doc.params["caption"].startswith("2 lead(s), exported")
    [data] = doc.files.values()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "شركة الأمان العربية".encode() in data
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["organisation"] for r in rows] == ["Acme Security", "شركة الأمان العربية"]
    assert rows[0]["interests"] == "intelligence-analysis"
    assert rows[1]["phone"] == "'+962791234567"  # a leading + would be read as a formula
    assert rows[0]["status"] == "new"


async def test_stats_counts_by_status_sector_language_source_and_unanswered(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/start spring-campaign")
    await submit_form(bot, english_user)
    await submit_form(bot, arabic_user, "ar")
    await bot.send(arabic_user, "price of solana today")
    await bot.send(english_user, "price of solana today")
    await bot.send(staff_user, "/stats")
    text = bot.last_text(staff_user.id)
    assert "<b>Leads by status</b>\n🆕 New: 2" in text
    assert "Cybersecurity: 1" in text and "Banking/finance: 1" in text
    assert "<b>By language</b>\nEnglish: 1\nArabic: 1\n" in text
    assert "spring-campaign: 1" in text and "direct: 1" in text
    assert "2× price of solana today" in text


@pytest.mark.parametrize("command", ["/leads", "/leads claimed", "/lead 1", "/export", "/stats"])
async def test_non_staff_get_the_staff_only_reply(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser, command: str
) -> None:
    await submit_form(bot, english_user)
    calls = await bot.send(english_user, command)
    assert [c.method for c in calls if c.method.startswith("send")] == ["sendMessage"]
    assert bot.last_text(english_user.id) == TEXTS.render("staff/not_staff", "en")
    await bot.send(arabic_user, command)
    assert bot.last_text(arabic_user.id) == TEXTS.render("staff/not_staff", "ar")


# 13. Escaping -----------------------------------------------------------------------------------


async def test_organisation_name_with_html_is_shown_literally(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps(organisation="<b>ACME</b> & Co"))
    escaped = "&lt;b&gt;ACME&lt;/b&gt; &amp; Co"
    assert f"<b>Organisation:</b>\n{escaped}\n" in bot.last_text(english_user.id)
    await bot.press(english_user, "form:confirm")
    await bot.deliver()
    [lead] = await bot.store.all_leads()
    assert lead.organisation == "<b>ACME</b> & Co"
    [post] = bot.staff_posts()
    assert f"<b>Organisation:</b>\n{escaped}\n" in post.params["text"]
    assert "<b>ACME</b>" not in post.params["text"]


# 14. Deep link --------------------------------------------------------------------------------------


async def test_deep_link_source_is_stored_posted_and_counted(
    bot: Harness, english_user: LocalUser, staff_user: LocalUser
) -> None:
    await bot.send(english_user, "/start spring-campaign")
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert lead.source == "spring-campaign"
    [post] = bot.staff_posts()
    assert "<b>Source:</b> spring-campaign" in post.params["text"]
    await bot.send(staff_user, "/stats")
    assert "<b>By source</b>\nspring-campaign: 1" in bot.last_text(staff_user.id)


async def test_bad_deep_link_payload_is_ignored(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "/start <script>")
    await submit_form(bot, english_user)
    [lead] = await bot.store.all_leads()
    assert lead.source is None
    assert "<b>Source:</b> direct" in bot.staff_posts()[0].params["text"]


async def test_staff_post_shows_the_repeat_in_arabic_staff_language(
    make_bot: object, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})  # type: ignore[operator]
    await submit_form(bot, english_user)
    [post] = bot.staff_posts()
    assert "طلب شراكة رقم" in post.params["text"]
    labels = [
        label for row in buttons({"reply_markup": post.params["reply_markup"]}) for label, _ in row
    ]
    assert labels[-1] == TEXTS.label("staff.claim", "ar")  # right to left
