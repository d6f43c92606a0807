"""The form's conversation steps that several handlers share: open, resume, ask.

Every step is loaded from and saved to the database, so any bot process can
take the user's next message.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import timedelta
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from bot import lead_form as form
from bot.callbacks import FormButton
from bot.context import BotContext
from bot.form_views import form_keyboard, form_prompt
from bot.normalize import Lang
from bot.views import inline
from handlers.common import reply

# The form state's key for the update that last moved it on.
APPLIED = "update_id"


async def load_form(update: Update, context: BotContext) -> dict[str, Any] | None:
    """The user's open form, or None; an expired one is discarded and the user told."""
    user = update.effective_user
    if user is None:
        return None
    kept = (await context.user_state(user.id)).form
    if kept is None:
        return None
    state = copy.deepcopy(kept)  # handlers change it; the update's read stays as read
    idle = timedelta(minutes=context.config.form.idle_timeout_minutes)
    if form.is_expired(state, context.services.clock(), idle):
        await context.store.delete_form(user.id)
        await reply(update, context, "form/expired", state.get("lang", "en"))
        return None
    if state.get(APPLIED) == update.update_id:
        await _ask_again(update, context, state)
        raise ApplicationHandlerStop
    return state


async def _ask_again(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    """This update moved the form on already, and is handled again: an outage struck after
    its step was saved (the inbox postpones such updates). Applying it twice would put the
    answer in the next field too, so the current step is only asked again."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(BadRequest):  # too old to answer by now
            await query.answer()
    await _send_prompt(update, context, state)


async def save(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    assert update.effective_user is not None
    state[APPLIED] = update.update_id
    await context.store.save_form(update.effective_user.id, state)


def prompt_text(context: BotContext, state: dict[str, Any]) -> str:
    return form_prompt(context.texts, state, int(context.config.privacy.retention_days))


async def prompt(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    """Ask for the current step; leaving the phone step, say what was kept for it.

    The phone step's reply keyboard can only be closed by a message of its own, so
    that message carries news: the number saved, or that there is none.
    """
    if state.pop("reply_keyboard", False) and state["step"] != "phone":
        phone = state["data"].get("phone")
        await reply(
            update, context, "form/phone_saved", state["lang"], ReplyKeyboardRemove(), phone=phone
        )
    if state["step"] == "phone":
        state["reply_keyboard"] = True
    await save(update, context, state)
    await _send_prompt(update, context, state)


async def _send_prompt(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id, prompt_text(context, state), reply_markup=form_keyboard(context.texts, state)
    )


async def start_form(update: Update, context: BotContext, lang: Lang) -> None:
    """Open a new form, unless one is already open (then offer to continue it)."""
    if await offer_resume(update, context, lang):
        return
    state = {**form.new_state(context.services.clock()), "lang": lang}
    await reply(update, context, "form/intro", lang)
    await prompt(update, context, state)


async def offer_resume(update: Update, context: BotContext, lang: Lang) -> bool:
    state = await load_form(update, context)
    if state is None:
        return False
    texts = context.texts
    step = state["step"]
    step_label = (
        texts.label(f"field.{step}", lang) if step in form.BY_KEY else texts.label("confirm", lang)
    )
    rows = [
        [
            (texts.label("continue", lang), FormButton("continue").pack()),
            (texts.label("start_over", lang), FormButton("restart").pack()),
        ]
    ]
    await reply(update, context, "form/resume", lang, inline(rows, lang), step=step_label)
    return True
