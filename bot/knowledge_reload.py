"""The knowledge base reloaded while the bot runs: on SIGHUP and on a staff /reload.

A reload reads and checks every file under the knowledge folder in a thread (the bot
keeps answering meanwhile), then puts everything built from it in place at once. An
invalid base changes nothing: the problems (file, line, what) go back to whoever asked.
Workers that share a database follow one another: a reload that succeeds adds one to
a shared generation number, and each worker's check job reloads when it sees the
number grow, so one SIGHUP or one /reload reaches every process.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.config import Config
from bot.context import Services
from bot.form_replies import ReplyWords
from bot.heap import refreeze
from bot.knowledge import APPLY_INTENT, KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot.matching import Matcher
from bot.matching.intent import Intent
from bot.sectors import SectorLexicon

log = logging.getLogger("partnerbot.knowledge")
GENERATION = "knowledge_generation"


@dataclass(frozen=True)
class Knowledge:
    """Everything built from the knowledge folder, put in place together."""

    kb: KnowledgeBase
    matcher: Matcher
    apply: Intent  # the sign-up form's intent, which must beat the real answers
    sectors: SectorLexicon
    replies: ReplyWords


@dataclass(frozen=True)
class ReloadOutcome:
    entries: int  # in the base now in use
    problems: tuple[str, ...]  # why the new one was refused; empty when it was taken

    @property
    def ok(self) -> bool:
        return not self.problems


def build_knowledge(config: Config, kb: KnowledgeBase | None = None) -> Knowledge:
    kb = kb or load_knowledge_base(config.bot.knowledge_path)
    return Knowledge(
        kb=kb,
        matcher=Matcher.from_knowledge_base(kb, config.matching.thresholds()),
        apply=Intent(kb, APPLY_INTENT, config.matching.apply_intent_threshold),
        sectors=SectorLexicon(kb.sectors),
        replies=ReplyWords(kb.form_replies),
    )


def install(services: Services, knowledge: Knowledge) -> None:
    """Put a built knowledge base in place; no await in between, so no update sees half."""
    services.kb = knowledge.kb
    services.matcher = knowledge.matcher
    services.apply = knowledge.apply
    services.sectors = knowledge.sectors
    services.replies = knowledge.replies


async def reload_knowledge(services: Services, *, tell_others: bool = True) -> ReloadOutcome:
    """Load the knowledge folder again; keep the base in use if the new one has problems."""
    try:
        knowledge = await asyncio.to_thread(build_knowledge, services.config)
    except KnowledgeBaseError as exc:
        problems = tuple(str(problem) for problem in exc.problems)
        log.warning(
            "knowledge base not reloaded (%d problems); the one in use stays", len(problems)
        )
        return ReloadOutcome(len(services.kb), problems)
    install(services, knowledge)
    refreeze()
    if tell_others:
        services.knowledge_generation = await services.store.bump_counter(GENERATION)
    log.info(
        "knowledge base reloaded: %d entries (generation %s)",
        len(knowledge.kb),
        services.knowledge_generation,
    )
    return ReloadOutcome(len(knowledge.kb), ())


async def follow_reloads(services: Services) -> ReloadOutcome | None:
    """Reload when another worker did; None when there was nothing to do."""
    generation = await services.store.counter(GENERATION)
    seen = services.knowledge_generation
    services.knowledge_generation = generation
    if seen is None or generation <= seen:
        return None  # the first look only learns where the others are
    return await reload_knowledge(services, tell_others=False)
