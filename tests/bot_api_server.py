"""A fake Telegram Bot API that speaks real HTTP on 127.0.0.1, for tests and benchmarks.

Unlike ``bot.local_api.LocalBotApi`` (which replaces PTB's request layer in-process), this
is an aiohttp web server, so a real ``Bot``/``Application`` - or a ``partnerbot run``
subprocess - talks to it over sockets exactly as to Telegram::

    async with BotApiServer() as server:
        bot = Bot(server.token, base_url=server.base_url)
        server.user_text(55, "hello")                 # act as a user
        await server.wait_for(lambda calls: any(c.method == "sendMessage" for c in calls))
        assert server.messages(55)[0].text            # read what the chat received
        server.fail("sendMessage", "429", retry_after=1)   # inject a fault
        await server.down(0.5)                        # the Bot API is unreachable for 0.5 s

Long polling (``getUpdates`` with offset/timeout/limit) and webhooks (``setWebhook``; updates
are POSTed with the secret header and retried on non-2xx) behave like Telegram's. From
synchronous code, ``with serve_in_thread(BotApiServer()) as server:`` runs it on its own event
loop in a background thread; its plain methods are thread-safe, and ``server.blocking(coro)``
runs its coroutines (``down``, ``up``, ``wait_for``) from that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

T = TypeVar("T")
Json = dict[str, Any]  # a Telegram object or parameters, as decoded JSON
TOKEN = "123456:TEST-bot-api-server"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "partnerbot", "username": "partnerbot_test"}
# Parameters PTB sends as JSON text inside form fields.
JSON_FIELDS = frozenset(
    "reply_markup entities caption_entities commands allowed_updates scope link_preview_options"
    " reply_parameters media results permissions menu_button".split()
)
ADMIN_RIGHTS = (
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members"
    " can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories".split()
)
RESTRICTED_RIGHTS = (
    "can_change_info can_invite_users can_pin_messages can_send_messages can_send_polls"
    " can_send_other_messages can_add_web_page_previews can_manage_topics can_send_audios"
    " can_send_documents can_send_photos can_send_videos can_send_video_notes"
    " can_send_voice_notes can_edit_tag can_react_to_messages".split()
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
ERRORS = {400: "Bad Request: simulated", 403: "Forbidden: bot was blocked by the user"}
BAD_GATEWAY_HTML = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n"


@dataclass
class Call:
    """One request the server received; ``status`` is the HTTP status answered (None: none)."""

    method: str
    params: Json
    files: dict[str, bytes]
    at: float  # time.monotonic() on arrival
    chat_id: int | None = None
    status: int | None = None


@dataclass(frozen=True)
class Sent:
    """A message the bot sent to a chat, or a later edit of it (same ``message_id``)."""

    chat_id: int
    message_id: int
    method: str
    text: str | None  # the text, or a document's caption
    reply_markup: Json | None  # inline keyboards only, as Telegram echoes them
    message_thread_id: int | None
    at: float

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """(label, callback data or url) rows of the inline keyboard."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(b["text"], b.get("callback_data") or b.get("url", "")) for b in r] for r in rows]


@dataclass
class Fault:
    """A failure to inject into the next ``times`` matching calls (None: until cleared)."""

    method: str
    kind: str
    times: int | None
    chat_id: int | None
    retry_after: int
    delay: float


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: the update and the receiver's status (None: no answer)."""

    update_id: int
    status: int | None
    at: float  # when the answer came (monotonic)
    seconds: float = 0.0  # how long the receiver took to answer


class ApiError(Exception):
    """An error answer, the way Telegram words it."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class BotApiServer:
    """The fake Bot API: serves ``/bot<token>/<method>``, acts as users, records and fails.

    ``keep`` bounds each record (calls, sent messages, webhook deliveries); ``max_pending`` the
    updates not yet fetched; ``max_poll_seconds`` how long a getUpdates is held (lower it so a
    polling subprocess stops quickly); webhook updates are retried every ``webhook_retry_delay``
    seconds, ``webhook_max_attempts`` times, then dropped as Telegram does.
    ``webhook_connections`` POSTs may be in flight at once (Telegram's ``max_connections``,
    40 by default; 1 here unless asked, one update after the other), never two of one chat.
    """

    def __init__(
        self,
        token: str = TOKEN,
        *,
        port: int = 0,
        keep: int = 100_000,
        max_pending: int = 10_000,
        webhook_retry_delay: float = 0.1,
        webhook_max_attempts: int = 50,
        webhook_connections: int = 1,
        max_poll_seconds: float = 50.0,
    ) -> None:
        self.token, self.host, self.port = token, "127.0.0.1", port
        self.keep, self.max_pending = keep, max_pending
        self.max_poll_seconds = max_poll_seconds  # Telegram holds getUpdates at most 50 s
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_connections = webhook_connections
        self.redeliver_on_success = False  # deliver each webhook update twice (idempotency)
        self._calls: deque[Call] = deque(maxlen=keep)
        self._sent: deque[Sent] = deque(maxlen=keep)
        self._deliveries: deque[Delivery] = deque(maxlen=keep)
        self._messages: OrderedDict[tuple[int, int], Json] = OrderedDict()
        self._last_ids: dict[int, int] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._faults: list[Fault] = []
        self._pending: deque[Json] = deque()
        self._update_ids = itertools.count(1)
        self._allowed: list[str] | None = None
        self._webhook: Json | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._poller: asyncio.Future[str] | None = None
        self._down = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed, self._kick, self._stopping = (asyncio.Event() for _ in range(3))
        self._up_timer: asyncio.Task[None] | None = None

    # Lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port unless one was given) and start webhook delivery."""
        self._loop, self._loop_thread = asyncio.get_running_loop(), threading.get_ident()
        self._changed, self._kick, self._stopping = (asyncio.Event() for _ in range(3))
        self._down = False
        app = web.Application(client_max_size=50 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        await self._listen()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession()
        self._spawn(self._deliver_loop())

    async def stop(self) -> None:
        """Answer held requests, stop every background task and close the port."""
        if self._runner is None:
            return
        self._stopping.set()
        self._wake_poller("gone")
        tasks = [*self._tasks, *filter(None, [self._up_timer])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        await self._runner.cleanup()
        self._runner = self._site = self._client = self._up_timer = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to give ``Bot(token, base_url=...)`` (or ``telegram.api_base_url``)."""
        return f"http://{self.host}:{self.port}/bot"

    def blocking(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run one of this server's coroutines from another thread and wait for its result."""
        assert self._loop is not None, "start the server first"
        assert threading.get_ident() != self._loop_thread, "await it on the server's own loop"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # Acting as users ----------------------------------------------------------------------
    def user_text(
        self,
        user_id: int,
        text: str,
        *,
        language_code: str | None = "en",
        chat_id: int | None = None,
        username: str | None = None,
        first_name: str = "User",
        reply_to: Sent | None = None,
        thread_id: int | None = None,
    ) -> Json:
        """A text message from a user (in their private chat unless chat_id), as a reply to
        ``reply_to`` or in forum topic ``thread_id`` when given; returns the update."""
        fields: Json = {"text": text}
        if thread_id is not None:
            fields.update(message_thread_id=thread_id, is_topic_message=True)
        if text.startswith("/"):
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        user = _user(user_id, first_name, language_code, username)

        def push() -> Json:
            if reply_to is not None:
                fields["reply_to_message"] = self._messages[(reply_to.chat_id, reply_to.message_id)]
            return self._push_message(user, chat_id or user_id, fields)

        return self._run(push)

    def user_command(self, user_id: int, command: str, argument: str = "", **kwargs: Any) -> Json:
        """``/command argument`` from a user (same keywords as user_text)."""
        text = "/" + command.lstrip("/") + (f" {argument}" if argument else "")
        return self.user_text(user_id, text, **kwargs)

    def user_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        own: bool = True,
        language_code: str | None = "en",
        first_name: str = "User",
    ) -> Json:
        """A shared contact: the user's own number unless own=False."""
        contact: Json = {"phone_number": phone_number, "first_name": first_name}
        if own:
            contact["user_id"] = user_id
        user = _user(user_id, first_name, language_code, None)
        return self._run(lambda: self._push_message(user, user_id, {"contact": contact}))

    def user_press(
        self,
        user_id: int,
        message: Sent | Mapping[str, Any],
        callback_data: str,
        *,
        language_code: str | None = "en",
        first_name: str = "User",
    ) -> Json:
        """A press of an inline button on a message the bot sent (as it now stands)."""

        def push() -> Json:
            current = dict(message) if isinstance(message, Mapping) else None
            if isinstance(message, Sent):
                current = self._messages[(message.chat_id, message.message_id)]
            assert current is not None
            query = {
                "id": str(next(self._update_ids)),
                "from": _user(user_id, first_name, language_code, None),
                "chat_instance": str(current["chat"]["id"]),
                "message": current,
                "data": callback_data,
            }
            return self._push(callback_query=query)

        return self._run(push)

    # Reading what happened ------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Every request received, oldest first (a snapshot; the last ``keep`` only)."""
        return list(self._calls)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook POST attempt, oldest first."""
        return list(self._deliveries)

    def messages(self, chat_id: int) -> list[Sent]:
        """What a chat received, in order: each send and each edit."""
        return self._run(lambda: [s for s in self._sent if s.chat_id == chat_id])

    def message(self, chat_id: int, message_id: int) -> Json | None:
        """A sent message as it now stands, Telegram-shaped (None once deleted)."""
        return self._run(lambda: self._messages.get((chat_id, message_id)))

    def max_rate(self, chat_id: int | None = None, window_seconds: float = 1.0) -> int:
        """The most messages sent (successfully) to a chat, or to all, in any such window."""
        times = [
            c.at
            for c in self._run(lambda: self.calls)
            if c.status == 200 and _is_send(c.method) and chat_id in (None, c.chat_id)
        ]
        best = start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window_seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    async def wait_for(
        self,
        predicate: Callable[[list[Call]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is the point of the helper
    ) -> list[Call]:
        """Wait until predicate(calls) holds; TimeoutError (with the last calls) otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(calls := self.calls):
            if (remaining := deadline - time.monotonic()) <= 0:
                raise TimeoutError(
                    f"not within {timeout}s; last calls: {[c.method for c in calls[-8:]]}"
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.05))
        return calls

    # Configuring and injecting faults -------------------------------------------------------
    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """getChatMember's status for (chat, user): creator, administrator, member, restricted, left, kicked."""
        self._members[(chat_id, user_id)] = status

    def fail(
        self,
        method: str,
        kind: str,
        *,
        times: int | None = 1,
        chat_id: int | None = None,
        retry_after: int = 1,
        delay: float = 1.0,
    ) -> None:
        """Fail the next matching calls ("*": any method): "429", "500", "502" (or another
        4xx/5xx code), "slow" (takes effect, answers after delay s) or "refuse" (hang up)."""
        if kind not in ("slow", "refuse") and not (kind.isdigit() and 400 <= int(kind) < 600):
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(method, kind, times, chat_id, retry_after, delay)
        self._run(lambda: self._faults.append(fault))

    def clear_faults(self) -> None:
        """Forget every fault not yet used."""
        self._run(self._faults.clear)

    async def down(self, seconds: float | None = None) -> None:
        """Stop listening and drop open connections; back after seconds (or at up())."""
        if not self._down:
            self._down = True
            if self._site is not None:
                await self._site.stop()
                self._site = None
            assert self._runner is not None and self._runner.server is not None
            for connection in self._runner.server.connections:
                connection.force_close()
            self._wake_poller("gone")
        if self._up_timer is not None:
            self._up_timer.cancel()
            self._up_timer = None
        if seconds is not None:
            self._up_timer = asyncio.create_task(self._up_after(seconds))

    async def up(self) -> None:
        """Listen again on the same port."""
        if self._up_timer is not None and self._up_timer is not asyncio.current_task():
            self._up_timer.cancel()
        self._up_timer = None
        if self._down and self._runner is not None:
            await self._listen()
            self._down = False
            self._kick.set()

    # Internals ------------------------------------------------------------------------------
    def _run(self, fn: Callable[[], T]) -> T:
        """Call fn on the server's event loop (directly when already on its thread)."""
        loop = self._loop
        if loop is None or loop.is_closed() or threading.get_ident() == self._loop_thread:
            return fn()

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result(30)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()

    async def _up_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.up()

    def _wake_poller(self, why: str) -> None:
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(why)

    def _push_message(self, user: Json, chat_id: int, fields: Json) -> Json:
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": _chat(chat_id, user["first_name"]),
            "from": user,
            **fields,
        }
        self._remember((chat_id, message["message_id"]), message)  # copyMessage reads it
        return self._push(message=message)

    def _push(self, **fields: Any) -> Json:
        if len(self._pending) >= self.max_pending:
            raise OverflowError(f"{self.max_pending} updates pending: is the bot polling?")
        update = {"update_id": next(self._update_ids), **fields}
        if self._allowed is None or next(iter(fields)) in self._allowed:
            self._pending.append(update)  # Telegram drops updates of types not allowed
            self._wake_poller("updates")
            self._kick.set()
        return update

    def _remember(self, key: tuple[int, int], message: Json) -> None:
        self._messages[key] = message
        self._messages.move_to_end(key)
        while len(self._messages) > self.keep:
            self._messages.popitem(last=False)

    def _next_message_id(self, chat_id: int) -> int:
        self._last_ids[chat_id] = self._last_ids.get(chat_id, 0) + 1
        return self._last_ids[chat_id]

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method) and fault.chat_id in (None, chat_id):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._down:  # a request on a connection accepted just before down()
            request.protocol.force_close()
            return web.Response()
        method, fault, call = request.match_info["method"], None, None
        try:
            params, files = await _read_params(request)
            call = Call(method, params, files, time.monotonic(), _int(params.get("chat_id")))
            self._calls.append(call)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            fault = self._take_fault(method, call.chat_id)
            if fault is not None and fault.kind == "refuse":
                request.protocol.force_close()
                return web.Response()
            if fault is not None and fault.kind.isdigit():
                raise _fault_error(fault)
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = self._respond(method, params, files)
            status, body = 200, {"ok": True, "result": result}
        except (KeyError, ValueError, TypeError) as error:  # missing or malformed parameters
            status, body = (
                400,
                {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"},
            )
        except ApiError as error:
            status, body = (
                error.code,
                {"ok": False, "error_code": error.code, "description": error.description},
            )
            if error.parameters:
                body["parameters"] = error.parameters
        if call is not None:
            call.status = status
        self._changed.set()
        if fault is not None and fault.kind == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        if status == 502:
            return web.Response(status=502, body=BAD_GATEWAY_HTML, content_type="text/html")
        return web.json_response(body, status=status)

    async def _get_updates(self, params: Json) -> list[Json]:
        self._no_webhook()
        offset, limit = (
            int(params.get("offset") or 0),
            min(max(int(params.get("limit") or 100), 1), 100),
        )
        if "allowed_updates" in params:
            self._allowed = params["allowed_updates"] or None
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
        while self._pending and offset > 0 and self._pending[0]["update_id"] < offset:
            self._pending.popleft()  # acknowledged: gone for good
        self._wake_poller("conflict")  # Telegram ends an earlier getUpdates with 409
        timeout = min(float(params.get("timeout") or 0), self.max_poll_seconds)
        if not self._pending and timeout > 0:
            poller = self._poller = asyncio.get_running_loop().create_future()
            try:
                why = await asyncio.wait_for(asyncio.shield(poller), timeout)
            except TimeoutError:
                why = "timeout"
            finally:
                if self._poller is poller:
                    self._poller = None
            if why == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
            self._no_webhook()  # set while this request waited
        return list(itertools.islice(self._pending, limit))

    def _no_webhook(self) -> None:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )

    def _respond(self, method: str, params: Json, files: dict[str, bytes]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "copyMessage":
            return self._copy(params, files)
        if method == "createForumTopic":
            thread = self._next_message_id(_int(params.get("chat_id")) or 0)
            return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}
        if _is_send(method) or method.startswith("edit"):
            return self._store(method, params, files) if "chat_id" in params else True
        if method == "deleteMessage":
            key = (_int(params.get("chat_id")) or 0, _int(params.get("message_id")) or 0)
            if self._messages.pop(key, None) is None:
                raise ApiError(400, "Bad Request: message to delete not found")
            return True
        if method == "getChatMember":
            return _member(
                self._members.get((_int(params["chat_id"]) or 0, int(params["user_id"])), "member"),
                int(params["user_id"]),
            )
        if method == "setWebhook" and params.get("url"):
            if params.get("drop_pending_updates") in (True, "true", "True"):
                self._pending.clear()
            self._allowed = params.get("allowed_updates") or self._allowed
            self._webhook = {"url": params["url"], "secret": params.get("secret_token")}
            self._wake_poller("webhook")
            self._kick.set()
        elif method in ("setWebhook", "deleteWebhook"):
            if params.get("drop_pending_updates") in (True, "true", "True"):
                self._pending.clear()
            self._webhook = None
        if method == "getWebhookInfo":
            info: Json = {
                "url": (self._webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
                "max_connections": 40,
            }
            if self._allowed:
                info["allowed_updates"] = self._allowed
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
            return info
        return True

    def _store(self, method: str, params: Json, files: dict[str, bytes]) -> Json:
        chat_id = _int(params["chat_id"])
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat not found")
        old: Json = {}
        if method.startswith("edit"):
            key = (chat_id, _int(params.get("message_id")) or 0)
            if key not in self._messages:
                raise ApiError(400, "Bad Request: message to edit not found")
            old = self._messages[key]
            message = {**old, "edit_date": int(time.time())}
        else:
            message = {
                "message_id": self._next_message_id(chat_id),
                "date": int(time.time()),
                "chat": _chat(chat_id, "User"),
                "from": BOT_USER,
            }
            if params.get("message_thread_id"):
                message.update(
                    message_thread_id=int(params["message_thread_id"]), is_topic_message=True
                )
        if "text" in params:
            message["text"] = str(params["text"])
        if "caption" in params:
            message["caption"] = str(params["caption"])
        for kind, content in files.items():
            message[kind] = {
                "file_id": f"{kind}-{chat_id}-{message['message_id']}",
                "file_unique_id": f"u{chat_id}-{message['message_id']}",
                "file_name": str(params.get(kind, kind)),
                "file_size": len(content),
            }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes only inline keyboards
        else:
            message.pop("reply_markup", None)  # an edit without a keyboard removes it
        if old and all(old.get(k) == message.get(k) for k in ("text", "caption", "reply_markup")):
            raise ApiError(400, NOT_MODIFIED)
        self._remember((chat_id, message["message_id"]), message)
        text = message.get("text", message.get("caption"))
        self._sent.append(
            Sent(
                chat_id,
                message["message_id"],
                method,
                text,
                message.get("reply_markup"),
                message.get("message_thread_id"),
                time.monotonic(),
            )
        )
        return message

    def _copy(self, params: Json, files: dict[str, bytes]) -> Json:
        """copyMessage: the source's content sent anew (a new caption replaces the old);
        Telegram answers with the new message's id only."""
        key = (_int(params.get("from_chat_id")) or 0, _int(params.get("message_id")) or 0)
        source = self._messages.get(key)
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = {k: source[k] for k in COPIED if k in source}
        if "caption" in params and "text" not in source:
            content["caption"] = params["caption"]
        sent = self._store("copyMessage", {**content, **_without(params, "caption")}, files)
        for kind in ("photo", "document", "voice"):
            if kind in content:
                sent[kind] = content[kind]
        return {"message_id": sent["message_id"]}

    async def _deliver_loop(self) -> None:
        if self.webhook_connections > 1:
            await self._deliver_concurrently()
            return
        head, tries = 0, 0  # the update being delivered, and its attempts so far
        while True:
            await self._kick.wait()
            self._kick.clear()
            while self._webhook is not None and self._pending and not self._down:
                update = self._pending[0]
                status = await self._post(self._webhook, update)
                if update["update_id"] != head:
                    head, tries = update["update_id"], 0
                tries += 1
                if status is not None and 200 <= status < 300 and self.redeliver_on_success:
                    await self._post(self._webhook, update)
                if (
                    status is not None and 200 <= status < 300
                ) or tries >= self.webhook_max_attempts:
                    if self._pending and self._pending[0] is update:
                        self._pending.popleft()
                else:
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _deliver_concurrently(self) -> None:
        """Up to ``webhook_connections`` POSTs at once, oldest updates first, one per chat."""
        busy_chats: set[int] = set()
        in_flight: set[int] = set()

        def done(update_id: int, chat: int, _task: object) -> None:
            in_flight.discard(update_id)
            busy_chats.discard(chat)
            self._kick.set()

        while True:
            if self._webhook is not None and not self._down:
                for update in list(self._pending):
                    if len(in_flight) >= self.webhook_connections:
                        break
                    update_id, chat = update["update_id"], _chat_of(update)
                    if update_id in in_flight or chat in busy_chats:
                        continue
                    in_flight.add(update_id)
                    busy_chats.add(chat)
                    task = asyncio.create_task(self._deliver_one(update))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    task.add_done_callback(functools.partial(done, update_id, chat))
            await self._kick.wait()
            self._kick.clear()

    async def _deliver_one(self, update: Json) -> None:
        """POST one update until it is taken (or given up on), while a webhook is set."""
        for _ in range(self.webhook_max_attempts):
            webhook = self._webhook
            if webhook is None or self._down:
                return  # it stays pending, for the next webhook or for getUpdates
            status = await self._post(webhook, update)
            if status is not None and 200 <= status < 300:
                if self.redeliver_on_success:
                    await self._post(webhook, update)
                break
            await asyncio.sleep(self.webhook_retry_delay)
        with contextlib.suppress(ValueError):
            self._pending.remove(update)

    async def _post(self, webhook: Json, update: Json) -> int | None:
        assert self._client is not None
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": webhook["secret"]} if webhook["secret"] else {}
        )
        status: int | None = None
        began = time.monotonic()
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            timeout = aiohttp.ClientTimeout(total=10)
            async with self._client.post(
                webhook["url"], json=update, headers=headers, timeout=timeout
            ) as response:
                status = response.status
                await response.read()
        done = time.monotonic()
        self._deliveries.append(Delivery(update["update_id"], status, done, done - began))
        if status is None or not 200 <= status < 300:
            reason = (
                f"Wrong response from the webhook: {status}" if status else "Connection refused"
            )
            self._webhook_error = (int(time.time()), reason)
        self._changed.set()
        return status


def _chat_of(update: Json) -> int:
    """The chat an update belongs to (its sender's, for a button), for per-chat order."""
    for key, value in update.items():
        if key != "update_id" and isinstance(value, dict):
            chat = value.get("chat") or (value.get("message") or {}).get("chat") or {}
            return int(chat.get("id") or (value.get("from") or {}).get("id") or 0)
    return 0


@contextlib.contextmanager
def serve_in_thread(server: BotApiServer | None = None) -> Iterator[BotApiServer]:
    """Run a BotApiServer on its own event loop in a daemon thread (for synchronous code)."""
    server = server or BotApiServer()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bot-api-server", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


async def _read_params(request: web.Request) -> tuple[Json, dict[str, bytes]]:
    """Query, form, multipart or JSON parameters; JSON-valued form fields decoded."""
    params: Json = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json" and request.can_read_body:
        params.update(await request.json())
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key], params[key] = value.file.read(), value.filename
            else:
                params[key] = value
    for key in JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params, files


def _fault_error(fault: Fault) -> ApiError:
    code = int(fault.kind)
    if code == 429:
        return ApiError(
            429,
            f"Too Many Requests: retry after {fault.retry_after}",
            retry_after=fault.retry_after,
        )
    return ApiError(code, ERRORS.get(code) or HTTPStatus(code).phrase)


COPIED = ("text", "entities", "caption", "photo", "document", "voice")


def _without(params: Json, *keys: str) -> Json:
    return {k: v for k, v in params.items() if k not in keys}


def _is_send(method: str) -> bool:
    return (method.startswith("send") and method != "sendChatAction") or method in (
        "copyMessage",
        "forwardMessage",
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _chat(chat_id: int, first_name: str) -> Json:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": first_name}
    return {"id": chat_id, "type": "supergroup", "title": "Group"}


def _user(user_id: int, first_name: str, language_code: str | None, username: str | None) -> Json:
    user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    if username:
        user["username"] = username
    return user


def _member(status: str, user_id: int) -> Json:
    member: Json = {"status": status, "user": _user(user_id, "User", None, None)}
    if status == "administrator":
        member.update(
            dict.fromkeys(ADMIN_RIGHTS, True),
            can_be_edited=False,
            is_anonymous=False,
            can_promote_members=False,
        )
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "restricted":
        member.update(dict.fromkeys(RESTRICTED_RIGHTS, False), is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member
