"""Answering a question: a direct answer, "did you mean" choices, or an honest fallback.

Shared by the question handler and the lead form (a question asked mid-form is
answered, then the form goes on).
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.knowledge import Entry
from bot.matching import MatchResult
from bot.normalize import Lang, has_letters
from bot.views import choices_keyboard, entry_keyboard, fallback_keyboard
from handlers.common import reply, user_language

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
    # "?" or an emoji says nothing about the language: answer in the user's own.
    lang = result.lang if has_letters(text) else await user_language(update, context)
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
        victim = bool(result.ranked) and context.kb[result.ranked[0].entry_id].victim_hint
        await send_fallback(update, context, lang, victim_hint=victim)
    return result


async def send_fallback(
    update: Update, context: BotContext, lang: Lang, *, victim_hint: bool
) -> None:
    """The honest "I don't know": topics menu and the way to reach staff."""
    markup = fallback_keyboard(context.texts, lang)
    await reply(update, context, "fallback", lang, markup, victim_hint=victim_hint)
