"""The Bot API's HTTP client: python-telegram-bot's request interface on aiohttp.

PTB's own client (httpx over httpcore and anyio) spent about a third of a serving
worker's CPU on each sendMessage (bench_bot's profile, 2026-12-06), partly because its
pool checks every idle connection on every request. aiohttp's client parses HTTP in C and
keeps one pool per session. Parameters travel as JSON (or multipart with files), and
failures become PTB's own errors, so nothing above this layer changes.
"""

from __future__ import annotations

import json
import warnings
from datetime import timedelta

import aiohttp
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

# As python-telegram-bot's client: one connection per concurrent call, up to this many.
CONNECTION_POOL_SIZE = 256
# Uploads (sendDocument) may take longer to write than a message.
MEDIA_WRITE_TIMEOUT = 20.0


def retry_wait(exc: RetryAfter) -> timedelta:
    """Telegram's wait, whichever type this PTB version returns (int now, timedelta later)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class NeverSent:
    """Marks an error raised before the request left: no connection could be made."""


class ConnectFailed(NetworkError, NeverSent):
    """Telegram could not be reached (refused, no route, DNS, TLS): nothing was sent."""


class ConnectTimedOut(TimedOut, NeverSent):
    """No connection within the pool and connect timeouts: nothing was sent."""


def may_have_landed(exc: BaseException) -> bool:
    """Whether a call that raised ``exc`` may have been carried out all the same: it timed
    out or its connection dropped after the request left, so Telegram's answer never came
    back. BadRequest ("chat not found") subclasses NetworkError, but it is Telegram's
    answer: nothing was done."""
    if isinstance(exc, NeverSent):
        return False
    return isinstance(exc, TimeoutError) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session, with PTB's four timeouts.

    ``timeout`` is the default for each phase: waiting for a free connection, connecting,
    writing and reading. aiohttp has no write timeout of its own, so a call's total is
    capped at the sum of the phases. (What keeps a send within the outbox's lease is the
    outbox's own deadline around each call; this is the backstop for every other call.)
    Redirects are not followed, as python-telegram-bot's own client does not: one would
    turn a POST into a GET and carry the token's URL to another host.
    """

    def __init__(self, *, timeout: float, connection_pool_size: int = CONNECTION_POOL_SIZE) -> None:
        self._timeout = timeout
        self._pool_size = connection_pool_size
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # No proxies or .netrc from the environment: with them aiohttp reads
                # .netrc on a thread for every request.
                trust_env=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        write_default = MEDIA_WRITE_TIMEOUT if files else self._timeout
        pool = self._seconds(pool_timeout, self._timeout)
        connect = self._seconds(connect_timeout, self._timeout)
        write = self._seconds(write_timeout, write_default)
        read = self._seconds(read_timeout, self._timeout)
        phases = (pool, connect, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in phases else sum(p for p in phases if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            data, headers = _body(request_data)
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                return response.status, await response.read()
        # aiohttp's errors may carry the URL, which holds the token, in their text and
        # attributes: they are not chained (a traceback would print them unredacted).
        except aiohttp.ConnectionTimeoutError as err:
            raise ConnectTimedOut(f"Timed out: aiohttp.{type(err).__name__}") from None
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut(f"Timed out: aiohttp.{type(err).__name__}") from None
        except aiohttp.ClientConnectorError as err:
            raise ConnectFailed(f"aiohttp.{type(err).__name__}: {_safe(err)}") from None
        except aiohttp.ClientError as err:
            # The class name says what failed when the message is empty.
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_safe(err)}") from None

    @staticmethod
    def _seconds(value: object, default: float) -> float | None:
        if isinstance(value, type(BaseRequest.DEFAULT_NONE)):  # PTB's "not given"
            return default
        return value  # type: ignore[return-value]


_JSON = {"Content-Type": "application/json"}


def _body(
    request_data: RequestData | None,
) -> tuple[bytes | aiohttp.FormData | None, dict[str, str] | None]:
    """The body and its headers: JSON, or multipart when files go too (the Bot API takes
    both). Not a form: aiohttp percent-encodes a form byte by byte in Python, which cost
    about 0.16 ms of CPU per Arabic sendMessage (bench_bot's profile, 2026-12-06); JSON is
    encoded in C."""
    if request_data is None:
        return None, None
    files = request_data.multipart_data
    if not files:
        payload = json.dumps(request_data.parameters, ensure_ascii=False)
        return payload.encode(), _JSON
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, None


def _safe(err: aiohttp.ClientError) -> str:
    """The error's text, unless it holds a URL (Bot API URLs carry the token)."""
    text = str(err)
    if isinstance(err, aiohttp.ClientResponseError | aiohttp.InvalidURL) or "/bot" in text:
        return ""
    return text
