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

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import lead_form as form
from bot.callbacks import FormButton
from bot.context import BotContext
from bot.form_replies import Reply
from bot.form_views import cancel_confirm_keyboard, form_keyboard
from bot.normalize import Lang
from bot.outbox import kick_delivery
from bot.qualification import lead_record
from bot.relay.views import talk_keyboard
from bot.views import inline, pairs
from handlers.answering import answer_question
from handlers.common import PRIVATE_MESSAGE, button_language, incoming_text, reply, user_language
from handlers.form_flow import load_form, prompt, prompt_text, save, start_form


def _asks_question(context: BotContext, text: str, field: form.Field | None) -> bool:
    """A question in the middle of the form is answered, not taken as a field value.

    No name, role, organisation or address asks anything, so a message with a question
    mark is a question at a typed step, whether or not the knowledge base can answer it
    (then the partner gets "did you mean" or the fallback, and the step again). Phones
    often leave the mark out: a message that starts like a question («ما القطاعات التي
    تشاركونها», "how much does it cost") and that the base answers or offers choices for
    is one too; a name such as "How Lee" gets neither, so it stays a name. At the sector
    step, where typing gives "another sector", a greeting is small talk, not a sector. The
    free-text message is stored as typed, questions included: diverting it to the matcher
    would lose what the partner wrote for staff.
    """
    if field is not None and field.key == "message":
        return False
    typing_expected = field is not None and field.kind in ("text", "choice", "email", "phone")
    if typing_expected and _marked(text):
        return True
    matcher = context.services.matcher
    result = matcher.match(text[:500])
    if typing_expected and result.outcome != "fallback" and matcher.asks(text[:500]):
        return True
    if result.entry_id is None:
        return False
    if not typing_expected:
        return True
    return field is not None and field.kind == "choice" and context.kb[result.entry_id].small_talk


def _marked(text: str) -> bool:
    return "?" in text or "؟" in text


def _sent_again(state: dict[str, Any], text: str) -> bool:
    """Whether ``text`` is what was just read as a question at this step, without a
    question mark, sent again: the partner meant it as the step's value."""
    return not _marked(text) and state.get("diverted") == [state["step"], text.strip()]


async def _typed_reply(
    update: Update, context: BotContext, state: dict[str, Any], text: str
) -> bool:
    """A button step answered by typing ("نعم", "no thanks", "تخطي"): act as the button.

    False when ``text`` is not such an answer, so it is read as a field value.
    """
    now = context.services.clock()
    lang: Lang = state["lang"]
    step, field = state["step"], form.current_field(state)
    # The reply keyboard's Skip button arrives as its label's text.
    skip_label: dict[str, Reply] = {context.texts.label("skip", lang): "skip"}
    said = context.services.replies.read(text, also=skip_label)
    if said is None:
        return False
    if step == "consent" and said in ("yes", "no"):
        if said == "no":
            await decline(update, context, lang)
            return True
        await prompt(update, context, form.choose(state, "yes", now) or state)
        return True
    if step == form.SUMMARY and said == "yes":
        await submit(update, context, state)
        return True
    if field is not None and field.optional and said in ("no", "skip"):
        await prompt(update, context, form.skip(state, now) or state)
        return True
    return False


async def decline(update: Update, context: BotContext, lang: Lang) -> None:
    """No consent: nothing may be stored, so the form goes."""
    assert update.effective_user is not None
    await context.store.delete_form(update.effective_user.id)
    await reply(update, context, "form/declined", lang)


async def route_message(update: Update, context: BotContext) -> None:
    """First look at every private message: a field value while a form is open."""
    state = await load_form(update, context)
    message = update.effective_message
    if state is None or message is None:
        return
    now = context.services.clock()
    lang: Lang = state["lang"]
    step, field = state["step"], form.current_field(state)
    text = incoming_text(update)
    if message.contact is not None and step != "phone":
        text = ""
    if text and await _typed_reply(update, context, state, text):
        raise ApplicationHandlerStop
    typing_expected = field is not None and field.kind in ("text", "choice", "email", "phone")
    if not text:
        await reply(update, context, "form/error", lang, error="use_buttons")
    elif not _sent_again(state, text) and _asks_question(context, text, field):
        unmarked = not _marked(text)
        if unmarked:
            # Read as a question for lack of anything else to go on ("Which Bank" may be
            # the organisation): the same text sent again at this step is its value.
            state["diverted"] = [step, text.strip()]
        await answer_question(update, context, text)
        await reply(update, context, "form/back_to_form", lang, again=unmarked)
    elif not typing_expected:
        await reply(update, context, "form/error", lang, error="use_buttons")
    else:
        new_state, error = form.answer(state, text, now, context.services.sectors)
        if error is not None:
            await reply(update, context, "form/error", lang, error=error.error, limit=error.limit)
        state = new_state
        state.pop("diverted", None)
    await prompt(update, context, state)
    raise ApplicationHandlerStop


async def on_button(update: Update, context: BotContext) -> None:
    """Every form:* button."""
    query = update.callback_query
    button = FormButton.unpack(query.data if query else None)
    assert query is not None and button is not None  # the handler's pattern says so
    action, value = button.action, button.value or ""
    if action == "start":
        await query.answer()
        chosen = button_language(value) or await user_language(update, context)
        await start_form(update, context, chosen)
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
    lang = state["lang"]  # the form's own language, whatever the user writes in now
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
            markup = form_keyboard(context.texts, toggled)
            assert isinstance(markup, InlineKeyboardMarkup)  # the interests step has inline buttons
            await query.edit_message_text(prompt_text(context, toggled), reply_markup=markup)
        return
    if action == "cancel_ask":
        await query.answer()
        markup = cancel_confirm_keyboard(context.texts, lang)
        await reply(update, context, "form/cancel_confirm", lang, markup)
        return
    if action == "confirm" and state["step"] == form.SUMMARY:
        submitted = await submit(update, context, state)
        # The loser of a double press: the form was already sent.
        await query.answer(None if submitted else context.texts.render("form/closed", lang))
        return
    if action == "consent" and value == "no" and state["step"] == "consent":
        await query.answer()
        await decline(update, context, lang)
        return
    if action == "edit" and not value and state["step"] == form.SUMMARY:
        await query.answer()
        texts = context.texts
        options = [
            (texts.label(f"field.{k}", lang), FormButton("edit", k).pack()) for k in form.EDITABLE
        ]
        markup = inline(
            [*pairs(options), [(texts.label("back", lang), FormButton("continue").pack())]], lang
        )
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


async def submit(update: Update, context: BotContext, state: dict[str, Any]) -> bool:
    """Store the lead (and its outbox row) and close the form, tell the user, then
    schedule delivery (never wait for the staff chat here).

    False when this form was already submitted (Confirm pressed twice).
    """
    user = update.effective_user
    assert user is not None
    values = lead_record(
        state,
        context.config.qualification,
        user_id=user.id,
        username=user.username,
        source=(await context.user_state(user.id)).source,
    )
    values["form_id"] = state.get("form_id")
    window = timedelta(days=context.config.qualification.repeat_window_days)
    submission = await context.store.submit_lead(values, window)
    if submission is None:
        return False
    lang: Lang = state["lang"]
    thanks = "form/updated" if submission.is_repeat else "form/submitted"
    await reply(update, context, thanks, lang, talk_keyboard(context.texts, lang))
    kick_delivery(context)
    return True


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel or the Cancel button: discard the open form and say what was in it."""
    user = update.effective_user
    assert user is not None
    state = (await context.user_state(user.id)).form
    if state is None:
        await reply(update, context, "form/nothing_to_cancel", await user_language(update, context))
        return
    await context.store.delete_form(user.id)
    lang: Lang = state.get("lang", "en")
    entered = [
        context.texts.label(f"field.{k}", lang)
        for k, v in state["data"].items()
        if v and f"field.{k}" in context.texts.labels
    ]
    await reply(update, context, "form/cancelled", lang, ReplyKeyboardRemove(), fields=entered)


async def skip_command(update: Update, context: BotContext) -> None:
    """/skip: skip an optional step; a required one says it cannot be skipped."""
    state = await load_form(update, context)
    if state is None:
        await reply(update, context, "unknown_command", await user_language(update, context))
        return
    skipped = form.skip(state, context.services.clock())
    if skipped is None:
        await reply(update, context, "form/error", state["lang"], error="cannot_skip")
        skipped = state
    await prompt(update, context, skipped)


async def apply_command(update: Update, context: BotContext) -> None:
    """/apply: start (or resume) the partnership form."""
    await start_form(update, context, await user_language(update, context))


def form_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = PRIVATE_MESSAGE
    return [
        CommandHandler("apply", apply_command, filters=private),
        CommandHandler("cancel", cancel, filters=private),
        CommandHandler("skip", skip_command, filters=private),
        CallbackQueryHandler(on_button, pattern=FormButton.pattern()),
    ]


def form_router() -> BaseHandler[Update, BotContext, None]:
    """Registered in a group before the question handler (see bot.app)."""
    return MessageHandler(
        PRIVATE_MESSAGE & (filters.TEXT | filters.CONTACT) & ~filters.COMMAND,
        route_message,
    )
