"""Small things a partner hits: unknown commands, /skip, messages without letters, the free
message step, and the rate limit on buttons and edits."""

from __future__ import annotations

import time
from typing import Any

from telegram import Update

from bot.local_api import LocalUser
from bot.rate_limit import RateLimiter, Verdict
from tests.conftest import Harness
from tests.test_lead_form import TEXTS, form_steps, prompt, run_steps


async def test_unknown_command_gets_one_line_in_the_users_language(
    bot: Harness, english_user: LocalUser, arabic_user: LocalUser
) -> None:
    calls = await bot.send(english_user, "/foo")
    assert [c.params["text"] for c in calls] == [TEXTS.render("unknown_command", "en")]
    calls = await bot.send(arabic_user, "/foo bar")
    assert [c.params["text"] for c in calls] == [TEXTS.render("unknown_command", "ar")]
    assert "/help" in calls[0].params["text"]


async def test_known_commands_are_not_taken_for_unknown(
    bot: Harness, english_user: LocalUser
) -> None:
    calls = await bot.send(english_user, "/help")
    assert TEXTS.render("unknown_command", "en") not in [c.params.get("text") for c in calls]


async def test_skip_command_skips_an_optional_step_only(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    await bot.send(english_user, "/skip")
    texts = bot.texts(english_user.id)
    assert texts[-2] == TEXTS.render("form/error", "en", error="cannot_skip")
    assert texts[-1] == prompt("organisation")
    # Up to the phone step (optional), then /skip moves on.
    await run_steps([bot], english_user, form_steps("en")[:6])
    assert bot.last_text(english_user.id) == prompt("phone")
    await bot.send(english_user, "/skip")
    assert bot.last_text(english_user.id) == prompt("interests")
    state = (await bot.store.load_form(english_user.id)).state  # type: ignore[union-attr]
    assert state["data"]["phone"] is None


async def test_skip_without_a_form_is_an_unknown_command(
    bot: Harness, arabic_user: LocalUser
) -> None:
    await bot.send(arabic_user, "/skip")
    assert bot.last_text(arabic_user.id) == TEXTS.render("unknown_command", "ar")


async def test_messages_without_letters_answer_in_the_users_language(
    bot: Harness, arabic_user: LocalUser, english_user: LocalUser
) -> None:
    for text in ("?", "👍", "123"):
        await bot.send(arabic_user, text)
        assert "/topics" in bot.last_text(arabic_user.id)
        assert not any(
            "a" <= ch <= "z"
            for ch in bot.last_text(arabic_user.id)
            .replace("/topics", "")
            .replace("/apply", "")
            .replace("/contact", "")
        )
    # A stored /language choice wins over Telegram's app language.
    await bot.send(english_user, "/language")
    await bot.press(english_user, "lang:ar")
    await bot.send(english_user, "؟؟")
    await bot.send(english_user, "?")
    assert bot.last_text(english_user.id).startswith(
        TEXTS.render("fallback", "ar", victim_hint=False)[:20]
    )


async def test_the_free_message_step_keeps_a_question_as_the_message(
    bot: Harness, english_user: LocalUser
) -> None:
    await bot.send(english_user, "/apply")
    steps = form_steps("en", message="What is information sharing?")
    await run_steps([bot], english_user, steps[:-1])  # stop before consent
    assert bot.last_text(english_user.id) == prompt("consent")
    state = (await bot.store.load_form(english_user.id)).state  # type: ignore[union-attr]
    assert state["data"]["message"] == "What is information sharing?"
    assert not any(t.startswith("<b>Information sharing") for t in bot.texts(english_user.id))


async def test_button_presses_count_toward_the_rate_limit(
    make_bot: Any, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"bot": {"rate_limit_messages": 3, "rate_limit_seconds": 60}})
    await bot.send(english_user, "/topics")  # 1
    for _ in range(4):  # 2, 3 allowed; 4 told; 5 silent
        await bot.press(english_user, "kb:en:information-sharing")
    answers = [c for c in bot.api.calls if c.method == "answerCallbackQuery"]
    alerts = [a for a in answers if a.params.get("show_alert")]
    assert len(alerts) == 1
    assert alerts[0].params["text"] == TEXTS.render("rate_limited", "en")
    answered = [t for t in bot.texts(english_user.id) if t.startswith("<b>Information sharing")]
    assert len(answered) == 2


async def test_edited_messages_count_toward_the_rate_limit(
    make_bot: Any, english_user: LocalUser
) -> None:
    bot: Harness = await make_bot({"bot": {"rate_limit_messages": 2, "rate_limit_seconds": 60}})
    calls = await bot.send(english_user, "what is information sharing?")
    assert calls
    for n in range(3):
        edited = {
            "update_id": 9000 + n,
            "edited_message": {
                "message_id": 1,
                "date": int(time.time()),
                "edit_date": int(time.time()),
                "chat": {"id": english_user.id, "type": "private", "first_name": "Sam"},
                "from": english_user.as_dict(),
                "text": f"what is expert secondment? {n}",
            },
        }
        await bot.send_update(Update.de_json(edited, bot.app.bot))
    limited = [t for t in bot.texts(english_user.id) if t == TEXTS.render("rate_limited", "en")]
    assert len(limited) == 1
    # An edit is not answered again (it only counts): no answer about secondment.
    assert not [t for t in bot.texts(english_user.id) if "secondment" in t.lower()[:60]]


def test_the_limiter_forgets_users_who_went_quiet() -> None:
    limiter = RateLimiter(limit=3, window_seconds=60)
    for user in range(10_000):
        assert limiter.check(user, now=0.0) is Verdict.ALLOWED
    assert len(limiter) == 10_000
    assert limiter.check(1, now=61.0) is Verdict.ALLOWED
    assert len(limiter) == 1
    # A user still inside the window is kept, and still limited.
    for _ in range(2):
        limiter.check(1, now=62.0)
    assert limiter.check(1, now=63.0) is Verdict.LIMITED
    assert limiter.check(1, now=130.0) is Verdict.ALLOWED
