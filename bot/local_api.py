"""An in-process stand-in for the Telegram Bot API, and factories for incoming updates.

``LocalBotApi`` plugs into python-telegram-bot at the request layer (a
``BaseRequest``), so the real ``Application``, ``Bot`` and handlers run unchanged
while nothing leaves the process. It records every call, keeps the messages it
"sent" (so buttons can be pressed later) and can be told to fail, to exercise
retries. ``partnerbot chat`` and the tests both use it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.bot_api_request import ConnectFailed

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "partnerbot", "username": "partnerbot_local"}
LOCAL_TOKEN = "4242:local-token-for-the-in-process-api"


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Failure:
    method: str
    # "retry_after", "server_error", "network", "blocked", "unreachable" (no connection
    # could be made: nothing was sent), or "lost_reply" (the call is carried out, then its
    # answer is lost: a timeout after Telegram accepted it)
    kind: str
    retry_after: int = 1


# ``_take_failure``'s word for a call to carry out whose answer is then lost.
_LOST_REPLY = (0, b"")


class LocalBotApi(BaseRequest):
    """Answers Bot API methods in memory."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chat_member_status: dict[tuple[int, int], str] = {}
        # Forum supergroups (getChat says is_forum) and their topics: id -> "open"/"closed".
        self.forum_chats: set[int] = set()
        self.topics: dict[tuple[int, int], str] = {}
        self.failures: deque[Failure] = deque()
        self.on_call: Callable[[ApiCall], None] | None = None
        # Awaited before a call reaches the fake Telegram, to make it slow or act while it is
        # in flight; a call cancelled while waiting here was never received (nor recorded).
        self.before_call: Callable[[ApiCall], Awaitable[None]] | None = None
        self._message_ids = itertools.count(1)

    # BaseRequest interface -------------------------------------------------
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        # Through JSON, as the real Bot API receives them: what is recorded and kept is
        # the stand-in's own copy, never an object the bot goes on using.
        params = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data and request_data.contains_files:
            for key, value in request_data.multipart_data.items():
                content = value[1] if isinstance(value, tuple) else value
                files[key] = content if isinstance(content, bytes) else content.read()
        if name not in ("getUpdates", "getMe"):
            call = ApiCall(name, params, files)
            if self.before_call is not None:
                await self.before_call(call)
            self.calls.append(call)
            if self.on_call is not None:
                self.on_call(call)
        failure = self._take_failure(name)
        if failure is _LOST_REPLY:
            # Telegram did it, but its answer never came back (a timeout after acceptance).
            self._respond(name, params)
            raise TimedOut("the answer was lost after Telegram accepted the call (simulated)")
        if failure is not None:
            return failure
        return 200, json.dumps({"ok": True, "result": self._respond(name, params)}).encode()

    # Failure injection -------------------------------------------------------
    def fail_next(self, method: str, kind: str, retry_after: int = 1) -> None:
        """Make the next call of ``method`` fail the way Telegram or the network can."""
        self.failures.append(Failure(method, kind, retry_after))

    def _take_failure(self, method: str) -> tuple[int, bytes] | None:
        for failure in list(self.failures):
            if failure.method == method:
                self.failures.remove(failure)
                if failure.kind == "network":
                    raise NetworkError("connection reset by peer (simulated)")
                if failure.kind == "unreachable":
                    raise ConnectFailed("connection refused (simulated)")
                if failure.kind == "lost_reply":
                    return _LOST_REPLY
                if failure.kind == "retry_after":
                    body = {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {failure.retry_after}",
                        "parameters": {"retry_after": failure.retry_after},
                    }
                    return 429, json.dumps(body).encode()
                if failure.kind == "blocked":
                    description = "Forbidden: bot was blocked by the user"
                    body = {"ok": False, "error_code": 403, "description": description}
                    return 403, json.dumps(body).encode()
                body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
                return 502, json.dumps(body).encode()
        return None

    # Responses -----------------------------------------------------------------
    def _respond(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendDocument"):
            return self._store_message(params, new=True)
        if name in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            return self._store_message(params, new=False)
        if name == "copyMessage":
            copied = self._store_message(params, new=True)
            source = self.messages.get((int(params["from_chat_id"]), int(params["message_id"])))
            if source is not None and "caption" not in params:
                copied.update({k: v for k, v in source.items() if k in ("text", "caption")})
            return {"message_id": copied["message_id"]}
        if name == "deleteMessage":
            self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
            return True
        if name == "deleteMessages":
            for message_id in params["message_ids"]:
                self.messages.pop((int(params["chat_id"]), int(message_id)), None)
            return True
        if name in ("getChat", "createForumTopic") or name.endswith("ForumTopic"):
            return self._forum(name, params)
        if name == "getChatMember":
            key = (int(params["chat_id"]), int(params["user_id"]))
            status = self.chat_member_status.get(key, "member")
            member: dict[str, Any] = {"status": status, "user": _user(int(params["user_id"]))}
            if status == "administrator":
                member.update(
                    can_be_edited=False,
                    is_anonymous=False,
                    can_manage_chat=True,
                    can_delete_messages=True,
                    can_manage_video_chats=True,
                    can_restrict_members=True,
                    can_promote_members=False,
                    can_change_info=True,
                    can_invite_users=True,
                    can_post_stories=False,
                    can_edit_stories=False,
                    can_delete_stories=False,
                )
            if status == "creator":
                member["is_anonymous"] = False
            return member
        if name == "getUpdates":
            return []
        return True

    def _forum(self, name: str, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if name == "getChat":
            return {
                **_chat(chat_id),
                "is_forum": chat_id in self.forum_chats,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        if name == "createForumTopic":
            thread = next(self._message_ids)
            self.topics[(chat_id, thread)] = "open"
            return {"message_thread_id": thread, "name": params["name"], "icon_color": 7322096}
        key = (chat_id, int(params["message_thread_id"]))
        if key not in self.topics:
            raise BadRequest("Message thread not found")
        if name == "deleteForumTopic":
            del self.topics[key]
            for message_key in [k for k, m in self.messages.items() if k[0] == chat_id]:
                if self.messages[message_key].get("message_thread_id") == key[1]:
                    del self.messages[message_key]
        else:
            self.topics[key] = "closed" if name == "closeForumTopic" else "open"
        return True

    def _store_message(self, params: dict[str, Any], *, new: bool) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids) if new else int(params["message_id"])
        old = self.messages.get((chat_id, message_id), {})
        message: dict[str, Any] = {
            **old,
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": BOT_USER,
        }
        if "text" in params:
            message["text"] = params["text"]
        if "caption" in params:
            message["caption"] = params["caption"]
        if "reply_markup" in params or not new:
            markup = params.get("reply_markup")
            # Telegram echoes only inline keyboards back in the Message.
            if markup and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
        if "document" in params:
            message["document"] = {"file_id": "local-file", "file_unique_id": "local-file"}
            message["caption"] = params.get("caption", "")
        if "message_thread_id" in params:
            message["message_thread_id"] = params["message_thread_id"]
        self.messages[(chat_id, message_id)] = message
        return message


def _chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "User"}
    return {"id": chat_id, "type": "supergroup", "title": "Staff"}


def _user(
    user_id: int,
    first_name: str = "User",
    language_code: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    if username:
        user["username"] = username
    return user


@dataclass(frozen=True)
class LocalUser:
    id: int
    first_name: str = "Sam"
    language_code: str | None = "en"
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return _user(self.id, self.first_name, self.language_code, self.username)


# Telegram numbers a bot's updates in one sequence, and the bot relies on an id never
# coming back (a form remembers the update that last moved it on): every factory of a
# process draws from one sequence, starting from the clock so a restarted local chat, on
# its kept database, does not repeat the ids of its last run.
_UPDATE_IDS = itertools.count(time.time_ns() // 1000)


class UpdateFactory:
    """Builds the updates Telegram would send: texts, commands, button presses, contacts."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._update_ids = _UPDATE_IDS
        self._message_ids = itertools.count(100_000)

    def _message(self, user: LocalUser, chat_id: int | None, **fields: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id if chat_id is not None else user.id),
            "from": user.as_dict(),
            **fields,
        }

    def _update(self, **fields: Any) -> Update:
        update = Update.de_json({"update_id": next(self._update_ids), **fields}, self.bot)
        assert update is not None
        return update

    def text(self, user: LocalUser, text: str, chat_id: int | None = None) -> Update:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self._update(message=self._message(user, chat_id, **fields))

    def message(self, user: LocalUser, chat_id: int | None = None, **fields: Any) -> Update:
        """Any message (a photo, a reply, a message in a forum topic) with these fields."""
        return self._update(message=self._message(user, chat_id, **fields))

    def edited(
        self, user: LocalUser, message_id: int, chat_id: int | None = None, **fields: Any
    ) -> Update:
        """The user's edit of their message ``message_id``."""
        message = self._message(user, chat_id, **fields)
        message.update(message_id=message_id, edit_date=int(time.time()))
        return self._update(edited_message=message)

    def contact(self, user: LocalUser, phone: str) -> Update:
        contact = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
        return self._update(message=self._message(user, None, contact=contact))

    def sticker(self, user: LocalUser) -> Update:
        sticker = {
            "file_id": "s1",
            "file_unique_id": "s1",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return self._update(message=self._message(user, None, sticker=sticker))

    def photo(self, user: LocalUser) -> Update:
        photo = [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]
        return self._update(message=self._message(user, None, photo=photo))

    def press(self, user: LocalUser, message: dict[str, Any], data: str) -> Update:
        query = {
            "id": str(next(self._update_ids)),
            "from": user.as_dict(),
            "chat_instance": "local",
            "message": message,
            "data": data,
        }
        return self._update(callback_query=query)


def buttons(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """(label, callback data or url) rows of a sent message's inline keyboard."""
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        [(b["text"], b.get("callback_data") or b.get("url", "")) for b in row]
        for row in markup.get("inline_keyboard", [])
    ]
