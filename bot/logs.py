"""Logging for a running bot: one line per event, as text or JSON, secrets redacted.

Every handler's output passes through the formatter, which replaces the bot token
and the webhook secret wherever they appear (an exception text, a URL that a
library logs). Log lines never carry message texts, names, emails or phones: the
code logs ids, kinds, outcomes and error types only.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "<redacted>"
# Fields that callers pass with extra={...} and that belong in the JSON line.
_FIELDS = ("update_id", "kind", "outcome", "ms", "attempts", "error")


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str], *, as_json: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = [s for s in secrets if s]
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        if self.as_json:
            line: dict[str, object] = {
                "ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname.lower(),
                "logger": record.name,
                "msg": record.getMessage(),
            }
            line.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
            if record.exc_info:
                line["exc"] = self.formatException(record.exc_info)
            text = json.dumps(line, ensure_ascii=False, default=str)
        else:
            text = super().format(record)
        return self.redact(text)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(secrets: Iterable[str], *, as_json: bool = False) -> None:
    """Root logging to stderr, redacting ``secrets``; libraries' chatter kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting(secrets, as_json=as_json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # httpx logs every request URL, and URLs carry the token; the scheduler logs every
    # run of every job (tens of thousands of lines a day); uvicorn logs every request.
    for name in ("httpx", "httpcore", "uvicorn.access", "aiosqlite", "asyncio", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # A delivery pass that outlasts its interval makes the scheduler skip the next run and
    # warn; the outbox itself reports what matters (retries, stuck posts).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


class Outage:
    """Logs a dependency going away once, and coming back once, instead of per failure."""

    def __init__(self, what: str, log: logging.Logger) -> None:
        self.what = what
        self.log = log
        self.since: datetime | None = None

    def failed(self, error: BaseException) -> None:
        if self.since is None:
            self.since = datetime.now(UTC)
            self.log.warning(
                "%s unreachable (%s); waiting for it",
                self.what,
                type(error).__name__,
                extra={"error": type(error).__name__},
            )

    def recovered(self) -> None:
        if self.since is not None:
            seconds = (datetime.now(UTC) - self.since).total_seconds()
            self.since = None
            self.log.info("%s reachable again after %.0f s", self.what, seconds)

    @property
    def down(self) -> bool:
        return self.since is not None
