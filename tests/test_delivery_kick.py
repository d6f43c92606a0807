"""Delivery never runs inside a partner's update: Confirm schedules it on the JobQueue."""

from __future__ import annotations

import asyncio

from bot.local_api import ApiCall, LocalUser
from tests.conftest import Harness
from tests.test_delivery_leases import is_staff_post
from tests.test_lead_form import TEXTS, form_steps, run_steps


async def test_confirming_does_not_wait_for_the_staff_chat(
    bot: Harness, english_user: LocalUser
) -> None:
    attempted: list[ApiCall] = []

    async def staff_chat_hangs(call: ApiCall) -> None:
        if is_staff_post(call):
            attempted.append(call)
            await asyncio.sleep(60)

    bot.api.before_call = staff_chat_hangs
    await bot.send(english_user, "/apply")
    await run_steps([bot], english_user, form_steps())
    # Were the post made inside this update, it would hang here for a minute.
    await asyncio.wait_for(bot.press(english_user, "form:confirm"), timeout=10)
    assert bot.last_text(english_user.id) == TEXTS.render("form/submitted", "en")
    assert attempted == []
    assert [i.status for i in await bot.store.outbox()] == ["pending"]

    # The update scheduled a delivery pass of its own; run it as the JobQueue would.
    bot.api.before_call = None
    assert bot.app.job_queue is not None
    [job] = bot.app.job_queue.get_jobs_by_name("delivery_kick")
    await job.run(bot.app)
    [post] = bot.staff_posts()
    assert "Acme Security" in post.params["text"]
    assert [i.status for i in await bot.store.outbox()] == ["sent"]
