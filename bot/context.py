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
from bot.db.user_queries import UserState
from bot.form_replies import ReplyWords
from bot.knowledge import KnowledgeBase
from bot.limits import RateLimit
from bot.matching import Matcher
from bot.matching.intent import Intent
from bot.sectors import SectorLexicon
from bot.texts import Texts

SERVICES = "services"


@dataclass
class Services:
    config: Config
    kb: KnowledgeBase
    matcher: Matcher
    apply: Intent  # whether a message opens the sign-up form (bot/matching/intent.py)
    store: Store
    texts: Texts
    limiter: RateLimit
    sectors: SectorLexicon
    replies: ReplyWords
    clock: Callable[[], datetime] = field(default=utcnow)
    # Whether each staff chat is a forum (asked of Telegram once, for relay.forum: auto).
    forum_chats: dict[int, bool] = field(default_factory=dict)
    # The shared reload count this process's knowledge base matches (bot.knowledge_reload).
    knowledge_generation: int | None = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """CallbackContext with typed access to the bot's services.

    One context serves every handler an update reaches, so it also keeps the partner's
    state read once for the whole update (see ``user_state``).
    """

    _user_state: tuple[int, int, UserState] | None = None

    async def user_state(self, user_id: int) -> UserState:
        """The user's open form and language choices, read once per update and again
        only after this process changed them."""
        store = self.store
        version = store.user_version(user_id)
        kept = self._user_state
        if kept is None or kept[0] != user_id or kept[1] != version:
            kept = (user_id, version, await store.user_state(user_id))
            self._user_state = kept
        return kept[2]

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
