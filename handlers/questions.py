"""Free-text questions: a direct answer, "did you mean" choices, or an honest fallback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.knowledge import Entry
from bot.matching import MatchResult
from bot.normalize import Lang, detect_language
from bot.views import choices_keyboard, entry_keyboard, fallback_keyboard
from handlers.common import button_language, reply, user_language
from handlers.lead_form import start_form

APPLY_INTENT = "apply"
# Longer input is cut before matching: no real question needs more.
MATCH_INPUT_LIMIT = 500


async def send_entry(update: Update, context: BotContext, entry: Entry, lang: Lang) -> None:
    markup = entry_keyboard(context.kb, context.texts, entry, lang)
    await reply(
        update, context, "answer", lang, markup, title=entry.title[lang], answer=entry.answer[lang]
    )


def wants_to_apply(context: BotContext, text: str) -> bool:
    result = context.services.intents.match(text)
    return (
        result.entry_id == APPLY_INTENT
        and result.score >= context.config.matching.apply_intent_threshold
    )


async def answer_question(update: Update, context: BotContext, text: str) -> MatchResult:
    """Answer ``text`` in the language it is written in; store what we could not answer."""
    result = context.services.matcher.match(text[:MATCH_INPUT_LIMIT])
    lang = result.lang
    if result.entry_id is not None:
        await send_entry(update, context, context.kb[result.entry_id], lang)
        return result
    user = update.effective_user
    await context.store.record_unanswered(
        user.id if user else None, text, lang, result.outcome, result.score
    )
    if result.suggestions:
        markup = choices_keyboard(context.kb, context.texts, result.suggestions, lang)
        await reply(update, context, "did_you_mean", lang, markup)
    else:
        victim = bool(result.ranked) and result.ranked[0].entry_id == "report-cybercrime"
        await send_fallback(update, context, lang, victim_hint=victim)
    return result


async def send_fallback(
    update: Update, context: BotContext, lang: Lang, *, victim_hint: bool
) -> None:
    """The honest "I don't know": topics menu and the way to reach staff."""
    markup = fallback_keyboard(context.texts, lang)
    await reply(update, context, "fallback", lang, markup, victim_hint=victim_hint)


async def question(update: Update, context: BotContext) -> None:
    """Any text that is not a command and not part of a form."""
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text.strip()
    if wants_to_apply(context, text[:MATCH_INPUT_LIMIT]):
        await start_form(
            update, context, detect_language(text, await user_language(update, context))
        )
        return
    await answer_question(update, context, text)


async def show_entry(update: Update, context: BotContext) -> None:
    """kb:<lang>:<id> button: show that entry in the language of the button."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer()
    _, code, entry_id = query.data.split(":")
    lang = button_language(code) or await user_language(update, context)
    if entry_id in context.kb:
        await send_entry(update, context, context.kb[entry_id], lang)
    else:  # a button from an older knowledge base
        await send_fallback(update, context, lang, victim_hint=False)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes and the like."""
    await reply(update, context, "not_text", await user_language(update, context))


def question_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(show_entry, pattern=r"^kb:(ar|en):[a-z0-9-]+$"),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND, question),
        MessageHandler(
            private & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, not_text
        ),
    ]
