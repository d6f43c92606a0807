"""Answering a question: a direct answer, "did you mean" choices, or an honest fallback.

Shared by the question handler and the lead form (a question asked mid-form is
answered, then the form goes on).
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from bot.arabizi import is_arabizi
from bot.context import BotContext
from bot.knowledge import Entry
from bot.matching import MatchResult
from bot.normalize import Lang, has_letters
from bot.views import choices_keyboard, entry_keyboard, fallback_keyboard
from handlers.common import reply, user_language

# Longer input is cut before matching: no real question needs more.
MATCH_INPUT_LIMIT = 500


async def send_entry(
    update: Update, context: BotContext, entry: Entry, lang: Lang, also: Sequence[str] = ()
) -> None:
    """The entry's answer; ``also``: other topics the message asked about, as buttons.

    A partner filling in the form is not invited to start it (the answer's invitation and
    its button are left out): the form goes on after the answer."""
    user = update.effective_user
    in_form = user is not None and (await context.user_state(user.id)).form is not None
    markup = entry_keyboard(context.kb, context.texts, entry, lang, also, offer_form=not in_form)
    title = None if entry.small_talk else entry.title[lang]
    invite = None if in_form else entry.invite.get(lang)
    await reply(
        update,
        context,
        "answer",
        lang,
        markup,
        title=title,
        answer=entry.answer[lang],
        invite=invite,
    )


def wants_to_apply(context: BotContext, text: str) -> bool:
    return context.services.apply.opens(text)


async def answer_question(update: Update, context: BotContext, text: str) -> MatchResult:
    """Answer ``text`` in the language it is written in; store what we could not answer."""
    result = context.services.matcher.match(text[:MATCH_INPUT_LIMIT])
    lang = await reply_language(update, context, text, result.lang)
    if result.entry_id is not None:
        entry = context.kb[result.entry_id]
        await send_entry(update, context, entry, lang, result.also)
        return result
    user = update.effective_user
    await context.store.record_unanswered(
        user.id if user else None, text, lang, result.outcome, result.score
    )
    hints = _hints(context, text)
    if result.suggestions:
        markup = choices_keyboard(context.kb, context.texts, result.suggestions, lang)
        await reply(update, context, "did_you_mean", lang, markup, hints=hints)
    else:
        victim = bool(result.ranked) and context.kb[result.ranked[0].entry_id].victim_hint
        await send_fallback(update, context, lang, victim_hint=victim, hints=hints)
    return result


async def reply_language(update: Update, context: BotContext, text: str, detected: Lang) -> Lang:
    """The language to answer ``text`` in, remembered as the user's written language.

    Arabizi is Arabic; "?" or an emoji says nothing, so the user's own language decides.
    """
    if not has_letters(text):
        return await user_language(update, context)
    lang: Lang = "ar" if is_arabizi(text, context.kb.arabizi) else detected
    if update.effective_user is not None:
        await context.store.note_written_language(update.effective_user.id, lang)
    return lang


async def send_fallback(
    update: Update,
    context: BotContext,
    lang: Lang,
    *,
    victim_hint: bool,
    hints: frozenset[str] = frozenset(),
) -> None:
    """The honest "I don't know": topics menu and the way to reach staff, and where a
    request the bot is not for goes instead (``hints``)."""
    markup = fallback_keyboard(context.texts, lang)
    await reply(update, context, "fallback", lang, markup, victim_hint=victim_hint, hints=hints)


def _hints(context: BotContext, text: str) -> frozenset[str]:
    """The fallback lines of the out-of-scope cues that held ``text`` (a passport: where to
    go instead)."""
    cues = context.kb.out_of_scope
    matcher = context.services.matcher
    return frozenset(
        hint
        for hit in matcher.cue_hits(text[:MATCH_INPUT_LIMIT])
        if hit.in_force and (hint := cues[hit.cue].hint) is not None
    )
