"""The HTTP side of a running bot: Telegram's webhook, health checks and metrics.

One Starlette app per process, served by uvicorn: ``POST <webhook.path>`` (webhook
mode only), ``GET /healthz`` (the process is alive), ``GET /readyz`` (the database
answers, the knowledge base is loaded, the inbox is not falling behind) and
``GET /metrics`` (Prometheus).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.config import Config
from bot.db.store import Store
from bot.inbox import InboxWorkers, is_database_outage, routing
from bot.knowledge import KnowledgeBase

log = logging.getLogger("partnerbot.web")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_web_app(
    config: Config,
    store: Store,
    kb: KnowledgeBase,
    workers: InboxWorkers,
    *,
    webhook_secret: str | None,
) -> Starlette:
    """Routes for health and metrics, and the webhook when ``webhook_secret`` is given."""

    secret = (webhook_secret or "").encode()

    async def receive(request: Request) -> Response:
        """Store the update, then say 200: only then may Telegram forget it."""
        # As bytes: compare_digest refuses str with characters beyond ASCII, which anyone
        # could send (a 500 and a traceback per request).
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if webhook_secret is None or not hmac.compare_digest(given, secret):
            return Response(status_code=403)
        try:
            data: Any = await request.json()
            update_id = int(data["update_id"])
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            return Response(status_code=400)
        user_key, kind = routing(data)
        try:
            stored = await workers.store_update(update_id, user_key, kind, data)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            workers.database.failed(exc)
            return Response(status_code=503)  # Telegram keeps it and tries again
        workers.database.recovered()
        if stored:
            workers.wake()
        else:
            metrics.UPDATES.labels(kind, "repeat").inc()
        return Response(status_code=200)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(request: Request) -> Response:
        problems: list[str] = []
        if len(kb) == 0:
            problems.append("knowledge base is empty")
        try:
            lag = await store.inbox_lag()
        except Exception as exc:
            problems.append(f"database unreachable ({type(exc).__name__})")
        else:
            if lag.oldest_age and lag.oldest_age.total_seconds() > config.serving.max_lag_seconds:
                problems.append(f"inbox lag {lag.oldest_age.total_seconds():.0f} s")
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True})

    async def prometheus(request: Request) -> Response:
        try:
            body = await metrics.render(store)
        except Exception as exc:
            return PlainTextResponse(f"database unreachable ({type(exc).__name__})", 503)
        return Response(body, media_type="text/plain; version=0.0.4")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
    if webhook_secret is not None:
        routes.append(Route(config.webhook.path, receive, methods=["POST"]))
    return Starlette(routes=routes)
