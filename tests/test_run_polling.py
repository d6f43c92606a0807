"""`partnerbot run` end to end against a local HTTP stand-in for the Bot API.

This is the path operators use: config from the environment, the SQLite
database migrated on start, long polling, and a reply through the configured
``api_base_url`` (as with a self-hosted Bot API server).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123:test"
BOT = {"id": 123, "is_bot": True, "first_name": "partnerbot", "username": "partnerbot_test"}
USER = {"id": 55, "is_bot": False, "first_name": "Lina", "language_code": "ar"}


class FakeTelegram(BaseHTTPRequestHandler):
    # Class-level on purpose: the server makes a new handler per request.
    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    served_update = False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode() if length else ""
        # The Bot API takes JSON or form-encoded fields (JSON inside for objects).
        params: dict[str, Any] = {}
        if body and self.headers.get("Content-Type", "").startswith("application/json"):
            params = json.loads(body)
        elif body:
            params = dict(parse_qsl(body))
        method = self.path.rsplit("/", 1)[-1]
        FakeTelegram.calls.append((method, params))
        result: Any = True
        if method == "getMe":
            result = BOT
        elif method == "getUpdates":
            result = []
            if not FakeTelegram.served_update:
                FakeTelegram.served_update = True
                message = {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": {"id": USER["id"], "type": "private"},
                    "from": USER,
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
                result = [{"update_id": 1, "message": message}]
            else:
                time.sleep(0.2)
        elif method == "sendMessage":
            result = {
                "message_id": 2,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT,
                "text": params["text"],
            }
        payload = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return None


def test_run_polls_answers_and_stops_cleanly(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTelegram)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "PARTNERBOT_API_BASE_URL": f"http://127.0.0.1:{server.server_port}/bot",
        "PARTNERBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            m == "sendMessage" for m, _ in FakeTelegram.calls
        ):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        server.shutdown()
    replies = [p for m, p in FakeTelegram.calls if m == "sendMessage"]
    assert replies, output
    assert int(replies[0]["chat_id"]) == USER["id"]
    assert "مرحبًا Lina" in replies[0]["text"]
    assert {"setMyCommands", "getUpdates"} <= {m for m, _ in FakeTelegram.calls}
    # The menu and the bot's profile texts, in Arabic for Arabic apps and by default.
    for method in ("setMyCommands", "setMyDescription", "setMyShortDescription"):
        sent = [p for m, p in FakeTelegram.calls if m == method]
        assert {p.get("language_code") for p in sent} == {None, "ar"}, method
    arabic_menu = next(
        p for m, p in FakeTelegram.calls if m == "setMyCommands" and p.get("language_code") == "ar"
    )
    assert "طلب الشراكة" in arabic_menu["commands"][2]["description"]
    [arabic_about] = [
        p["description"]
        for m, p in FakeTelegram.calls
        if m == "setMyDescription" and p.get("language_code") == "ar"
    ]
    assert "الإنتربول" in arabic_about
    assert process.returncode == 0, output
    assert TOKEN not in output  # the token never reaches the log
    assert (tmp_path / "bot.sqlite3").exists()
