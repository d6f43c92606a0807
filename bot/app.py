"""Building the Application: the one place where handlers are wired, read top to bottom."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot.bot_api_request import AiohttpRequest
from bot.config import Config
from bot.context import SERVICES, BotApplication, BotContext, Services
from bot.db.store import Store
from bot.inbox import is_database_outage
from bot.knowledge import LANGS, KnowledgeBase
from bot.knowledge_reload import build_knowledge, follow_reloads
from bot.limits import rate_limit_for
from bot.outbox import delivery_job, kick_delivery
from bot.relay.jobs import schedule_relay_jobs
from bot.texts import Texts
from handlers.errors import on_error
from handlers.guard import guard_handler
from handlers.lead_form import form_handlers, form_router
from handlers.privacy import privacy_handlers
from handlers.questions import question_handlers
from handlers.relay import relay_gate, relay_handlers
from handlers.relay_staff import relay_staff_handlers
from handlers.staff import staff_handlers
from handlers.start import start_handlers

log = logging.getLogger(__name__)

GROUP_SECONDS_PER_MESSAGE = 3.1
OVERALL_MESSAGES_PER_SECOND = 30
KNOWLEDGE_FOLLOW_SECONDS = 10  # how soon a worker follows another's knowledge-base reload
# The commands in Telegram's menu, in order; their descriptions are labels (command.*).
COMMANDS = ("start", "topics", "apply", "contact", "language", "privacy", "forget", "help")


def build_services(
    config: Config, kb: KnowledgeBase | None = None, store: Store | None = None
) -> Services:
    knowledge = build_knowledge(config, kb)
    store = store or Store.from_url(config.database.url, pool_size=config.serving.concurrency + 4)
    return Services(
        config=config,
        kb=knowledge.kb,
        matcher=knowledge.matcher,
        apply=knowledge.apply,
        store=store,
        texts=Texts(),
        limiter=rate_limit_for(config.bot, store),
        sectors=knowledge.sectors,
        replies=knowledge.replies,
    )


def build_application(
    config: Config,
    *,
    services: Services | None = None,
    request: BaseRequest | None = None,
    token: str | None = None,
    serving: bool = False,
) -> BotApplication:
    """The bot, ready to initialise. ``request`` replaces the network (tests, local chat)."""
    services = services or build_services(config)
    builder = (
        Application.builder()
        .token(token or config.token())
        .base_url(config.telegram.api_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
        .context_types(ContextTypes(context=BotContext))
        .post_init(post_init)
        .post_shutdown(_post_shutdown)
    )
    if serving:
        # Updates come from the inbox (bot.inbox), not from PTB's own poller.
        builder = builder.updater(None)
        if config.serving.flood_control:
            # Telegram's limits on every call: about 30 messages a second overall, and 20 a
            # minute into one group, spaced (one every 3.1 s) so that no 60-second window ever
            # holds more than 20 even after a burst. A 429 is waited out and the call made
            # again, never dropped. Processes sharing the token share the limits evenly: a
            # count kept in one place would cost a round trip per message.
            workers = config.serving.workers
            limiter = AIORateLimiter(
                overall_max_rate=OVERALL_MESSAGES_PER_SECOND / workers,
                overall_time_period=1,
                group_max_rate=1,
                group_time_period=GROUP_SECONDS_PER_MESSAGE * workers,
                max_retries=5,
            )
            builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # Every Bot API call gives up within this; the outbox's lease is validated to
        # outlive it, so a slow send cannot outlast the lease it was made under.
        timeout = config.delivery.request_timeout_seconds
        # One client for both: the inbox's poller calls getUpdates through the main one.
        client = AiohttpRequest(timeout=timeout)
        builder = builder.request(client).get_updates_request(client)
    app: BotApplication = builder.build()
    app.bot_data[SERVICES] = services

    # Group -3: the rate limit sees every update first and may stop it.
    app.add_handler(guard_handler(), group=-3)
    # Group -2: a banned partner's updates stop here; while a conversation with staff is
    # open, the partner's messages go to staff (not to the form or the matcher).
    app.add_handler(relay_gate(), group=-2)
    # Group -1: while a form is open, its router takes the user's messages.
    app.add_handler(form_router(), group=-1)
    # Group 0: commands and buttons, then free text. The question handler is
    # last because it takes any text the handlers above did not claim.
    for handlers in (
        start_handlers(),
        form_handlers(),
        privacy_handlers(),
        relay_handlers(),
        staff_handlers(config.telegram),
        # Before the questions: staff answers to partners are staff-chat messages.
        relay_staff_handlers(config.telegram),
        question_handlers(),
    ):
        app.add_handlers(handlers)
    app.add_error_handler(on_error)

    if app.job_queue is not None:
        app.job_queue.run_repeating(delivery_job, interval=config.delivery.poll_seconds, first=1)
        app.job_queue.run_repeating(
            purge_job,
            interval=timedelta(hours=config.privacy.purge_interval_hours),
            first=10,
        )
        app.job_queue.run_repeating(inbox_cleanup_job, interval=timedelta(hours=1), first=60)
        app.job_queue.run_repeating(knowledge_job, interval=KNOWLEDGE_FOLLOW_SECONDS, first=0)
        schedule_relay_jobs(app.job_queue, config.relay)
    return app


async def knowledge_job(context: BotContext) -> None:
    """Reload the knowledge base when another worker did (a SIGHUP or /reload there)."""
    try:
        await follow_reloads(context.services)
    except Exception as exc:
        if not is_database_outage(exc):
            raise  # the inbox reports an outage once; the next look will do


async def inbox_cleanup_job(context: BotContext) -> None:
    """Forget handled updates' ids once Telegram can no longer send them again."""
    keep = timedelta(hours=context.config.serving.keep_done_hours)
    await context.store.purge_inbox(context.services.clock() - keep)


async def purge_job(context: BotContext) -> None:
    """Retention: delete personal data older than the configured period."""
    now = context.services.clock()
    cutoff = now - timedelta(days=context.config.privacy.retention_days)
    # An abandoned form would be discarded at its owner's next message anyway.
    idle = now - timedelta(minutes=context.config.form.idle_timeout_minutes)
    counts = await context.store.purge_before(cutoff, idle_forms_before=idle)
    if any(counts.values()):
        log.info("retention purge removed %s", counts)
    if counts.get("leads") or counts.get("conversations"):
        kick_delivery(context)  # their staff posts are withdrawn through the outbox


async def post_init(app: Application) -> None:  # type: ignore[type-arg]
    """The command menu and the bot's profile texts, in Arabic for Arabic apps, else English."""
    texts: Texts = app.bot_data[SERVICES].texts
    for lang in LANGS:
        code = "ar" if lang == "ar" else None  # None: the default, for every other app language
        await app.bot.set_my_commands(
            [BotCommand(name, texts.label(f"command.{name}", lang)) for name in COMMANDS],
            language_code=code,
        )
        await app.bot.set_my_description(texts.render("bot/description", lang), language_code=code)
        await app.bot.set_my_short_description(
            texts.render("bot/short_description", lang), language_code=code
        )


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    services: Services = app.bot_data[SERVICES]
    await services.store.close()
