"""Two real bot processes deliver from one database at once: each lead is posted exactly once.

The test starts this module twice as a program (``python -m tests.test_delivery_processes``);
each process runs delivery passes with its own in-process Bot API and prints the lead ids
it posted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.app import build_application, build_services
from bot.config import load_config
from bot.local_api import LOCAL_TOKEN, LocalBotApi
from bot.outbox import deliver_due
from tests.conftest import TEST_CONFIG, Harness
from tests.test_delivery_leases import SHORT_LEASE, add_leads, posted_lead_ids, slow_staff_posts

ROOT = Path(__file__).resolve().parent.parent
LEADS = 160


async def test_two_processes_post_each_lead_exactly_once(bot: Harness, database_url: str) -> None:
    lead_ids = await add_leads(bot.store, LEADS)
    start = time.time() + 4  # both processes have started by then
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.test_delivery_processes",
            database_url,
            str(batch),
            str(start),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for batch in (30, 7)
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(worker.communicate() for worker in workers)), timeout=40
    )
    assert [worker.returncode for worker in workers] == [0, 0]
    posted: Counter[int] = Counter()
    for stdout, _ in outputs:
        mine = json.loads(stdout.decode().strip().splitlines()[-1])
        assert mine  # both processes really delivered
        posted.update(mine)
    assert posted == dict.fromkeys(lead_ids, 1)
    assert {i.status for i in await bot.store.outbox()} == {"sent"}


async def _worker(database_url: str, batch: int, start: float) -> list[int]:
    """Deliver until nothing is left; the lead ids this process posted."""
    data: dict[str, Any] = {key: dict(value) for key, value in TEST_CONFIG.items()}
    data["database"] = {"url": database_url}
    data["delivery"] = {**SHORT_LEASE["delivery"], "batch_size": batch}
    config = load_config(data=data, env={})
    services = build_services(config)
    api = LocalBotApi()
    api.before_call = slow_staff_posts(seconds=0.04)
    app = build_application(config, services=services, request=api, token=LOCAL_TOKEN)
    await app.initialize()
    await asyncio.sleep(max(start - time.time(), 0))
    deadline = time.time() + 30
    while time.time() < deadline:
        if await deliver_due(app.bot, services) == 0:
            left = [i for i in await services.store.outbox() if i.status != "sent"]
            if not left:
                break
            await asyncio.sleep(0.02)
    harness = Harness(app, api, services)
    await app.shutdown()
    return sorted(posted_lead_ids(harness).elements())


if __name__ == "__main__":
    url, batch_size, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(_worker(url, batch_size, start_at))))
