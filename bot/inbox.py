"""Updates in and out of the durable inbox: the polling feeder and the worker pool.

Every update, polled or posted to the webhook, is stored (``Store.store_update``)
before Telegram is told it arrived. Workers then take each user's updates one at a
time, in order, and hand them to the Application; different users' updates run at
once, so a slow Bot API or staff chat never holds up other partners. An update is
marked handled after its handlers ran: a worker killed in between leaves it to be
taken again when its lease lapses (handled at least once). When the database fails
during handling, the update is postponed, not apologised for: it is handled when
the database is back, and the partner gets one answer; the same when the Bot API
is down and the reply could not be sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from telegram import Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter

from bot.bot_api_request import retry_wait
from bot.config import ServingConfig
from bot.context import SERVICES, BotApplication
from bot.db.deferred import DeferredWrites
from bot.db.inbox_queries import InboxClaim
from bot.db.store import Store
from bot.group_commit import GroupCommit
from bot.limits import DatabaseLimit
from bot.logs import Outage
from bot.metrics import HANDLING, UPDATES

log = logging.getLogger("partnerbot.inbox")
# bot_data key: {update id: seconds at least to wait} for updates whose handling met an
# outage of the database or the Bot API, or Telegram's "retry after" (the error handler).
POSTPONED = "postponed_updates"
POLL_TIMEOUT = 30
IDLE_WAIT = 0.5  # seconds between looks at the inbox when there is nothing to do
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def is_database_outage(error: BaseException) -> bool:
    """The database is unreachable or dropped the connection (not a bug in a query)."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, ConnectionError | TimeoutError) or (
        isinstance(error, OSError) and not isinstance(error, NetworkError)
    )


def is_bot_api_outage(error: BaseException) -> bool:
    """The Bot API did not answer (down, timed out, 5xx); not a refusal of the request."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def routing(data: dict[str, Any]) -> tuple[int, str]:
    """(the user the update is about, else its chat; the update's kind) from raw JSON."""
    for kind, value in data.items():
        if kind == "update_id" or not isinstance(value, dict):
            continue
        sender = value.get("from") or {}
        chat = value.get("chat") or (value.get("message") or {}).get("chat") or {}
        return int(sender.get("id") or chat.get("id") or 0), kind
    return 0, "unknown"


class InboxWorkers:
    """A pool of workers taking updates from the inbox and handing them to ``app``."""

    def __init__(self, app: BotApplication, store: Store, config: ServingConfig) -> None:
        self.app = app
        self.store = store
        self.config = config
        self.database = Outage("database", log)
        self._wake = asyncio.Event()
        # Webhook requests arrive at once (Telegram opens up to 40 connections): their
        # updates are stored together, one INSERT for all, as a getUpdates batch is.
        self._stored: GroupCommit[tuple[int, int, str, dict[str, Any]], set[int]] = GroupCommit(
            store.store_updates
        )
        # Finished updates are marked together too. A finished update may have held up
        # its user's next one, which a claim made meanwhile passed over: look again
        # rather than after IDLE_WAIT.
        self._finished: GroupCommit[tuple[InboxClaim, str, DeferredWrites | None], set[int]] = (
            GroupCommit(store.finish_with_writes, written=self.wake)
        )
        app.bot_data.setdefault(POSTPONED, {})
        # Claims taken and not yet finished (queued or being handled), whose leases the
        # renewer keeps from lapsing: a slow update is never handed to a second worker.
        self._in_hand: dict[int, InboxClaim] = {}

    async def store_update(
        self, update_id: int, user_key: int, kind: str, payload: dict[str, Any]
    ) -> bool:
        """Keep a webhook update until handled (with those arriving meanwhile); False if
        it was stored before (a repeat)."""
        return update_id in await self._stored.submit((update_id, user_key, kind, payload))

    def wake(self) -> None:
        """New updates are in: stop waiting."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim updates for the workers, many in one query, until stopped.

        One claimer and a queue, rather than every worker polling the database: an
        empty claim costs a round trip, and idle workers would make them by the dozen.
        Up to twice ``concurrency`` updates are in hand (being handled or queued), and
        a claim waits until a whole ``concurrency`` of them is free: under load each
        claim then takes a batch, not the one update a worker just finished making
        room for (the claim query cost as much as handling a question). A queued
        update's lease runs while it waits, for about one update's handling time.
        """
        batch = self.config.concurrency
        queue: asyncio.Queue[InboxClaim] = asyncio.Queue()
        free = asyncio.Semaphore(2 * batch)
        workers = [
            asyncio.create_task(self._work(queue, free), name=f"inbox-worker-{i}")
            for i in range(batch)
        ]
        lease = timedelta(seconds=self.config.lease_seconds)
        renewer = asyncio.create_task(self._renew(lease), name="inbox-lease-renewer")
        while not stop.is_set():
            slots = 0
            while slots < batch:  # room for a whole batch
                await free.acquire()
                slots += 1
            while not free.locked():  # and whatever else is free
                await free.acquire()
                slots += 1
            if stop.is_set():  # stopping: take nothing more that a SIGKILL could catch
                for _ in range(slots):
                    free.release()
                break
            # Cleared before the claim, so that an update stored while it runs still wakes
            # the wait below.
            self._wake.clear()
            try:
                claims = await self.store.claim_updates(lease, slots, self._rate_window())
            except Exception as exc:  # an outage, or a refusal (read-only, deadlock): go on
                claims = []
                _report(self.database, "claiming updates", exc)
                await _sleep(stop, 1.0)
            else:
                self.database.recovered()
            for claim in claims:
                if claim.update_id in self._in_hand:
                    # Its lease lapsed while this process still holds it (the renewer could
                    # not reach the database): the handling under way stays the only one.
                    free.release()
                    continue
                self._in_hand[claim.update_id] = claim
                queue.put_nowait(claim)
            for _ in range(slots - len(claims)):
                free.release()
            if len(claims) < slots:
                # The inbox had no more to give: claiming again at once would come back
                # empty (it was 0.7 empty claims per update in bench_bot's webhook workers).
                await _wait(self._wake, stop, IDLE_WAIT)
        await queue.join()
        for task in (*workers, renewer):
            task.cancel()
        await asyncio.gather(*workers, renewer, return_exceptions=True)

    async def _renew(self, lease: timedelta) -> None:
        """Extend the leases of the claims in hand, every third of a lease: an update that
        waits in the queue, or whose handling waits on Telegram (a 429's retry_after), stays
        this worker's. Only a worker that stopped renewing (killed, frozen) loses them."""
        while True:  # cancelled by run() once the queue is drained, stopping or not
            await asyncio.sleep(lease.total_seconds() / 3)
            if not self._in_hand:
                continue
            try:
                await self.store.renew_updates(list(self._in_hand.values()), lease)
            except Exception as exc:
                _report(self.database, "renewing leases", exc)

    def _rate_window(self) -> int | None:
        """The database rate limit's current window, for the claim to count updates in."""
        limiter = self.app.bot_data[SERVICES].limiter
        return limiter.window() if isinstance(limiter, DatabaseLimit) else None

    async def _work(self, queue: asyncio.Queue[InboxClaim], free: asyncio.Semaphore) -> None:
        while True:
            claim = await queue.get()
            try:
                await self.handle(claim)
            except Exception as exc:
                # A bug outside the handlers (they have their error handler): the update's
                # lease lapses and it is tried again, up to serving.max_attempts. Frames and
                # type only, as in handlers/errors.py: an exception's text can quote the user.
                frames = "".join(traceback.format_tb(exc.__traceback__))
                log.error(
                    "update %s could not be handled: %s\n%s",
                    claim.update_id,
                    type(exc).__name__,
                    frames,
                )
            finally:
                if self._in_hand.get(claim.update_id) is claim:
                    del self._in_hand[claim.update_id]
                queue.task_done()
                free.release()

    async def handle(self, claim: InboxClaim) -> str:
        """Handle one claimed update and record the outcome."""
        started = time.perf_counter()
        kind = routing(claim.payload)[1]
        postponed: dict[int, float] = self.app.bot_data[POSTPONED]
        if claim.attempts > self.config.max_attempts:
            outcome = "given_up"  # it failed every time: handling it again would too
            await self._finish(claim, "failed", None)
        else:
            update = Update.de_json(claim.payload, self.app.bot)
            if claim.state_row is not None:
                self.store.use_claimed(claim.user_key, claim.state_row, claim.hits)
            try:
                with self.store.deferring() as writes:
                    await self.app.process_update(update)
            finally:
                self.store.forget_claimed(claim.user_key)
            if claim.update_id in postponed:
                outcome = "postponed"  # its deferred writes are made when it is handled
                await self._postpone(claim, postponed.pop(claim.update_id))
            else:
                outcome = "handled"
                await self._finish(claim, "done", writes)
        elapsed = time.perf_counter() - started
        UPDATES.labels(kind, outcome).inc()
        HANDLING.observe(elapsed)
        log.info(
            "update %s %s %s in %.0f ms",
            claim.update_id,
            kind,
            outcome,
            elapsed * 1000,
            extra={
                "update_id": claim.update_id,
                "kind": kind,
                "outcome": outcome,
                "ms": round(elapsed * 1000, 1),
            },
        )
        return outcome

    async def _finish(self, claim: InboxClaim, status: str, writes: DeferredWrites | None) -> None:
        try:
            finished = await self._finished.submit((claim, status, writes))
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            self.database.failed(exc)  # its lease lapses and it is handled again
            return
        if writes and writes.written_language and claim.update_id in finished:
            self.store.noted_written_language(*writes.written_language)

    async def _postpone(self, claim: InboxClaim, at_least: float) -> None:
        delay = timedelta(seconds=max(min(2**claim.attempts, 60), at_least))
        try:
            patience = timedelta(minutes=self.config.outage_patience_minutes)
            await self.store.postpone_update(claim, delay, patience)
        except Exception as exc:
            if not is_database_outage(exc):
                raise
            self.database.failed(exc)


async def poll_into_inbox(
    app: BotApplication, store: Store, workers: InboxWorkers, stop: asyncio.Event
) -> None:
    """Long-poll Telegram, storing each update before the next call acknowledges it."""
    api = Outage("Bot API", log)
    offset: int | None = None
    while not stop.is_set():
        request: dict[str, Any] = {"timeout": POLL_TIMEOUT, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            request["offset"] = offset
        try:
            # The raw JSON, as the webhook gets it: it is stored as it came, and parsed into
            # an Update once, when a worker takes it (get_updates parsed each update and
            # to_dict() wrote it back out: 7% of a polling worker's time).
            updates: list[dict[str, Any]] = await app.bot.do_api_request(
                "getUpdates", api_kwargs=request, read_timeout=POLL_TIMEOUT + 10
            )
        except Conflict as exc:
            api.failed(exc)  # a webhook is set, or another process polls this token
            await _sleep(stop, 5.0)
            continue
        except RetryAfter as exc:
            api.failed(exc)
            await _sleep(stop, retry_wait(exc).total_seconds())
            continue
        except NetworkError as exc:
            api.failed(exc)
            await _sleep(stop, 2.0)
            continue
        except Exception as exc:  # a revoked token, a bug: say so, and keep trying
            _log_unexpected("getting updates", exc)
            await _sleep(stop, 30.0)
            continue
        api.recovered()
        if not updates:
            continue
        rows = [(int(data["update_id"]), *routing(data), data) for data in updates]
        try:
            new = await store.store_updates(rows)
        except Exception as exc:
            _report(workers.database, "storing updates", exc)
            await _sleep(stop, 1.0)
            continue  # not acknowledged: Telegram sends them again on the next call
        for update_id, _, kind, _ in rows:
            if update_id not in new:
                UPDATES.labels(kind, "repeat").inc()
        offset = rows[-1][0] + 1
        workers.wake()


def _report(database: Outage, doing: str, error: BaseException) -> None:
    """A database step of a serving loop failed: an outage is logged once (``database``),
    anything else each time, by ``_log_unexpected``."""
    if is_database_outage(error):
        database.failed(error)
    else:
        _log_unexpected(doing, error)


def _log_unexpected(doing: str, error: BaseException) -> None:
    """An error that is no outage, without its text (it may quote a payload): the loop
    goes on after a pause rather than ending silently."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    log.error("%s failed: %s; trying again\n%s", doing, type(error).__name__, frames)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake at once when asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait(event: asyncio.Event, stop: asyncio.Event, seconds: float) -> None:
    if stop.is_set():
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
