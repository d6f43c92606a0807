"""The partnership form: every step is loaded from and saved to the database.

python-telegram-bot's ConversationHandler keeps its state in memory, so a
restart or a second process would lose the user's place; here the state machine
lives in ``bot.lead_form`` and this module only moves updates in and prompts out.
The router runs in an earlier handler group than free-text questions: while a
form is open it takes the message, otherwise it lets it through.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import lead_form as form
from bot.context import BotContext
from bot.form_views import form_keyboard, form_prompt
from bot.normalize import Lang, fold
from bot.outbox import deliver_due
from bot.qualification import lead_record
from bot.views import inline, pairs
from handlers.common import button_language, reply, user_language

SKIP_WORDS = {fold(w) for w in ("skip", "تخطي", "تخط", "تخطٍّ", "تجاوز", "لا يوجد", "no", "none")}


async def load_form(update: Update, context: BotContext) -> dict[str, Any] | None:
    """The user's open form, or None; an expired one is discarded and the user told."""
    user = update.effective_user
    if user is None:
        return None
    row = await context.store.load_form(user.id)
    if row is None:
        return None
    state = row.state
    idle = timedelta(minutes=context.config.form.idle_timeout_minutes)
    if form.is_expired(state, context.services.clock(), idle):
        await context.store.delete_form(user.id)
        await reply(update, context, "form/expired", state.get("lang", "en"))
        return None
    return state


async def save(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    assert update.effective_user is not None
    await context.store.save_form(update.effective_user.id, state)


def _prompt(context: BotContext, state: dict[str, Any]) -> str:
    return form_prompt(context.texts, state, int(context.config.privacy.retention_days))


async def prompt(update: Update, context: BotContext, state: dict[str, Any]) -> None:
    """Ask for the current step, closing the phone step's reply keyboard first."""
    chat = update.effective_chat
    assert chat is not None
    if state.pop("reply_keyboard", False) and state["step"] != "phone":
        await context.bot.send_message(chat.id, "✔", reply_markup=ReplyKeyboardRemove())
    if state["step"] == "phone":
        state["reply_keyboard"] = True
    await save(update, context, state)
    await context.bot.send_message(
        chat.id, _prompt(context, state), reply_markup=form_keyboard(context.texts, state)
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
            (texts.label("continue", lang), "form:continue"),
            (texts.label("start_over", lang), "form:restart"),
        ]
    ]
    await reply(update, context, "form/resume", lang, inline(rows, lang), step=step_label)
    return True


def _asks_question(context: BotContext, text: str, typing_expected: bool) -> bool:
    """A question in the middle of the form is answered, not taken as a field value."""
    if typing_expected and "?" not in text and "؟" not in text:
        return False
    return context.services.matcher.match(text[:500]).entry_id is not None


async def route_message(update: Update, context: BotContext) -> None:
    """First look at every private message: a field value while a form is open."""
    state = await load_form(update, context)
    message = update.effective_message
    if state is None or message is None:
        return
    now = context.services.clock()
    lang: Lang = state["lang"]
    step, field = state["step"], form.current_field(state)
    text = (message.text or "").strip()
    if message.contact is not None and step == "phone":
        text = message.contact.phone_number
    elif step == "phone" and fold(text) in SKIP_WORDS | {fold(context.texts.label("skip", lang))}:
        await prompt(update, context, form.skip(state, now) or state)
        raise ApplicationHandlerStop
    typing_expected = field is not None and field.kind in ("text", "choice", "email", "phone")
    if not text:
        await reply(update, context, "form/error", lang, error="use_buttons")
    elif _asks_question(context, text, typing_expected):
        from handlers.questions import answer_question

        await answer_question(update, context, text)
        await reply(update, context, "form/back_to_form", lang)
    elif not typing_expected:
        await reply(update, context, "form/error", lang, error="use_buttons")
    else:
        new_state, error = form.answer(state, text, now)
        if error is not None:
            await reply(update, context, "form/error", lang, error=error.error, limit=error.limit)
        state = new_state
    await prompt(update, context, state)
    raise ApplicationHandlerStop


async def on_button(update: Update, context: BotContext) -> None:
    """Every form:* button."""
    query = update.callback_query
    assert query is not None and query.data is not None
    action, _, value = query.data.removeprefix("form:").partition(":")
    if action == "start":
        await query.answer()
        lang = button_language(value) or await user_language(update, context)
        await start_form(update, context, lang)
        return
    if action == "cancel":
        await query.answer()
        await cancel(update, context)
        return
    state = await load_form(update, context)
    if state is None:
        lang = await user_language(update, context)
        if action not in ("continue", "restart"):
            # A button of a form already sent, cancelled or expired: never start a new one.
            await query.answer(context.texts.render("form/closed", lang))
            return
        await query.answer()
        await start_form(update, context, lang)
        return
    now = context.services.clock()
    lang: Lang = state["lang"]
    if action == "restart":
        await query.answer()
        assert update.effective_user is not None
        await context.store.delete_form(update.effective_user.id)
        await start_form(update, context, lang)
        return
    if action == "interest":
        toggled = form.toggle_interest(state, value, now)
        await query.answer()
        if toggled is not None:
            await save(update, context, toggled)
            await query.edit_message_text(
                _prompt(context, toggled), reply_markup=form_keyboard(context.texts, toggled)
            )
        return
    if action == "confirm" and state["step"] == form.SUMMARY:
        await query.answer()
        await submit(update, context, state, now)
        return
    if action == "consent" and value == "no" and state["step"] == "consent":
        await query.answer()
        assert update.effective_user is not None
        await context.store.delete_form(update.effective_user.id)
        await reply(update, context, "form/declined", lang)
        return
    if action == "edit" and not value and state["step"] == form.SUMMARY:
        await query.answer()
        texts = context.texts
        options = [(texts.label(f"field.{k}", lang), f"form:edit:{k}") for k in form.EDITABLE]
        markup = inline([*pairs(options), [(texts.label("back", lang), "form:continue")]], lang)
        await reply(update, context, "form/edit_which", lang, markup)
        return
    new_state = _apply_button(state, action, value, now)
    if new_state is None:
        await query.answer(context.texts.render("form/error", lang, error="use_buttons"))
        if action != "continue":
            return
        new_state = state
    elif isinstance(new_state, form.Invalid):
        await query.answer(
            context.texts.render("form/error", lang, error=new_state.error), show_alert=True
        )
        return
    else:
        await query.answer()
    await prompt(update, context, new_state)


def _apply_button(state: dict[str, Any], action: str, value: str, now: datetime) -> Any:
    if action == "continue":
        return state
    if action in ("sector", "consent"):
        return form.choose(state, value, now)
    if action == "interests_done":
        new_state, error = form.finish_interests(state, now)
        return error or new_state
    if action == "skip":
        return form.skip(state, now)
    if action == "edit":
        return form.edit(state, value, now)
    return None


async def submit(update: Update, context: BotContext, state: dict[str, Any], now: datetime) -> None:
    """Store the lead (and its outbox row) first, then tell the user, then try delivery."""
    user = update.effective_user
    assert user is not None
    profile = await context.store.profile(user.id)
    values = lead_record(
        state,
        context.config.qualification,
        user_id=user.id,
        username=user.username,
        source=profile.source if profile else None,
    )
    window = timedelta(days=context.config.qualification.repeat_window_days)
    submission = await context.store.submit_lead(values, window)
    await context.store.delete_form(user.id)
    lang: Lang = state["lang"]
    await reply(update, context, "form/updated" if submission.is_repeat else "form/submitted", lang)
    await deliver_due(context.bot, context.services)


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel or the Cancel button: discard the open form and say what was in it."""
    user = update.effective_user
    assert user is not None
    row = await context.store.load_form(user.id)
    if row is None:
        await reply(update, context, "form/nothing_to_cancel", await user_language(update, context))
        return
    await context.store.delete_form(user.id)
    lang: Lang = row.state.get("lang", "en")
    entered = [
        context.texts.label(f"field.{k}", lang)
        for k, v in row.state["data"].items()
        if v and f"field.{k}" in context.texts.labels
    ]
    await reply(update, context, "form/cancelled", lang, ReplyKeyboardRemove(), fields=entered)


async def apply_command(update: Update, context: BotContext) -> None:
    """/apply: start (or resume) the partnership form."""
    await start_form(update, context, await user_language(update, context))


def form_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("apply", apply_command, filters=private),
        CommandHandler("cancel", cancel, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^form:"),
    ]


def form_router() -> BaseHandler[Update, BotContext, None]:
    """Registered in a group before the question handler (see bot.app)."""
    return MessageHandler(
        filters.ChatType.PRIVATE & (filters.TEXT | filters.CONTACT) & ~filters.COMMAND,
        route_message,
    )
