"""Delivery to the staff chat: posts, edits and withdrawals, at least once.

What is guaranteed: a committed outbox row (written in the same transaction as the
lead, the /forget or the purge that needs it) is delivered at least once, retried
with backoff (Telegram's ``retry_after`` on a 429), across restarts, until
``delivery.max_attempts`` attempts have failed (429s do not count); then it is
"stuck", logged once and kept for /retry. Each pass leases its rows with a token and
an expiry from the database clock, renews the lease right before each send, and cuts
every Bot API call off well before the lease could lapse, so two workers never send
one row at once (short of a process frozen for longer than the lease: logged).

What is not: exactly once. Telegram cannot be asked "did you already post this?", so
a crash (or a timeout) after Telegram accepted a post and before the row is marked
sent repeats the post, and the bot never learns the first one's id. Such a send is
noticed (a timeout at once; a crash by the row's ``sending_since`` at its next send)
and the lead marked (``Lead.unsure_since``): when it is deleted (/forget, retention),
the note asks staff to delete the post the bot cannot reach. A lead deleted while its
post is being made gets that post withdrawn at once; a post made by a worker whose
lease lapsed meanwhile is recorded as a copy of the lead, withdrawn with it.
Nothing here runs inside a user's update: handlers call ``kick_delivery``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.bot_api_request import NeverSent, may_have_landed, retry_wait
from bot.db.models import OutboxItem
from bot.db.outbox_queries import WITHDRAWN, Claim, Outcome
from bot.inbox import is_database_outage
from bot.logs import Outage
from bot.relay import delivery as relay_delivery
from bot.relay.delivery import is_relay
from bot.views import staff_post

if TYPE_CHECKING:
    from bot.config import TelegramConfig
    from bot.context import BotContext, Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Touched:
    """The staff-chat message a delivery made or edited."""

    chat_id: int
    message_id: int
    new: bool
    gone: tuple[int, int] | None = None  # the lead's post, found deleted: why this one is new


def backoff(attempts: int, base: float, ceiling: float) -> timedelta:
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), ceiling))


async def deliver_due(bot: ExtBot[None], services: Services, now: datetime | None = None) -> int:
    """One delivery pass; returns how many items were delivered. ``now`` decides what is due."""
    config = services.config
    # Without a staff chat, leads stay queued until one is configured; the withdrawals of
    # /lead copies sent in staff members' private chats name their chat, and go.
    waiting = config.telegram.staff_chat_id is None
    now = now or services.clock()
    lease = timedelta(seconds=config.delivery.lease_seconds)
    delivered = 0
    held: set[str] = set()  # sequences (one partner's messages) with a row that failed
    claims = await services.store.claim_due(
        now, lease, config.delivery.batch_size, withdrawals_only=waiting
    )
    for claim in claims:
        sequence = claim.item.sequence
        if sequence is not None and sequence in held:
            await services.store.release(claim.item.id, claim.token)  # keeps the order
            continue
        done = await _deliver(bot, services, claim, now)
        delivered += done
        if not done and sequence is not None:
            held.add(sequence)
    return delivered


async def _deliver(bot: ExtBot[None], services: Services, claim: Claim, now: datetime) -> int:
    """Send one leased item and record the result under its lease; 1 if delivered."""
    store, delivery = services.store, services.config.delivery
    item = claim.item
    # The batch was leased at once; the items before this one may have taken a while.
    attempts = await store.renew_lease(
        item.id, claim.token, timedelta(seconds=delivery.lease_seconds)
    )
    if attempts is None:
        log.info("outbox item %s: taken over by another worker, skipped", item.id)
        return 0
    relay = is_relay(item.kind)
    try:
        # No send outlives the lease just renewed: the cap leaves request_timeout_seconds
        # of it to spare. Within the cap, the flood limiter may hold the call (a burst into
        # the staff group waits its turn); the HTTP request itself gives up after
        # request_timeout_seconds (the Bot API client's own timeouts). A cap as short as
        # the request timeout cut calls off while they were still queued in the limiter.
        async with asyncio.timeout(delivery.lease_seconds - delivery.request_timeout_seconds):
            if relay:
                made = await relay_delivery.perform(bot, services, claim)
            else:
                touched = await _perform(bot, services, claim)
    except Exception as exc:  # whatever it is, the row must not stay leased and retried forever
        await _failed(services, claim, attempts, exc, now)
        return 0
    if relay:
        outcome = await relay_delivery.finish(bot, services, claim, made)
        if outcome == Outcome.LOST:
            log.warning("outbox item %s: lease lost during the send; it may repeat", item.id)
        return 1 if outcome == Outcome.DONE else 0
    new_post = touched if touched is not None and touched.new else None
    outcome = await store.mark_sent(
        item.id,
        claim.token,
        new_post.chat_id if new_post else None,
        new_post.message_id if new_post else None,
        shown=claim.lead.updated_at if claim.lead is not None else None,
        edited=(touched.chat_id, touched.message_id) if touched and not touched.new else None,
        gone=touched.gone if touched else None,
    )
    if outcome == Outcome.LOST:
        log.warning("outbox item %s: lease lost during the send; it may repeat", item.id)
        if new_post is not None and item.lead_id is not None:
            # The worker that took the row over posts the lead again: this post is a
            # copy, recorded so that /forget and retention withdraw it too.
            await _keep_copy(bot, services, item.lead_id, new_post, now)
    elif outcome == Outcome.GONE and touched is not None:
        # The lead was deleted (/forget, retention) while we were posting about it.
        await _withdraw_now(bot, services, touched, claim, now)
    return 1 if outcome == Outcome.DONE else 0


async def _perform(bot: ExtBot[None], services: Services, claim: Claim) -> _Touched | None:
    """The Bot API call an outbox row stands for."""
    item, lead = claim.item, claim.lead
    config = services.config
    lang = config.telegram.staff_language
    if item.kind == "withdraw":
        await _withdraw(bot, services, item)
        return None
    if lead is None:
        return None  # its lead is gone (and so should this row be): nothing to post
    text, markup = staff_post(services.texts, lead, lang)
    gone: tuple[int, int] | None = None
    if item.kind == "refresh" and lead.staff_message_id is not None and lead.staff_chat_id:
        try:
            await bot.edit_message_text(
                text,
                chat_id=lead.staff_chat_id,
                message_id=lead.staff_message_id,
                reply_markup=markup,
            )
            return _Touched(lead.staff_chat_id, lead.staff_message_id, new=False)
        except BadRequest as exc:
            reason = str(exc).lower()
            if "not modified" in reason:
                return _Touched(lead.staff_chat_id, lead.staff_message_id, new=False)
            if not _cannot_edit(reason):
                raise
            # Staff deleted the post, or Telegram no longer lets it be edited: the news
            # (a repeat inquiry, a status) goes in a new post rather than nowhere. An
            # old post still there is withdrawn once the new one is recorded.
            if "not found" in reason:
                gone = (lead.staff_chat_id, lead.staff_message_id)
    chat_id = config.telegram.staff_chat_id
    assert chat_id is not None
    # From here until its outcome is recorded, the post may be made unrecorded.
    await services.store.sending(item.id, claim.token)
    message = await bot.send_message(
        chat_id, text, reply_markup=markup, message_thread_id=config.telegram.staff_topic_id
    )
    return _Touched(chat_id, message.message_id, new=True, gone=gone)


def _cannot_edit(reason: str) -> bool:
    """Telegram's answer when the message to edit is deleted or may not be edited."""
    return "not found" in reason or "can't be edited" in reason


async def _withdraw(bot: ExtBot[None], services: Services, item: OutboxItem) -> None:
    """Delete a staff post, or replace it by a note without buttons. A lead that may also
    show in a post the bot never learnt the id of gets a line asking staff to delete it,
    and that note reaches staff whatever became of the post the bot knows: where it is not
    shown there (no such post, deleted, found deleted), it is a message of its own, in the
    row's chat (a /lead copy's, which may be a staff member's private chat) or else the
    staff chat."""
    payload = item.payload or {}
    config = services.config.telegram
    lead_id = payload.get("lead_id")
    withdrawn = services.texts.render(
        f"staff/{payload.get('note', WITHDRAWN)}", config.staff_language, lead_id=lead_id
    )
    note = withdrawn
    unsure = payload.get("unsure_since")
    if unsure:
        since = datetime.fromisoformat(unsure).strftime("%Y-%m-%d %H:%M UTC")
        note += "\n\n" + services.texts.render(
            "staff/unsure_post", config.staff_language, lead_id=lead_id, since=since
        )
    try:
        shown = item.message_id is not None and await _replace(
            bot, item, note, bool(payload.get("delete"))
        )
        if unsure and not shown:
            await _note_alone(bot, config, item, note)
    except Forbidden:
        # A staff member blocked the bot: their private chat is out of its reach, so the
        # staff chat is told which copy to have them delete.
        staff = config.staff_chat_id
        if item.chat_id in (None, staff) or staff is None:
            raise
        unreachable = services.texts.render(
            "staff/unreachable_copy", config.staff_language, lead_id=lead_id, staff_id=item.chat_id
        )
        await bot.send_message(
            staff, f"{withdrawn}\n\n{unreachable}", message_thread_id=config.staff_topic_id
        )


async def _note_alone(
    bot: ExtBot[None], config: TelegramConfig, item: OutboxItem, note: str
) -> None:
    """Send ``note`` as a message of its own: a note without a post goes to the chat its
    row names (a /lead copy's); where a post was known, to today's staff chat (the post's
    may be one that staff_chat_id no longer names)."""
    named = item.chat_id if item.message_id is None else None
    chat_id = named if named is not None else config.staff_chat_id
    if chat_id is not None:
        topic = config.staff_topic_id if chat_id == config.staff_chat_id else None
        await bot.send_message(chat_id, note, message_thread_id=topic)


async def _replace(bot: ExtBot[None], item: OutboxItem, note: str, delete: bool) -> bool:
    """Delete the post, or edit it to ``note``; whether the note shows there now."""
    assert item.chat_id is not None and item.message_id is not None
    if delete:
        try:
            await bot.delete_message(item.chat_id, item.message_id)
            return False
        except BadRequest:
            pass  # older than 48 hours, or not deletable here: the note still hides it
    try:
        await bot.edit_message_text(note, chat_id=item.chat_id, message_id=item.message_id)
        return True
    except BadRequest as exc:
        reason = str(exc).lower()
        if "not modified" in reason:
            return True  # withdrawn already
        if "not found" in reason:
            return False  # deleted by staff
        await bot.delete_message(item.chat_id, item.message_id)
        return False


async def _keep_copy(
    bot: ExtBot[None], services: Services, lead_id: int, post: _Touched, now: datetime
) -> None:
    """Record a post of the lead that is not its post, as a copy; withdraw it at once if
    the lead is gone."""
    if not await services.store.record_copy(lead_id, post.chat_id, post.message_id):
        await withdraw_now(bot, services, post.chat_id, post.message_id, lead_id, True, now)


async def _withdraw_now(
    bot: ExtBot[None], services: Services, touched: _Touched, claim: Claim, now: datetime
) -> None:
    """Queue the withdrawal of what we just sent, durably, and deliver it right away."""
    log.info("outbox item %s: its lead was deleted meanwhile; withdrawing", claim.item.id)
    await withdraw_now(
        bot,
        services,
        touched.chat_id,
        touched.message_id,
        claim.item.lead_id or 0,
        touched.new,
        now,
    )


async def withdraw_now(
    bot: ExtBot[None],
    services: Services,
    chat_id: int,
    message_id: int,
    lead_id: int,
    delete: bool,
    now: datetime,
) -> None:
    """Take back a staff-chat message about a deleted lead: queued durably (a crash or a
    429 cannot lose it), then delivered at once."""
    store = services.store
    item_id = await store.queue_withdrawal(chat_id, message_id, lead_id, WITHDRAWN, delete, now)
    lease = timedelta(seconds=services.config.delivery.lease_seconds)
    for withdrawal in await store.claim_due(now, lease, 1, only=item_id):
        await _deliver(bot, services, withdrawal, now)


async def _failed(
    services: Services, claim: Claim, attempts: int, exc: Exception, now: datetime
) -> None:
    """Reschedule, or give up after ``delivery.max_attempts`` (a 429 never counts)."""
    store, delivery = services.store, services.config.delivery
    item_id, name = claim.item.id, type(exc).__name__
    if isinstance(exc, RetryAfter):
        # Telegram only asks us to slow down: not the row's fault, so never stuck by it.
        wait = retry_wait(exc)
        await store.mark_retry(item_id, claim.token, name, now + wait)
        log.warning("outbox item %s: rate limited by Telegram, retrying in %s", item_id, wait)
        return
    # A send cut off or dropped may have been accepted all the same: if it was a new post
    # (``store.sending``), its lead may show in a post whose id the bot never learns.
    unsure = may_have_landed(exc)
    # Network trouble, whether or not the request left, passes: retried soon.
    transient = unsure or isinstance(exc, NeverSent)
    # Telegram's description ("chat not found") helps staff; other errors may quote data.
    telegram = isinstance(exc, TelegramError)
    reason = f"{name}: {exc}" if telegram and not transient else name
    if attempts >= delivery.max_attempts:
        if await store.mark_stuck(item_id, claim.token, reason, unsure=unsure) == Outcome.DONE:
            log.error(
                "outbox item %s (%s) stuck after %s attempts: %s; /retry requeues it",
                item_id,
                claim.item.kind,
                attempts,
                name,
            )
        return
    if transient:
        delay = backoff(attempts, delivery.backoff_base_seconds, delivery.backoff_max_seconds)
        await store.mark_retry(item_id, claim.token, reason, now + delay, unsure=unsure)
        log.warning("outbox item %s: %s, retrying in %s", item_id, name, delay)
        return
    # Wrong chat id, bot removed from the chat, a bug...: needs a person, so retry slowly.
    delay = timedelta(seconds=delivery.backoff_max_seconds)
    await store.mark_retry(item_id, claim.token, reason, now + delay)
    hint = "check telegram.staff_chat_id" if telegram else "not a Telegram error"
    log.error("outbox item %s: %s; %s", item_id, name, hint)


# Deliveries run every few seconds: a database outage is logged when it starts and when
# it ends, not by every pass.
_database = Outage("database (staff deliveries)", log)


async def delivery_job(context: BotContext) -> None:
    """JobQueue callback: deliver whatever is due."""
    try:
        await deliver_due(context.bot, context.services)
    except Exception as exc:
        if not is_database_outage(exc):
            raise
        _database.failed(exc)
    else:
        _database.recovered()


def kick_delivery(context: BotContext) -> None:
    """Run a delivery pass now, as a job of its own: an update never waits for staff posts."""
    if context.job_queue is not None:
        context.job_queue.run_once(delivery_job, when=0, name="delivery_kick")  # type: ignore[arg-type]
