"""What an Arabic reader sees: the bot's Arabic output run through the Unicode bidi
algorithm (python-bidi), as Telegram lays out each line.

Each Arabic line must be a right-to-left paragraph, and every Latin run in it (an
email, a phone number, a command, a company name) must read the same on screen as it
was written: not "962791234567+", not "topics/".
"""

from __future__ import annotations

import re

import pytest
from bidi import get_base_level, get_display

from bot.knowledge import KnowledgeBase
from bot.local_api import LocalUser
from tests.conftest import STAFF_CHAT, Harness
from tests.test_lead_form import TEXTS, form_steps, run_steps, submit_form

# A run a reader must see intact: Latin letters, digits and the punctuation inside
# emails, phone numbers and commands.
_LATIN_RUN = re.compile(r"[+/@]?[A-Za-z0-9][A-Za-z0-9@._+\-/]*[A-Za-z0-9]|[+/][A-Za-z0-9]+")
_TAGS = re.compile(r"</?[a-z]+>")


def _shown(line: str) -> str:
    """The line as laid out on screen, Telegram's HTML tags removed."""
    return get_display(_TAGS.sub("", line))


def assert_reads_right_to_left(text: str) -> None:
    for line in text.splitlines():
        plain = _TAGS.sub("", line)
        if not re.search(r"[\u0600-\u06ff]", plain):
            continue  # a line of only Latin text (an email on its own) reads left to right
        assert get_base_level(plain) == 1, f"not right-to-left: {line!r}"
        shown = _shown(line)
        for run in _LATIN_RUN.findall(plain):
            assert run in shown, f"{run!r} is not shown intact in {shown!r} (from {line!r})"


def test_every_arabic_answer_reads_right_to_left(kb: KnowledgeBase) -> None:
    for entry in kb.entries.values():
        title = None if entry.small_talk else entry.title["ar"]
        assert_reads_right_to_left(
            TEXTS.render(
                "answer",
                "ar",
                title=title,
                answer=entry.answer["ar"],
                invite=entry.invite.get("ar"),
            )
        )


@pytest.mark.parametrize("template", ["start", "help", "fallback", "privacy", "form/phone"])
def test_arabic_screens_read_right_to_left(template: str) -> None:
    assert_reads_right_to_left(
        TEXTS.render(template, "ar", name="Lina", victim_hint=True, retention_days=365)
    )


async def test_the_arabic_form_summary_reads_right_to_left(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/apply")
    steps = form_steps(
        "ar", organisation="ACME (MENA) Ltd.", email="sara@arab-bank.jo", phone="+962791234567"
    )
    await run_steps([bot], arabic_user, steps)
    summary = bot.last_text(arabic_user.id)
    assert_reads_right_to_left(summary)
    shown = "\n".join(_shown(line) for line in summary.splitlines())
    for value in ("sara@arab-bank.jo", "+962791234567", "ACME (MENA) Ltd."):
        assert value in shown


async def test_the_arabic_staff_post_reads_right_to_left(
    make_bot: object, arabic_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"telegram": {"staff_language": "ar"}})  # type: ignore[operator]
    await submit_form(bot, arabic_user, "ar", organisation="ACME (MENA) Ltd.")
    [post] = [c for c in bot.staff_posts() if int(c.params["chat_id"]) == STAFF_CHAT]
    text = post.params["text"]
    assert_reads_right_to_left(text)
    shown = "\n".join(_shown(line) for line in text.splitlines())
    for value in ("sara@arab-bank.jo", "+962791234567", "ACME (MENA) Ltd."):
        assert value in shown


@pytest.mark.parametrize("template", ["staff/unsure_post", "staff/unreachable_copy"])
def test_arabic_staff_notes_read_right_to_left(template: str) -> None:
    assert_reads_right_to_left(
        TEXTS.render(template, "ar", lead_id=12, staff_id=900, since="2026-12-07 10:00 UTC")
    )
