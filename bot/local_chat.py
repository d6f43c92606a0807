"""``partnerbot chat``: the real Application in a terminal, no token, no network.

Messages go through ``LocalBotApi``; what the bot sends is printed as text and
its buttons as numbered choices. A bare number presses a button of the latest
message that has buttons. Piped input works too: one message per line, and the
chat ends cleanly at the end of input.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from typing import Any, TextIO

from bot.app import build_application
from bot.config import Config
from bot.db.migrate import upgrade_in_child
from bot.local_api import LOCAL_TOKEN, ApiCall, LocalBotApi, LocalUser, UpdateFactory, buttons

LOCAL_USER = LocalUser(id=1, first_name="Local", username="local_user")
LOCAL_STAFF_CHAT = -1001
_TAG = re.compile(r"<[^>]+>")
_MARKS = re.compile("[\u200e\u200f]")


def plain(text: str) -> str:
    """Telegram HTML as a terminal shows it."""
    return _MARKS.sub("", html.unescape(_TAG.sub("", text)))


class Terminal:
    """Prints what the bot sends and remembers the latest buttons."""

    def __init__(self, api: LocalBotApi, out: TextIO) -> None:
        self.api = api
        self.out = out
        # (kind, message, value): kind is "callback", "text" or "contact".
        self.choices: list[tuple[str, dict[str, Any], str]] = []
        api.on_call = self.show

    def show(self, call: ApiCall) -> None:
        p = call.params
        where = "staff chat" if int(p.get("chat_id", 1)) < 0 else "bot"
        if call.method in ("sendMessage", "editMessageText"):
            edited = " (edited)" if call.method == "editMessageText" else ""
            print(f"\n[{where}{edited}]\n{plain(p['text'])}", file=self.out)
            self._remember(p)
        elif call.method == "answerCallbackQuery" and p.get("text"):
            print(f"\n[{where} notice] {plain(p['text'])}", file=self.out)
        elif call.method == "sendDocument":
            size = sum(len(f) for f in call.files.values())
            print(f"\n[{where} document] {p.get('caption', '')} ({size} bytes)", file=self.out)
        self.out.flush()

    def _remember(self, params: dict[str, Any]) -> None:
        markup = params.get("reply_markup") or {}
        if not markup:
            return
        key = (int(params["chat_id"]), int(params.get("message_id", 0)))
        message = self.api.messages.get(key) if key[1] else None
        self.choices = []
        if "inline_keyboard" in markup:
            rows = buttons({"reply_markup": markup})
            for row in rows:
                for _label, data in row:
                    self.choices.append(("callback", message or {}, data))
            self._print_choices([[label for label, _ in row] for row in rows])
        elif "keyboard" in markup:
            labels = [[b["text"] for b in row] for row in markup["keyboard"]]
            for row in markup["keyboard"]:
                for b in row:
                    kind = "contact" if b.get("request_contact") else "text"
                    self.choices.append((kind, {}, b["text"]))
            self._print_choices(labels)

    def _print_choices(self, rows: list[list[str]]) -> None:
        """One line per keyboard row, numbered across rows as the user presses them."""
        number = 0
        for row in rows:
            cells = []
            for label in row:
                number += 1
                cells.append(f"[{number}] {label}")
            print("  ".join(cells), file=self.out)


async def chat(config: Config, lines: TextIO, out: TextIO, *, interactive: bool) -> int:
    await upgrade_in_child(config.database.url)
    telegram = config.telegram.model_copy(
        update={
            "staff_chat_id": config.telegram.staff_chat_id or LOCAL_STAFF_CHAT,
            "staff_user_ids": (*config.telegram.staff_user_ids, LOCAL_USER.id),
        }
    )
    config = config.model_copy(update={"telegram": telegram})
    api = LocalBotApi()
    terminal = Terminal(api, out)
    app = build_application(config, request=api, token=LOCAL_TOKEN)
    user = LocalUser(
        LOCAL_USER.id, LOCAL_USER.first_name, config.bot.default_language, LOCAL_USER.username
    )
    async with app:
        factory = UpdateFactory(app.bot)
        print(
            "partnerbot local chat: type a message (a number presses a button); Ctrl-D ends.",
            file=out,
        )
        await app.process_update(factory.text(user, "/start"))
        while True:
            if interactive:
                print("\nyou> ", end="", file=out, flush=True)
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if not interactive:
                print(f"\nyou> {text}", file=out)
            update = _update_for(text, terminal, api, factory, user)
            await app.process_update(update)
    print("\nbye", file=out)
    return 0


def _update_for(
    text: str, terminal: Terminal, api: LocalBotApi, factory: UpdateFactory, user: LocalUser
) -> Any:
    if text.isdigit() and 1 <= int(text) <= len(terminal.choices):
        kind, _, value = terminal.choices[int(text) - 1]
        if kind == "callback":
            message = _latest_with_button(api, value)
            return factory.press(user, message, value)
        if kind == "contact":
            return factory.contact(user, "+442079460000")
        return factory.text(user, value)
    return factory.text(user, text)


def _latest_with_button(api: LocalBotApi, data: str) -> dict[str, Any]:
    for message in reversed(list(api.messages.values())):
        if any(value == data for row in buttons(message) for _, value in row):
            found: dict[str, Any] = message
            return found
    raise LookupError(data)


def run_local_chat(config: Config) -> int:
    return asyncio.run(chat(config, sys.stdin, sys.stdout, interactive=sys.stdin.isatty()))
