"""Plain-text rendering of a match for the command line (``partnerbot ask``)."""

from __future__ import annotations

from bot.knowledge import KnowledgeBase
from bot.matching import MatchResult


def plain_answer(kb: KnowledgeBase, result: MatchResult) -> str:
    lang = result.lang
    if result.entry_id is not None:
        entry = kb[result.entry_id]
        return f"[{entry.id}] {entry.title[lang]}\n{entry.answer[lang].strip()}\n"
    if result.suggestions:
        titles = "; ".join(f"{kb[s].title[lang]} [{s}]" for s in result.suggestions)
        return f"(not sure; did you mean: {titles})\n"
    return "(no answer: the bot would show its fallback and the topics menu)\n"
