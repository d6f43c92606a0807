"""``partnerbot run``: one worker process, polling or behind a webhook.

Start-up checks the config, the knowledge base, the database and the Bot API in that
order, one line each; the database and the Bot API are waited for with backoff rather
than given up on, since in a deployment they often start after the bot. Then updates
flow Telegram -> inbox (database) -> worker pool -> Application, and staff posts leave
through the outbox, so several processes can serve one bot on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import build_application, build_services, post_init
from bot.config import Config, ConfigError
from bot.context import SERVICES, BotApplication, Services
from bot.db.migrate import MigrationError, upgrade_in_child
from bot.db.store import Store
from bot.heap import freeze_long_lived
from bot.inbox import ALLOWED_UPDATES, InboxWorkers, is_database_outage, poll_into_inbox
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.knowledge_reload import reload_knowledge
from bot.logs import Outage, configure_logging
from bot.views import send_text

log = logging.getLogger("partnerbot")
T = TypeVar("T")
MAX_BACKOFF = 30.0


class StartupError(Exception):
    """A start-up check failed for a reason waiting will not fix; one line for the operator."""


def run(config: Config, *, webhook: bool, log_json: bool = False) -> int:
    """Serve until SIGINT or SIGTERM; the exit code for the shell."""
    token = config.token()
    webhook = webhook or config.webhook.enabled
    secret = config.webhook_secret() if webhook else None
    if webhook and not config.webhook.url:
        raise ConfigError("webhook.url: required in webhook mode (the public HTTPS URL)")
    configure_logging([token, secret or ""], as_json=log_json)
    log.info("config OK: %s mode", "webhook" if webhook else "polling")
    try:
        _run_loop(_serve(config, token, secret))
    except StartupError as exc:
        log.error("%s", exc)
        return 1
    return 0


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed (not on Windows): the same asyncio with
    its sockets and scheduling in C, 6-9% less CPU per update in bench_bot."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(config: Config, token: str, secret: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    kb = load_knowledge_base(config.bot.knowledge_path)
    log.info("knowledge base OK: %d entries", len(kb))
    url = config.database.url
    try:
        await _until_up("database", lambda: upgrade_in_child(url), stop, is_database_outage)
    except MigrationError as exc:
        raise StartupError(str(exc)) from None
    log.info("database OK: %s, migrated", url.split(":", 1)[0])
    services = build_services(config, kb=kb)
    app = build_application(config, services=services, token=token, serving=True)
    try:
        await _until_up("Bot API", app.initialize, stop, _is_network)
    except InvalidToken:
        await app.bot.request.shutdown()  # its connections, opened for getMe
        raise StartupError(
            "Bot API refused the token: check TELEGRAM_BOT_TOKEN (or telegram.token) "
            "and telegram.api_base_url"
        ) from None
    if stop.is_set():
        await app.bot.request.shutdown()
        return
    log.info("Bot API OK: @%s", app.bot.username)
    await _serve_updates(app, config, services.store, kb, secret, stop)


async def _serve_updates(
    app: BotApplication,
    config: Config,
    store: Store,
    kb: KnowledgeBase,
    secret: str | None,
    stop: asyncio.Event,
) -> None:
    workers = InboxWorkers(app, store, config.serving)
    await app.start()
    reloads: set[asyncio.Task[None]] = set()  # referenced until done

    def on_sighup() -> None:
        task = asyncio.create_task(reload_on_signal(app), name="knowledge-reload")
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_sighup)
    with contextlib.suppress(NetworkError):
        await post_init(app)  # the command menu can wait for the next start
    tasks = [asyncio.create_task(workers.run(stop), name="inbox-workers")]
    polling: asyncio.Task[None] | None = None
    # The HTTP stack is loaded only when this process listens: a polling worker without
    # ops endpoints saves its memory.
    if secret is not None or config.ops.port is not None:
        from bot.web import build_web_app
    if secret is not None:
        assert config.webhook.url is not None
        web = build_web_app(config, store, kb, workers, webhook_secret=secret)
        listening = asyncio.Event()
        tasks.append(_listen(web, config.webhook.listen, config.webhook.port, stop, listening))
        await listening.wait()  # Telegram's first post must find us listening
        await app.bot.set_webhook(
            config.webhook.url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
        )
        log.info("webhook set; listening on %s:%s", config.webhook.listen, config.webhook.port)
    else:
        await app.bot.delete_webhook()  # switching back to polling
        polling = asyncio.create_task(poll_into_inbox(app, store, workers, stop))
        if config.ops.port is not None:
            web = build_web_app(config, store, kb, workers, webhook_secret=None)
            tasks.append(_listen(web, config.ops.listen, config.ops.port, stop))
        log.info("polling for updates")
    for task in (*tasks, *([polling] if polling is not None else [])):
        task.add_done_callback(functools.partial(_stop_if_it_failed, stop))
    freeze_long_lived()  # everything is built: see bot/heap.py
    await stop.wait()
    log.info("stopping: updates not yet handled stay in the inbox")
    if polling is not None:
        # A held getUpdates would keep us up to 30 s; what it would bring is not
        # acknowledged yet, so Telegram sends it again to the next process.
        polling.cancel()
        tasks.append(polling)
    await asyncio.gather(*tasks, return_exceptions=True)
    await app.stop()
    await app.shutdown()


def _stop_if_it_failed(stop: asyncio.Event, task: asyncio.Task[None]) -> None:
    """A serving loop that ended on its own would leave a process that looks alive (its
    /healthz answers) but takes no updates: stop, so the supervisor starts a new one."""
    if stop.is_set() or task.cancelled():
        return
    error = task.exception()
    log.error(
        "%s ended unexpectedly (%s); stopping so the process is restarted",
        task.get_name(),
        type(error).__name__ if error else "no error",
    )
    stop.set()


async def reload_on_signal(app: BotApplication) -> None:
    """SIGHUP: reload the knowledge base (every worker follows); when the new one is
    refused, the staff chat hears which file and line, since nobody reads a log at once."""
    services: Services = app.bot_data[SERVICES]
    try:
        outcome = await reload_knowledge(services)
    except Exception as exc:  # the database, for the shared generation: logged, not fatal
        log.error("knowledge base reload failed: %s", type(exc).__name__)
        return
    telegram = services.config.telegram
    if outcome.ok or telegram.staff_chat_id is None:
        return
    text = services.texts.render("staff/reload", telegram.staff_language, outcome=outcome)
    try:
        await send_text(
            app.bot, telegram.staff_chat_id, text, message_thread_id=telegram.staff_topic_id
        )
    except TelegramError as exc:
        log.error("could not tell staff about the refused knowledge base: %s", type(exc).__name__)


def _listen(
    web: Any,
    host: str,
    port: int,
    stop: asyncio.Event,
    listening: asyncio.Event | None = None,
) -> asyncio.Task[None]:
    """Serve ``web`` (a Starlette app) with uvicorn until ``stop``; set ``listening`` once up."""
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling: the bot's stop event rules."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    server = Server(
        uvicorn.Config(web, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    )

    async def serve() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has only a flag)
            await asyncio.sleep(0.02)
        if listening is not None:
            listening.set()
        # Until stopped, or until the server ends on its own (then this task ends too, and
        # the process stops: see _stop_if_it_failed).
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        server.should_exit = True
        await serving

    return asyncio.create_task(serve(), name=f"http-{port}")


def _is_network(error: BaseException) -> bool:
    return isinstance(error, NetworkError) and not isinstance(error, InvalidToken)


async def _until_up(
    what: str,
    action: Callable[[], Awaitable[T]],
    stop: asyncio.Event,
    transient: Callable[[BaseException], bool],
) -> T | None:
    """Run ``action`` until it succeeds, waiting longer after each transient failure."""
    outage = Outage(what, log)
    delay = 1.0
    while True:
        try:
            result = await action()
        except Exception as exc:
            if not transient(exc):
                raise
            outage.failed(exc)
            log.info("%s: retrying in %.0f s", what, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return None
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        outage.recovered()
        return result
