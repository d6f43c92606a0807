"""How the lead form looks in Telegram: each step's prompt and its buttons."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot import lead_form as form
from bot.callbacks import FormButton
from bot.normalize import Lang
from bot.texts import Texts
from bot.views import contact_keyboard, inline, pairs

# Values a partner or staff member copies elsewhere: shown so a tap copies them clean.
COPYABLE = ("email", "phone")


def form_keyboard(
    texts: Texts, state: dict[str, Any]
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup:
    """The buttons under the prompt of the current step."""
    lang, step = state["lang"], state["step"]
    cancel = (texts.label("cancel", lang), FormButton("cancel").pack())
    if step == "phone":
        return contact_keyboard(texts, lang)
    if step == form.SUMMARY:
        # Everything is filled in here: Cancel asks before throwing it all away.
        ask_cancel = (texts.label("cancel", lang), FormButton("cancel_ask").pack())
        return inline(
            [
                [(texts.label("confirm", lang), FormButton("confirm").pack())],
                [(texts.label("edit", lang), FormButton("edit").pack()), ask_cancel],
            ],
            lang,
        )
    field = form.BY_KEY[step]
    if field.kind == "choice":
        options = [
            (texts.label(f"sector.{c}", lang), FormButton("sector", c).pack())
            for c in field.choices
        ]
        return inline([*pairs(options), [cancel]], lang)
    if field.kind == "multi":
        chosen = form.selected_interests(state)
        rows = [
            [
                (
                    ("✅ " if i in chosen else "") + texts.label(f"interest.{i}", lang),
                    FormButton("interest", i).pack(),
                )
            ]
            for i in field.choices
        ]
        return inline(
            [*rows, [(texts.label("done", lang), FormButton("interests_done").pack()), cancel]],
            lang,
        )
    if field.kind == "consent":
        return inline(
            [
                [(texts.label("consent_yes", lang), FormButton("consent", "yes").pack())],
                [(texts.label("consent_no", lang), FormButton("consent", "no").pack())],
            ],
            lang,
        )
    if field.optional:
        return inline([[(texts.label("skip", lang), FormButton("skip").pack()), cancel]], lang)
    return inline([[cancel]], lang)


def cancel_confirm_keyboard(texts: Texts, lang: Lang) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (texts.label("discard_yes", lang), FormButton("cancel").pack()),
                (texts.label("discard_no", lang), FormButton("continue").pack()),
            ]
        ],
        lang,
    )


def form_prompt(texts: Texts, state: dict[str, Any], retention_days: int) -> str:
    """The question for the current step, or the summary."""
    lang: Lang = state["lang"]
    if state["step"] == form.SUMMARY:
        return texts.render("form/summary", lang, fields=_summary(texts, state))
    chosen = [texts.label(f"interest.{i}", lang) for i in form.selected_interests(state)]
    question = texts.render(
        f"form/{state['step']}",
        lang,
        limit=form.MESSAGE_LIMIT,
        chosen=chosen,
        retention_days=retention_days,
    )
    step = form.progress(state)
    if step is None:
        return question
    return texts.render("form/progress", lang, number=step[0], total=step[1]) + "\n" + question


def _summary(texts: Texts, state: dict[str, Any]) -> list[dict[str, Any]]:
    lang: Lang = state["lang"]
    data = state["data"]
    out = []
    for key in form.EDITABLE:
        value = data.get(key)
        if key == "sector" and value:
            value = texts.label(f"sector.{value}", lang)
            if data.get(form.SECTOR_OTHER):
                value += f" ({data[form.SECTOR_OTHER]})"
        elif key == "interests":
            value = (", " if lang == "en" else "، ").join(
                texts.label(f"interest.{i}", lang) for i in data.get("interests", [])
            )
        out.append(
            {
                "label": texts.label(f"field.{key}", lang),
                "value": value or texts.label("none", lang),
                "copyable": bool(value) and key in COPYABLE,
            }
        )
    return out
