"""The Bot API calls behind the relay's outbox rows (bot.outbox leases and retries them).

Each ``perform`` returns what it made (a copy to map, a header or topic to remember),
recorded by ``finish`` in the transaction that marks the row sent. A row whose partner
was deleted meanwhile (/forget) gets what it just posted, and a topic it just made,
queued for deletion (a ``relay_drop`` row, retried like any other).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram.error import Forbidden
from telegram.ext import ExtBot

from bot.db.models import OutboxItem
from bot.db.outbox_queries import Claim, Outcome
from bot.db.store import LEAD_STATUSES
from bot.relay import waited_hours
from bot.relay.calls import Made, quietly
from bot.relay.partner_posts import to_partner
from bot.relay.staff_posts import to_staff

if TYPE_CHECKING:
    from bot.context import Services

log = logging.getLogger(__name__)


def is_relay(kind: str) -> bool:
    return kind.startswith("relay")


async def perform(bot: ExtBot[None], services: Services, claim: Claim) -> Made:
    item = claim.item
    if item.kind == "relay_drop":
        await _drop(bot, item)
        return Made()
    if item.kind == "relay_digest":
        await _digest(bot, services)
        return Made()
    assert item.user_id is not None
    row = await services.store.conversation(item.user_id)
    if row is None:
        return Made()  # the partner was deleted (/forget): nothing left to say
    if item.kind in ("relay_out", "relay_edit_out", "relay_tell"):
        try:
            return await to_partner(bot, services, item, row)
        except Forbidden:
            # Nobody could deliver it, ever: staff hear so (once, however often this runs).
            log.warning("outbox item %s: the partner blocked the bot; dropped", item.id)
            await services.store.queue_staff_note(item.user_id, "blocked", f"blocked:{item.id}")
            return Made()
    return await to_staff(bot, services, item, row)


async def finish(bot: ExtBot[None], services: Services, claim: Claim, made: Made) -> Outcome:
    """Record what was made; if the partner was deleted while we posted about them (GONE),
    the post (and a topic made for it) is queued for deletion in that same transaction."""
    return await services.store.mark_relay_sent(
        claim.item.id, claim.token, made.copy, made.conversation
    )


async def _drop(bot: ExtBot[None], item: OutboxItem) -> None:
    """Delete a forgotten partner's topic, or their cards, from the staff chat."""
    payload = item.payload or {}
    assert item.chat_id is not None
    if payload.get("topic"):
        await quietly(bot.delete_forum_topic(item.chat_id, int(payload["topic"])))
    if payload.get("cards"):
        await quietly(bot.delete_messages(item.chat_id, [int(m) for m in payload["cards"]]))


async def _digest(bot: ExtBot[None], services: Services) -> None:
    config = services.config
    now = services.clock()
    digest = await services.store.digest(now - timedelta(days=7))
    waiting = [(w, waited_hours(w.since, now)) for w in digest.waiting]
    text = services.texts.render(
        "staff/relay/digest",
        config.telegram.staff_language,
        digest=digest,
        waiting=waiting,
        statuses=LEAD_STATUSES,
    )
    assert config.telegram.staff_chat_id is not None
    await bot.send_message(
        config.telegram.staff_chat_id, text, message_thread_id=config.telegram.staff_topic_id
    )
