"""The partnership form through the real Application: prompts, validation, edit, cancel, resume.

The helpers at the top (``form_steps``, ``run_steps``, ``find_button``) are shared by
the other lead test modules.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot import lead_form as form
from bot.config import load_config
from bot.local_api import LocalBotApi, LocalUser, buttons
from bot.texts import Texts
from tests.conftest import STAFF_CHAT, Clock, Harness

TEXTS = Texts()
Step = tuple[str, str]  # ("send" | "press" | "contact", value)


def find_button(api: LocalBotApi, chat: int, label: str) -> tuple[dict[str, Any], str] | None:
    """The newest message in ``chat`` with a button whose label or data is ``label``."""
    for (msg_chat, _), message in reversed(list(api.messages.items())):
        if msg_chat != chat:
            continue
        for row in buttons(message):
            for text, data in row:
                if label in (text, data):
                    return message, data
    return None


async def press_on(target: Harness, sources: list[Harness], user: LocalUser, label: str) -> None:
    """Press a button shown by any of ``sources`` (newest first), handled by ``target``."""
    for source in sources:
        found = find_button(source.api, user.id, label)
        if found is not None:
            message, data = found
            await target.send_update(target.updates.press(user, message, data))
            return
    raise AssertionError(f"no button {label!r}")


def form_steps(lang: str = "en", **answers: str) -> list[Step]:
    """Every step of a complete form, up to (not including) the summary's Confirm."""
    values = {
        "en": {
            "organisation": "Acme Security",
            "sector": "cybersecurity",
            "country": "Jordan",
            "name": "Sam Smith",
            "role": "Head of threat intelligence",
            "email": "sam@acme-security.com",
            "phone": "contact:447911123456",
            "message": "We would like to share phishing data.",
        },
        "ar": {
            "organisation": "شركة الأمان العربية",
            "sector": "banking",
            "country": "الأردن",
            "name": "سارة أحمد",
            "role": "مديرة أمن المعلومات",
            "email": "sara@arab-bank.jo",
            "phone": "+٩٦٢ ٧٩ ١٢٣ ٤٥٦٧",
            "message": "نود التعاون في تحليل المعلومات.",
        },
    }[lang]
    values.update(answers)
    steps: list[Step] = [("send", values["organisation"])]
    sector = values["sector"]
    if sector.startswith("typed:"):
        steps.append(("send", sector.removeprefix("typed:")))
    else:
        steps.append(("press", f"form:sector:{sector}"))
    steps += [
        ("send", values["country"]),
        ("send", values["name"]),
        ("send", values["role"]),
        ("send", values["email"]),
    ]
    phone = values["phone"]
    if phone.startswith("contact:"):
        steps.append(("contact", phone.removeprefix("contact:")))
    else:
        steps.append(("send", phone))
    steps += [
        ("press", "form:interest:information-sharing"),
        ("press", "form:interest:intelligence-analysis"),
        ("press", "form:interest:information-sharing"),  # untoggle
        ("press", "form:interests_done"),
    ]
    message = values["message"]
    steps.append(("press", "form:skip") if message == "skip" else ("send", message))
    steps.append(("press", "form:consent:yes"))
    return steps


async def run_steps(harnesses: list[Harness], user: LocalUser, steps: list[Step]) -> None:
    """Run ``steps``, alternating between ``harnesses`` (one harness: no alternation)."""
    for i, (kind, value) in enumerate(steps):
        target = harnesses[i % len(harnesses)]
        # The newest buttons were sent by whichever harness handled the previous step.
        sources = [harnesses[(i - 1) % len(harnesses)], *harnesses]
        if kind == "send":
            await target.send(user, value)
        elif kind == "contact":
            await target.send_update(target.updates.contact(user, value))
        else:
            await press_on(target, sources, user, value)


async def submit_form(bot: Harness, user: LocalUser, lang: str = "en", **answers: str) -> None:
    """/apply, every step, then Confirm, then the delivery pass Confirm schedules."""
    await bot.send(user, "/apply")
    await run_steps([bot], user, [*form_steps(lang, **answers), ("press", "form:confirm")])
    await bot.deliver()


def user_texts(bot: Harness, user: LocalUser) -> list[str]:
    return bot.texts(user.id)


def no_error_replies(bot: Harness, user: LocalUser) -> None:
    assert not any("went wrong" in t or "حدث خطأ" in t for t in bot.texts(user.id))


def prompt(name: str, lang: str = "en", **values: Any) -> str:
    """A form prompt as the bot renders it: "Step n of 10" over each field's question."""
    defaults: dict[str, Any] = {"limit": 1000, "chosen": [], "retention_days": 365}
    question = TEXTS.render(f"form/{name}", lang, **{**defaults, **values})  # type: ignore[arg-type]
    key = "sector" if name == form.SECTOR_OTHER else name
    if key not in form.COUNTED:
        return question
    number = form.COUNTED.index(key) + 1
    header = TEXTS.render("form/progress", lang, number=number, total=len(form.COUNTED))  # type: ignore[arg-type]
    return header + "\n" + question


def post_message_id(bot: Harness) -> int:
    """The message id the fake API gave the (only) staff post."""
    [(_chat, message_id)] = [key for key in bot.api.messages if key[0] == STAFF_CHAT]
    return message_id


def labels(bot: Harness, chat: int) -> list[str]:
    return [label for row in bot.last_buttons(chat) for label, _ in row]


# 1. Complete forms -----------------------------------------------------------------


async def test_complete_english_form_is_stored_qualified_and_posted_once(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    assert bot.texts(english_user.id)[-2] == prompt("intro")
    assert bot.last_text(english_user.id) == prompt("organisation")
    await bot.send(english_user, "Acme Security")
    assert bot.last_text(english_user.id) == prompt("sector")
    assert "Cybersecurity" in labels(bot, english_user.id)
    await bot.press(english_user, "form:sector:cybersecurity")
    assert bot.last_text(english_user.id) == prompt("country")
    await bot.send(english_user, "Jordan")
    assert bot.last_text(english_user.id) == prompt("name")
    await bot.send(english_user, "Sam Smith")
    assert bot.last_text(english_user.id) == prompt("role")
    await bot.send(english_user, "Head of threat intelligence")
    assert bot.last_text(english_user.id) == prompt("email")
    await bot.send(english_user, "Sam@Acme-Security.com")
    assert bot.last_text(english_user.id) == prompt("phone")
    phone_prompt = bot.api.calls[-1].params["reply_markup"]
    assert phone_prompt["keyboard"][0][0]["request_contact"] is True
    await bot.send_update(bot.updates.contact(english_user, "447911123456"))
    assert bot.last_text(english_user.id) == prompt("interests")
    await bot.press(english_user, "form:interest:information-sharing")
    await bot.press(english_user, "form:interest:intelligence-analysis")
    assert "Selected: Information sharing, Intelligence analysis" in bot.last_text(english_user.id)
    assert "✅ Information sharing" in labels(bot, english_user.id)
    await bot.press(english_user, "form:interest:information-sharing")
    assert "Selected: Intelligence analysis" in bot.last_text(english_user.id)
    await bot.press(english_user, "form:interests_done")
    assert bot.last_text(english_user.id) == prompt("message")
    await bot.send(english_user, "We would like to share phishing data.")
    assert bot.last_text(english_user.id) == prompt("consent")
    await bot.press(english_user, "form:consent:yes")

    summary = bot.last_text(english_user.id)
    assert summary.startswith("<b>Please check your details</b>")
    for expected in (
        "<b>Organisation:</b>\nAcme Security",
        "<b>Sector:</b>\nCybersecurity",
        "<b>Country:</b>\nJordan",
        "<b>Full name:</b>\nSam Smith",
        "<b>Role:</b>\nHead of threat intelligence",
        "<b>Work email:</b>\nSam@acme-security.com",
        "<b>Phone:</b>\n+447911123456",
        "<b>Interests:</b>\nIntelligence analysis",
        "<b>Message:</b>\nWe would like to share phishing data.",
    ):
        assert expected in summary
    assert bot.staff_posts() == []
    await bot.press(english_user, "form:confirm")
    await bot.deliver()
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")

    [lead] = await bot.store.all_leads()
    assert (lead.organisation, lead.sector, lead.sector_detail, lead.country) == (
        "Acme Security",
        "cybersecurity",
        None,
        "Jordan",
    )
    assert (lead.name, lead.role, lead.email, lead.phone) == (
        "Sam Smith",
        "Head of threat intelligence",
        "Sam@acme-security.com",
        "+447911123456",
    )
    assert lead.interests == ["intelligence-analysis"]
    assert lead.message == "We would like to share phishing data."
    assert (lead.language, lead.user_id, lead.username, lead.source) == ("en", 101, "sam", None)
    assert (lead.score, lead.qualified, lead.status) == (100, True, "new")
    assert lead.reasons == [{"code": "all_passed"}]
    assert lead.consent_at is not None
    assert await bot.store.load_form(english_user.id) is None

    [post] = bot.staff_posts()
    assert f"Partnership lead #{lead.id}" in post.params["text"]
    assert "Acme Security" in post.params["text"]
    post_buttons = buttons({"reply_markup": post.params["reply_markup"]})
    assert post_buttons == [
        [
            ("🙋 Claim", f"lead:claim:{lead.id}"),
            ("📞 Contacted", f"lead:contacted:{lead.id}"),
            ("🚫 Not a fit", f"lead:not_fit:{lead.id}"),
        ]
    ]
    assert (lead.staff_chat_id, lead.staff_message_id) == (STAFF_CHAT, int(post_message_id(bot)))
    assert [i.status for i in await bot.store.outbox()] == ["sent"]
    no_error_replies(bot, english_user)


async def test_complete_arabic_form_with_arabic_indic_phone(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/apply")
    assert bot.texts(arabic_user.id)[-2] == prompt("intro", "ar")
    assert bot.last_text(arabic_user.id) == prompt("organisation", "ar")
    steps = form_steps("ar")
    expected_prompts = [
        "sector",
        "country",
        "name",
        "role",
        "email",
        "phone",
        "interests",
    ]
    for (kind, value), name in zip(steps[:7], [*expected_prompts], strict=True):
        await run_steps([bot], arabic_user, [(kind, value)])
        assert bot.last_text(arabic_user.id) == prompt(name, "ar"), name
    await run_steps([bot], arabic_user, steps[7:9])
    assert "اخترتم: مشاركة المعلومات، تحليل المعلومات الاستخباراتية" in bot.last_text(
        arabic_user.id
    )
    await run_steps([bot], arabic_user, steps[9:10])  # untoggle
    assert bot.last_text(arabic_user.id) == prompt(
        "interests", "ar", chosen=["تحليل المعلومات الاستخباراتية"]
    )
    await run_steps([bot], arabic_user, steps[10:11])  # Done
    assert bot.last_text(arabic_user.id) == prompt("message", "ar")
    await run_steps([bot], arabic_user, steps[11:])
    summary = bot.last_text(arabic_user.id)
    assert "يُرجى مراجعة بياناتكم" in summary
    for expected in (
        "شركة الأمان العربية",
        "المصارف والتمويل",
        "الأردن",
        "سارة أحمد",
        "sara@arab-bank.jo",
        "+962791234567",
        "تحليل المعلومات الاستخباراتية",
        "نود التعاون في تحليل المعلومات.",
    ):
        assert expected in summary
    # The consent button row reads right to left.
    await bot.press(arabic_user, "form:confirm")
    await bot.deliver()
    assert bot.last_text(arabic_user.id) == TEXTS.render("form/submitted", "ar")

    [lead] = await bot.store.all_leads()
    assert lead.language == "ar"
    assert lead.organisation == "شركة الأمان العربية"
    assert lead.sector == "banking"
    assert lead.phone == "+962791234567"
    assert lead.interests == ["intelligence-analysis"]
    assert (lead.score, lead.status) == (100, "new")
    [post] = bot.staff_posts()
    assert "شركة الأمان العربية" in post.params["text"]
    assert [
        d for row in buttons({"reply_markup": post.params["reply_markup"]}) for _, d in row
    ] == [
        f"lead:claim:{lead.id}",
        f"lead:contacted:{lead.id}",
        f"lead:not_fit:{lead.id}",
    ]
    no_error_replies(bot, arabic_user)


# 2. Validation -------------------------------------------------------------------------


async def _at_step(bot: Harness, user: LocalUser, step: str) -> None:
    """Fill the form up to ``step`` (its prompt is the last message)."""
    await bot.send(user, "/apply")
    # The form's own field order; the sector details step is skipped by a sector button.
    order = [f.key for f in form.FIELDS if f.key != form.SECTOR_OTHER]
    steps = form_steps()
    index = order.index(step)
    # Steps 7-10 are the interest toggles; the message step comes after "Done".
    if index > 7:
        index += 3
    await run_steps([bot], user, steps[:index])
    row = await bot.store.load_form(user.id)
    assert row is not None and row.state["step"] == step


async def _assert_error_then_same_prompt(
    bot: Harness, user: LocalUser, error: str, step: str, limit: int | None = None
) -> None:
    texts = bot.texts(user.id)
    assert texts[-2] == TEXTS.render("form/error", "en", error=error, limit=limit)
    assert texts[-1] == prompt(step)
    row = await bot.store.load_form(user.id)
    assert row is not None and row.state["step"] == step
    no_error_replies(bot, user)


async def test_too_long_organisation_states_the_limit(
    bot: Harness, english_user: LocalUser
) -> None:
    await _at_step(bot, english_user, "organisation")
    await bot.send(english_user, "A" * 201)
    await _assert_error_then_same_prompt(bot, english_user, "too_long", "organisation", 200)
    assert "the limit is 200 characters" in bot.texts(english_user.id)[-2]


async def test_bad_email_is_refused_without_dns(bot: Harness, english_user: LocalUser) -> None:
    await _at_step(bot, english_user, "email")
    for bad in ("sam at acme", "sam@", "@acme.com", "sam@acme"):
        await bot.send(english_user, bad)
        await _assert_error_then_same_prompt(bot, english_user, "email_invalid", "email")
    # A domain that does not exist is accepted: no DNS lookup.
    await bot.send(english_user, "sam@no-such-domain-partnerbot-test.com")
    row = await bot.store.load_form(english_user.id)
    assert (
        row is not None and row.state["data"]["email"] == "sam@no-such-domain-partnerbot-test.com"
    )


async def test_bad_phone_is_refused(bot: Harness, english_user: LocalUser) -> None:
    await _at_step(bot, english_user, "phone")
    for bad in ("12", "+1 555", "call me maybe", "+999 123 456 789"):
        await bot.send(english_user, bad)
        await _assert_error_then_same_prompt(bot, english_user, "phone_invalid", "phone")
        assert 'tap "Skip"' in bot.texts(english_user.id)[-2]


async def test_typing_at_a_button_step_asks_for_the_buttons(
    bot: Harness, english_user: LocalUser
) -> None:
    await _at_step(bot, english_user, "interests")
    await bot.send(english_user, "all of them")
    await _assert_error_then_same_prompt(bot, english_user, "use_buttons", "interests")
    await bot.press(english_user, "form:interest:training")
    await bot.press(english_user, "form:interests_done")
    await bot.send(english_user, "hello")  # the message step
    await bot.send(english_user, "perhaps")  # the consent step
    await _assert_error_then_same_prompt(bot, english_user, "use_buttons", "consent")
    await bot.send(english_user, "yes I agree")  # typed consent counts as the button
    assert bot.last_text(english_user.id).startswith("<b>Please check your details</b>")


async def test_done_without_an_interest_is_refused(bot: Harness, english_user: LocalUser) -> None:
    await _at_step(bot, english_user, "interests")
    calls = await bot.press(english_user, "form:interests_done")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == TEXTS.render("form/error", "en", error="choose_one", limit=None)
    assert answer.params["show_alert"] is True
    row = await bot.store.load_form(english_user.id)
    assert row is not None and row.state["step"] == "interests"
    # Choosing and unchoosing leaves nothing chosen: still refused.
    await bot.press(english_user, "form:interest:training")
    await bot.press(english_user, "form:interest:training")
    await bot.press(english_user, "form:interests_done")
    row = await bot.store.load_form(english_user.id)
    assert row is not None and row.state["step"] == "interests"
    no_error_replies(bot, english_user)


async def test_over_long_message_states_the_limit(bot: Harness, english_user: LocalUser) -> None:
    await _at_step(bot, english_user, "message")
    await bot.send(english_user, "word " * 250)  # 1250 characters
    await _assert_error_then_same_prompt(bot, english_user, "too_long", "message", 1000)
    assert "the limit is 1000 characters" in bot.texts(english_user.id)[-2]
    await bot.send(english_user, "x" * 1000)
    row = await bot.store.load_form(english_user.id)
    assert row is not None and row.state["step"] == "consent"


# 3. Optional fields and typed sectors ------------------------------------------------------


async def test_skipping_phone_by_text_and_message_by_button(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    steps = form_steps(phone="Skip ⏭", message="skip")
    await run_steps([bot], english_user, steps)
    summary = bot.last_text(english_user.id)
    assert "<b>Phone:</b>\n—" in summary
    assert "<b>Message:</b>\n—" in summary
    # The phone step's reply keyboard was closed when the form moved on.
    assert any("remove_keyboard" in (c.params.get("reply_markup") or {}) for c in bot.api.calls)
    await bot.press(english_user, "form:confirm")
    [lead] = await bot.store.all_leads()
    assert (lead.phone, lead.message) == (None, None)
    assert lead.status == "new"


async def test_skipping_phone_by_arabic_reply_keyboard_text(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/apply")
    await run_steps([bot], arabic_user, form_steps("ar", phone="تخطٍّ ⏭")[:7])
    assert bot.last_text(arabic_user.id) == prompt("interests", "ar")


async def test_typed_sector_maps_to_a_known_sector(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps(sector="typed:bank"))
    assert "<b>Sector:</b>\nBanking/finance\n" in bot.last_text(english_user.id)
    await bot.press(english_user, "form:confirm")
    [lead] = await bot.store.all_leads()
    assert (lead.sector, lead.sector_detail) == ("banking", None)


async def test_typed_unknown_sector_is_other_with_detail(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/apply")
    steps = form_steps("ar", sector="typed:زراعة")
    await run_steps([bot], arabic_user, steps[:2])
    # The detail was typed already, so the next question is the country.
    assert bot.last_text(arabic_user.id) == prompt("country", "ar")
    await run_steps([bot], arabic_user, steps[2:])
    assert "قطاع آخر (زراعة)" in bot.last_text(arabic_user.id)
    await bot.press(arabic_user, "form:confirm")
    [lead] = await bot.store.all_leads()
    assert (lead.sector, lead.sector_detail) == ("other", "زراعة")


async def test_other_sector_button_asks_for_the_detail(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps(sector="other")[:2])
    assert bot.last_text(english_user.id) == prompt("sector_detail")
    await bot.send(english_user, "Telecoms")
    assert bot.last_text(english_user.id) == prompt("country")


# 4. Edit and cancel ------------------------------------------------------------------------


async def test_edit_email_from_the_summary(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps())
    await bot.press(english_user, "form:edit")
    assert bot.last_text(english_user.id) == TEXTS.render("form/edit_which", "en")
    assert "Work email" in labels(bot, english_user.id)
    await bot.press(english_user, "form:edit:email")
    assert bot.last_text(english_user.id) == prompt("email")
    await bot.send(english_user, "not an email")
    assert bot.last_text(english_user.id) == prompt("email")
    await bot.send(english_user, "sam.smith@acme-security.com")
    summary = bot.last_text(english_user.id)
    assert summary.startswith("<b>Please check your details</b>")
    assert "<b>Work email:</b>\nsam.smith@acme-security.com" in summary
    assert "<b>Country:</b>\nJordan" in summary  # the rest is kept
    await bot.press(english_user, "form:confirm")
    [lead] = await bot.store.all_leads()
    assert lead.email == "sam.smith@acme-security.com"


async def test_edit_sector_to_other_asks_detail_then_returns_to_summary(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps())
    await bot.press(english_user, "form:edit")
    await bot.press(english_user, "form:edit:sector")
    await bot.press(english_user, "form:sector:other")
    assert bot.last_text(english_user.id) == prompt("sector_detail")
    await bot.send(english_user, "Telecoms")
    assert "<b>Sector:</b>\nOther (Telecoms)" in bot.last_text(english_user.id)


async def test_cancel_command_says_what_was_discarded(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:3])
    await bot.send(english_user, "/cancel")
    text = bot.last_text(english_user.id)
    assert text.startswith("Form cancelled.")
    assert "Organisation, Sector, Country" in text
    assert await bot.store.load_form(english_user.id) is None
    await bot.send(english_user, "/cancel")
    assert bot.last_text(english_user.id) == TEXTS.render("form/nothing_to_cancel", "en")
    # With the form gone, text is a question again, not a field value.
    await bot.send(english_user, "Sam Smith")
    assert await bot.store.load_form(english_user.id) is None


async def test_cancel_button_in_arabic(bot: Harness, arabic_user: LocalUser) -> None:
    await bot.send(arabic_user, "/apply")
    await run_steps([bot], arabic_user, form_steps("ar")[:1])
    await bot.press(arabic_user, "form:cancel")
    text = bot.last_text(arabic_user.id)
    assert "أُلغيت الاستمارة" in text and "الجهة" in text
    assert await bot.store.load_form(arabic_user.id) is None


async def test_declining_consent_discards_the_form(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:-1])
    await bot.press(english_user, "form:consent:no")
    assert bot.last_text(english_user.id) == TEXTS.render("form/declined", "en")
    assert await bot.store.load_form(english_user.id) is None
    assert await bot.store.all_leads() == []


# 5. / 6. Restart, resume and two processes ---------------------------------------------------


async def test_restart_mid_form_resumes_on_another_instance(
    make_bot: Any, english_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    await a.send(english_user, "/apply")
    steps = form_steps()
    await run_steps([a], english_user, steps[:4])  # up to the name
    await a.app.shutdown()

    b: Harness = await make_bot()
    await b.send(english_user, "Head of threat intelligence")  # the role
    assert b.last_text(english_user.id) == prompt("email")
    await b.send(english_user, "/start")
    texts = b.texts(english_user.id)
    assert texts[-2].startswith("Hello Sam!")
    assert texts[-1] == TEXTS.render("form/resume", "en", step="Work email")
    assert [d for row in b.last_buttons(english_user.id) for _, d in row] == [
        "form:continue",
        "form:restart",
    ]
    await b.press(english_user, "form:continue")
    assert b.last_text(english_user.id) == prompt("email")
    await run_steps([b], english_user, [*steps[5:], ("press", "form:confirm")])
    await b.deliver()
    [lead] = await b.store.all_leads()
    assert (lead.name, lead.role, lead.email) == (
        "Sam Smith",
        "Head of threat intelligence",
        "sam@acme-security.com",
    )
    assert len(b.staff_posts()) == 1


async def test_start_over_discards_the_open_form(bot: Harness, english_user: LocalUser) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:3])
    await bot.send(english_user, "/apply")
    assert bot.last_text(english_user.id) == TEXTS.render("form/resume", "en", step="Full name")
    await bot.press(english_user, "form:restart")
    assert bot.last_text(english_user.id) == prompt("organisation")
    row = await bot.store.load_form(english_user.id)
    assert row is not None and row.state["data"] == {}


async def test_two_instances_alternating_updates_make_one_lead(
    make_bot: Any, arabic_user: LocalUser
) -> None:
    a: Harness = await make_bot()
    b: Harness = await make_bot()
    await b.send(arabic_user, "/apply")
    steps = [*form_steps("ar"), ("press", "form:confirm")]
    await run_steps([a, b], arabic_user, steps)
    await a.deliver()
    [lead] = await a.store.all_leads()
    assert lead.organisation == "شركة الأمان العربية"
    assert lead.interests == ["intelligence-analysis"]
    assert lead.phone == "+962791234567"
    assert lead.message == "نود التعاون في تحليل المعلومات."
    assert len(a.staff_posts()) + len(b.staff_posts()) == 1
    assert [i.status for i in await a.store.outbox()] == ["sent"]
    for harness in (a, b):
        no_error_replies(harness, arabic_user)


# 7. A question in the middle of the form -------------------------------------------------------


async def test_question_mid_form_is_answered_then_the_step_asked_again(
    bot: Harness, english_user: LocalUser
) -> None:
    await _at_step(bot, english_user, "country")
    before = len(bot.texts(english_user.id))
    await bot.send(english_user, "what is expert secondment?")
    new = bot.texts(english_user.id)[before:]
    entry = bot.services.kb["expert-secondment"]
    assert new[0].startswith(f"<b>{entry.title['en']}</b>")
    assert new[-2] == TEXTS.render("form/back_to_form", "en", again=False)  # it had its mark
    assert new[-1] == prompt("country")
    row = await bot.store.load_form(english_user.id)
    assert row is not None and "country" not in row.state["data"]
    assert row.state["step"] == "country"
    await bot.send(english_user, "Jordan")
    assert bot.last_text(english_user.id) == prompt("name")


# 8. Idle expiry -------------------------------------------------------------------------------


async def test_idle_form_expires(make_bot: Any, english_user: LocalUser) -> None:
    clock = Clock()
    bot: Harness = await make_bot({"form": {"idle_timeout_minutes": 30}}, clock=clock)
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:2])
    clock.now += timedelta(minutes=29)
    await bot.send(english_user, "Jordan")  # still open: activity keeps it alive
    assert bot.last_text(english_user.id) == prompt("name")
    clock.now += timedelta(minutes=31)
    before = len(bot.texts(english_user.id))
    await bot.send(english_user, "Sam Smith")
    new = bot.texts(english_user.id)[before:]
    assert new[0] == TEXTS.render("form/expired", "en")
    assert await bot.store.load_form(english_user.id) is None
    assert await bot.store.all_leads() == []


async def test_idle_form_expired_button_press(make_bot: Any, english_user: LocalUser) -> None:
    clock = Clock()
    bot: Harness = await make_bot(clock=clock)
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:1])
    clock.now += timedelta(minutes=load_config(data={}, env={}).form.idle_timeout_minutes + 1)
    calls = await bot.press(english_user, "form:sector:it")
    assert bot.last_text(english_user.id) == TEXTS.render("form/expired", "en")
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == TEXTS.render("form/closed", "en")
    assert await bot.store.load_form(english_user.id) is None


async def test_pressing_confirm_twice_does_not_start_a_new_form(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps())
    found = find_button(bot.api, english_user.id, "form:confirm")
    assert found is not None
    await bot.press(english_user, "form:confirm")
    await bot.deliver()
    replies = len(bot.texts(english_user.id))
    calls = await bot.send_update(bot.updates.press(english_user, found[0], "form:confirm"))
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == TEXTS.render("form/closed", "en")
    assert len(bot.texts(english_user.id)) == replies  # no new form, no intro
    assert await bot.store.load_form(english_user.id) is None
    assert len(await bot.store.all_leads()) == 1
    assert len(bot.staff_posts()) == 1


async def test_stale_sector_button_after_cancel_does_not_reopen_the_form(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/apply")
    await run_steps([bot], arabic_user, form_steps("ar")[:1])
    found = find_button(bot.api, arabic_user.id, "form:sector:it")
    assert found is not None
    await bot.send(arabic_user, "/cancel")
    calls = await bot.send_update(bot.updates.press(arabic_user, found[0], "form:sector:it"))
    [answer] = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answer.params["text"] == TEXTS.render("form/closed", "ar")
    assert await bot.store.load_form(arabic_user.id) is None


async def test_continue_after_expiry_starts_a_new_form(
    make_bot: Any, english_user: LocalUser
) -> None:
    clock = Clock()
    bot: Harness = await make_bot(clock=clock)
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps()[:1])
    await bot.send(english_user, "/start")
    clock.now += timedelta(days=2)
    await bot.press(english_user, "form:continue")
    texts = bot.texts(english_user.id)
    assert texts[-3:] == [
        TEXTS.render("form/expired", "en"),
        prompt("intro"),
        prompt("organisation"),
    ]


# 16. Apply intent ---------------------------------------------------------------------------


async def test_apply_intent_in_english_starts_the_form(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "we want to partner with you")
    texts = bot.texts(english_user.id)
    assert texts[-2:] == [prompt("intro"), prompt("organisation")]
    assert await bot.store.load_form(english_user.id) is not None


async def test_apply_intent_in_arabic_starts_the_arabic_form(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "نبغى نتعاون معكم")
    texts = bot.texts(english_user.id)
    assert texts[-2:] == [prompt("intro", "ar"), prompt("organisation", "ar")]


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("what is the partnership?", "en"),
        ("tell me about partnerships", "en"),
        ("ما هي الشراكة؟", "ar"),
        ("كيف تعمل الشراكة", "ar"),
    ],
)
async def test_a_question_about_partnering_is_answered_not_sent_to_the_form(
    bot: Harness, english_user: LocalUser, question: str, lang: str
) -> None:
    """The intent's phrases share "partner" with the answers: a question about it, with
    no wish to join, gets the answer (and its button to the form), not the form."""
    await bot.send(english_user, question)
    assert await bot.store.load_form(english_user.id) is None
    title = bot.services.kb["partnership-options"].title[lang]
    assert f"<b>{title}</b>" in bot.texts(english_user.id)[-1]


async def test_become_a_partner_button_under_an_answer_starts_the_form(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "how can we share threat data with interpol?")
    await bot.press(english_user, "🤝 Become a partner")
    texts = bot.texts(english_user.id)
    assert texts[-2:] == [prompt("intro"), prompt("organisation")]
