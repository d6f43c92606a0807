"""Relayed messages go through the outbox: a burst arrives in order and whole, through
rate limits, server errors, two workers delivering at once, and a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.local_api import ApiCall, LocalUser
from tests.conftest import STAFF_CHAT, Harness, MakeBot
from tests.relay_helpers import (
    card,
    deliver_all,
    newest_staff_message,
    partner_sends,
    partner_writes,
    relay_rows,
    staff_replies,
)

BURST = [f"message {i:02d}" for i in range(50)]


def staff_chat_texts(*bots: Harness) -> list[str]:
    """What the staff chat shows now, oldest first (only calls Telegram accepted)."""
    shown = [
        (key[1], message.get("text", ""))
        for bot in bots
        for key, message in bot.api.messages.items()
        if key[0] == STAFF_CHAT
    ]
    return [text for _, text in sorted(shown)]


async def burst(bot: Harness, user: LocalUser) -> None:
    await bot.send(user, "/contact")
    for text in BURST:
        await partner_writes(bot, user, text)


async def deliver_until_done(*bots: Harness) -> None:
    """Passes far enough in the future that every retry is due, until all is sent."""
    start = bots[0].services.clock()
    for i in range(40):
        later = start + timedelta(minutes=15 * (i + 1))  # past any backoff
        turn = bots[i % len(bots) :] + bots[: i % len(bots)]  # each worker claims first in turn
        await asyncio.gather(*(bot.deliver(later) for bot in turn))
        if all(i.status == "sent" for i in await relay_rows(bots[0])):
            return
    raise AssertionError("relay rows still pending")


async def test_a_burst_of_50_arrives_in_order_through_rate_limits_and_errors(
    bot: Harness, english_user: LocalUser
) -> None:
    sends = 0

    async def failing(call: ApiCall) -> None:
        nonlocal sends
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            sends += 1
            if sends == 8:
                bot.api.fail_next("sendMessage", "retry_after", retry_after=3)
            elif sends in (23, 41):
                bot.api.fail_next("sendMessage", "server_error")

    bot.api.before_call = failing
    await burst(bot, english_user)
    await deliver_until_done(bot)
    texts = staff_chat_texts(bot)
    assert texts[1:] == [card("Sam", text, "sam") for text in BURST]
    assert sends == 51 + 3  # the first message, 50 cards, and the three failed tries
    assert all(i.status == "sent" for i in await relay_rows(bot))


async def test_two_workers_delivering_at_once_keep_one_partners_order(
    make_bot: MakeBot, english_user: LocalUser
) -> None:
    one: Harness = await make_bot({"delivery": {"batch_size": 7}})
    two: Harness = await make_bot({"delivery": {"batch_size": 7}})
    order: list[str] = []

    async def slow(call: ApiCall) -> None:
        await asyncio.sleep(0.002)  # the other worker runs meanwhile
        if call.method == "sendMessage" and int(call.params["chat_id"]) == STAFF_CHAT:
            order.append(call.params.get("text", ""))

    one.api.before_call = two.api.before_call = slow
    await burst(one, english_user)
    await deliver_until_done(one, two)
    assert order[1:] == [card("Sam", text, "sam") for text in BURST]
    # Both workers sent part of the burst.
    assert all(any(c.method == "sendMessage" for c in b.api.calls) for b in (one, two))


async def test_a_conversation_survives_a_restart(
    make_bot: MakeBot, english_user: LocalUser, staff_user: LocalUser
) -> None:
    first: Harness = await make_bot()
    await first.send(english_user, "/contact")
    await partner_writes(first, english_user, "Can we meet?")
    await deliver_all(first)
    relayed = newest_staff_message(first)
    await first.app.shutdown()

    second: Harness = await make_bot()  # a new process: nothing in memory
    await staff_replies(second, staff_user, relayed, text="Yes, on Monday")
    await deliver_all(second)
    [answer] = partner_sends(second, english_user)
    assert answer.method == "copyMessage" and int(answer.params["from_chat_id"]) == STAFF_CHAT
    before = len(second.api.calls)
    await partner_writes(second, english_user, "Great, thanks")
    assert second.api.calls[before:] == []  # still with staff, not the matcher
    await deliver_all(second)
    assert second.api.calls[-1].params["text"] == card("Sam", "Great, thanks", "sam")
