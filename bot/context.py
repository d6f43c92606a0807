"""The services every handler needs, reached through a typed CallbackContext."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Config
from bot.db.models import utcnow
from bot.db.store import Store
from bot.form_replies import ReplyWords
from bot.knowledge import KnowledgeBase
from bot.limits import RateLimit
from bot.matching import Matcher
from bot.sectors import SectorLexicon
from bot.texts import Texts

SERVICES = "services"


@dataclass
class Services:
    config: Config
    kb: KnowledgeBase
    matcher: Matcher
    intents: Matcher  # knowledge base plus intent phrases, so intents must beat real answers
    store: Store
    texts: Texts
    limiter: RateLimit
    sectors: SectorLexicon
    replies: ReplyWords
    clock: Callable[[], datetime] = field(default=utcnow)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the bot's services."""

    @property
    def services(self) -> Services:
        services: Services = self.bot_data[SERVICES]
        return services

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def kb(self) -> KnowledgeBase:
        return self.services.kb

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def texts(self) -> Texts:
        return self.services.texts


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
