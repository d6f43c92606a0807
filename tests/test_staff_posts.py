"""What staff read: reasons, review flags and history in the post, safe user values, the
CSV export, and an Arabic staff side with no English of ours."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from bot.db.models import Lead, utcnow
from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness, MakeBot

BIDI_FROM_USERS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FSI, PDI, LRM, RLM = "\u2068", "\u2069", "\u200e", "\u200f"
EARLIER = {
    "submitted_at": "2025-01-05T09:30:00",
    "organisation": "Old Name Ltd",
    "sector": "it",
    "sector_detail": None,
    "country": "Qatar",
    "name": "Sam Smith",
    "role": "Analyst",
    "email": "sam@old-name.example",
    "phone": "+97455512345",
    "interests": ["training"],
    "message": "First try",
}


async def add_lead(bot: Harness, **values: Any) -> Lead:
    """A lead row written directly, as the store would after a submission."""
    row: dict[str, Any] = {
        "user_id": 101,
        "username": "sam",
        "language": "en",
        "source": None,
        "organisation": "Acme Security",
        "sector": "cybersecurity",
        "sector_detail": None,
        "country": "Jordan",
        "name": "Sam Smith",
        "role": "CTO",
        "email": "sam@acme-security.com",
        "phone": "+962791234567",
        "interests": ["training"],
        "message": None,
        "consent_at": utcnow(),
        "score": 100,
        "qualified": True,
        "reasons": [{"code": "all_passed"}],
        "status": "new",
    }
    row.update(values)
    async with bot.store.session.begin() as session:
        lead = Lead(**row)
        session.add(lead)
    return lead


async def show(bot: Harness, staff_user: LocalUser, lead_id: int) -> list[str]:
    """/lead ID in the staff chat: the post, then the history when there is one."""
    calls = await bot.send(staff_user, f"/lead {lead_id}", chat_id=STAFF_CHAT)
    return [c.params["text"] for c in calls if c.method == "sendMessage"]


# Reasons, review flags, history ---------------------------------------------------------------

UNQUALIFIED: dict[str, Any] = {
    "score": 20,
    "qualified": False,
    "status": "unqualified",
    "sector": "other",
    "reasons": [
        {"code": "missing_fields", "fields": ["phone", "role"]},
        {"code": "sector", "sector": "other"},
        {"code": "free_mail", "domain": "gmail.com"},
        {"code": "below_minimum", "score": 20, "minimum": 60},
        {"code": "legacy", "text": "free-mail address (gmail.com)"},
    ],
}


async def test_reasons_are_shown_in_english(bot: Harness, staff_user: LocalUser) -> None:
    lead = await add_lead(bot, **UNQUALIFIED)
    [post] = await show(bot, staff_user, lead.id)
    assert "🔍 <b>Needs review:</b> not qualified (reasons below)" in post
    assert (
        "<b>Score:</b> 20/100\n"
        "• missing required field(s): Phone, Role\n"
        "• sector “Other” is not a qualifying sector\n"
        "• free-mail address (gmail.com)\n"
        "• score 20 is below the minimum of 60\n"
        "• free-mail address (gmail.com)\n"
    ) in post


async def test_reasons_are_shown_in_arabic(make_bot: MakeBot, staff_user: LocalUser) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    lead = await add_lead(bot, **UNQUALIFIED)
    [post] = await show(bot, staff_user, lead.id)
    lines = post.replace(RLM, "").split("\n")
    assert "🔍 <b>يحتاج إلى مراجعة:</b> لم يستوفِ شروط التأهيل (الأسباب أدناه)" in lines
    start = lines.index("<b>التقييم:</b> 20/100")
    assert lines[start + 1 : start + 6] == [
        "• بيانات إلزامية ناقصة: الهاتف، المنصب",
        "• القطاع «قطاع آخر» ليس من القطاعات المؤهلة",
        f"• بريد إلكتروني من خدمة مجانية ({FSI}gmail.com{PDI})",
        "• التقييم 20 أقل من الحد الأدنى المطلوب (60)",
        f"• {FSI}free-mail address (gmail.com){PDI}",  # a migrated row keeps its old text
    ]


async def test_a_qualified_lead_needs_no_review(bot: Harness, staff_user: LocalUser) -> None:
    lead = await add_lead(bot)
    [post] = await show(bot, staff_user, lead.id)
    assert "Needs review" not in post and "duplicate" not in post and "Earlier" not in post
    assert "<b>Score:</b> 100/100\n• all rules passed\n" in post


async def test_duplicate_changed_organisation_and_history(
    bot: Harness, staff_user: LocalUser
) -> None:
    first = await add_lead(bot, user_id=303, email="sam@acme-security.com")
    second = EARLIER | {"submitted_at": "2025-02-01T08:00:00", "organisation": "Acme Sec"}
    lead = await add_lead(bot, duplicate_of=first.id, history=[EARLIER, second], repeat_count=2)
    post, history = await show(bot, staff_user, lead.id)
    assert f"⚠️ Possible duplicate of #{first.id} (same email, another user)" in post
    assert "✏️ Organisation changed (was: Acme Sec)" in post
    assert f"🗂 Earlier submissions: 2; /lead {lead.id} shows them" in post
    assert history.startswith(f"<b>Earlier submissions of lead #{lead.id}</b> (oldest first)")
    assert (
        "<b>1. 2025-01-05 09:30 UTC</b>\n"
        "Organisation: Old Name Ltd\n"
        "Country: Qatar\n"
        "Full name: Sam Smith\n"
        "Role: Analyst\n"
        "Sector: IT\n"
        "Work email: <code>sam@old-name.example</code>\n"
        "Phone: <code>+97455512345</code>\n"
        "Interests: Training\n"
        "Message: First try\n"
    ) in history
    assert "<b>2. 2025-02-01 08:00 UTC</b>\nOrganisation: Acme Sec\n" in history


async def test_same_organisation_is_not_called_a_change(
    bot: Harness, staff_user: LocalUser
) -> None:
    lead = await add_lead(bot, history=[EARLIER | {"organisation": "Acme Security"}])
    post, history = await show(bot, staff_user, lead.id)
    assert "Organisation changed" not in post
    assert f"🗂 Earlier submissions: 1; /lead {lead.id} shows them" in post
    assert "Organisation: Acme Security" in history


async def test_a_lead_without_history_sends_the_post_only(
    bot: Harness, staff_user: LocalUser
) -> None:
    lead = await add_lead(bot)
    assert len(await show(bot, staff_user, lead.id)) == 1


# User values cannot reorder what staff read ------------------------------------------------------


SPOOFED = {
    "organisation": "Acme \u202emoc.live\u202c Bank",
    "name": "Sam\u2067 Smith\u2069",
    "role": "C\u200fTO\u061c",
    "country": "Jor\u202adan",
    "sector": "other",
    "sector_detail": "Tele\u2066coms",
    "message": "Hi\u202b there",
    "handled_by": "Eve\u202e (@eve)",
    "status": "claimed",
}


async def test_bidi_controls_from_users_are_removed_in_english(
    bot: Harness, staff_user: LocalUser
) -> None:
    lead = await add_lead(bot, **SPOOFED, handled_at=utcnow(), history=[EARLIER | SPOOFED])
    texts = await show(bot, staff_user, lead.id)
    await bot.send(staff_user, "/leads", chat_id=STAFF_CHAT)
    texts.append(bot.last_text(STAFF_CHAT))
    for text in texts:
        assert not BIDI_FROM_USERS.search(text), text
    post, history, leads = texts
    for clean in ("Acme moc.live Bank", "Sam Smith", "CTO", "Jordan", "Telecoms", "Hi there"):
        assert clean in post
    assert "Eve (@eve)" in post
    assert "Organisation: Acme moc.live Bank" in history
    assert "Acme moc.live Bank" in leads


async def test_bidi_controls_from_users_are_removed_in_arabic(
    make_bot: MakeBot, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    lead = await add_lead(bot, **SPOOFED, handled_at=utcnow())
    [post] = await show(bot, staff_user, lead.id)
    # Only the template's own marks remain: isolates around values, RLM/LRM for direction.
    assert not re.search("[\u061c\u202a-\u202e\u2066\u2067]", post)
    assert f"{FSI}Acme moc.live Bank{PDI}" in post
    assert f"{FSI}Sam Smith{PDI}" in post and f"{FSI}CTO{PDI}" in post
    assert f"{FSI}Eve {LRM}(@eve){PDI}" in post


async def test_arabic_post_email_and_phone_copy_cleanly(
    make_bot: MakeBot, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    email, phone = "sara@arab-bank.jo", "+962791234567"
    lead = await add_lead(bot, email=email + "\u200f", phone="\u200e" + phone, language="ar")
    [post] = await show(bot, staff_user, lead.id)
    # One tap on <code> copies its text: exactly the value, with no mark inside.
    assert f"<code>{email}</code>" in post
    assert f"<code>{phone}</code>" in post


# The CSV export ---------------------------------------------------------------------------------


async def test_export_cells_cannot_run_as_formulas(bot: Harness, staff_user: LocalUser) -> None:
    await add_lead(
        bot,
        organisation='=HYPERLINK("http://evil.example","Open")',
        name="@SUM(A1:A9)",
        role="-2+3",
        country="\tJordan",
        message="\r=1+1",
        sector_detail="\uff1dcmd",
        phone="+962791234567",
    )
    calls = await bot.send(staff_user, "/export")
    [doc] = [c for c in calls if c.method == "sendDocument"]
    [data] = doc.files.values()
    [row] = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["organisation"] == '\'=HYPERLINK("http://evil.example","Open")'
    assert row["name"] == "'@SUM(A1:A9)"
    assert row["role"] == "'-2+3"
    assert row["country"] == "'\tJordan"
    assert row["message"] == "'\r=1+1"
    assert row["sector_detail"] == "'\uff1dcmd"
    assert row["phone"] == "'+962791234567"
    assert row["email"] == "sam@acme-security.com"  # plain values stay as they are
    assert row["score"] == "100"


# Arabic staff side: no English of ours -------------------------------------------------------------


def _english_words(text: str, *values: str) -> list[str]:
    """Latin words left after removing user values, commands and HTML tags."""
    for value in values:
        text = text.replace(value, "")
    text = re.sub(r"</?\w+>|/\w+", "", text)
    return re.findall(r"[A-Za-z]{2,}", text)


async def test_arabic_staff_side_has_no_english_words_of_ours(
    make_bot: MakeBot, staff_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    email, phone = "sara@arab-bank.jo", "+962791234567"
    arabic = {
        "language": "ar",
        "username": None,
        "organisation": "شركة الأمان العربية",
        "country": "الأردن",
        "name": "سارة أحمد",
        "role": "مديرة أمن المعلومات",
        "email": email,
        "phone": phone,
        "message": "نود التعاون",
    }
    first = await add_lead(bot, **arabic, user_id=404)
    await bot.store.set_status(first.id, "claimed", "سامي (@sami)")
    coded = UNQUALIFIED | {"reasons": UNQUALIFIED["reasons"][:-1], "sector_detail": "زراعة"}
    earlier = EARLIER | arabic | {"organisation": "شركة قديمة"}
    lead = await add_lead(
        bot, **arabic | coded, duplicate_of=first.id, history=[earlier], repeat_count=1
    )
    texts = await show(bot, staff_user, lead.id)
    texts += await show(bot, staff_user, first.id)
    replies = {}
    for command in ("/stats", "/leads", "/leads bogus", "/lead", "/lead 999", "/export"):
        await bot.send(staff_user, command, chat_id=STAFF_CHAT)
        replies[command] = bot.last_text(STAFF_CHAT)
    texts += replies.values()
    [doc] = [c for c in bot.api.calls if c.method == "sendDocument"]
    texts.append(doc.params["caption"])
    for text in texts:
        assert _english_words(text, email, phone, "@sami", "gmail.com") == [], text
    post = texts[0].replace(RLM, "")
    assert f"⚠️ قد يكون تكرارًا للطلب رقم {first.id} (البريد نفسه من مستخدم آخر)" in post
    assert f"✏️ تغيّرت الجهة (كانت: {FSI}شركة قديمة{PDI})" in post
    assert f"🗂 النسخ السابقة من الطلب: 1، ويعرضها الأمر {LRM}/lead {lead.id}" in post
    stats = replies["/stats"]
    assert "<b>حسب اللغة</b>\n" + RLM + "العربية: 2\n" in stats
    assert "<b>حسب المصدر</b>\n" + RLM + "مباشر: 2\n" in stats


async def test_leads_takes_a_status_in_arabic(make_bot: MakeBot, staff_user: LocalUser) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})
    claimed = await add_lead(bot, organisation="شركة المتابعة")
    await add_lead(bot, organisation="شركة جديدة")
    await bot.store.set_status(claimed.id, "claimed", "سامي (@sami)")
    for argument in ("قيد المتابعة", "claimed"):
        await bot.send(staff_user, f"/leads {argument}", chat_id=STAFF_CHAT)
        text = bot.last_text(STAFF_CHAT)
        assert "شركة المتابعة" in text and "شركة جديدة" not in text
    await bot.send(staff_user, "/leads bogus", chat_id=STAFF_CHAT)
    usage = bot.last_text(STAFF_CHAT).replace(RLM, "").replace(LRM, "")
    assert usage.split("\n")[1] == ("الحالات: جديد، قيد المتابعة، تم التواصل، غير مناسب، غير مؤهل")
