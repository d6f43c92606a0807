"""The per-user rate limit shared by worker processes: in the database or in Redis."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from bot.local_api import LocalUser
from tests.conftest import Harness
from tests.test_lead_form import TEXTS


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


async def _alternate(a: Harness, b: Harness, user: LocalUser, count: int) -> list[str]:
    for n in range(count):
        await (a if n % 2 == 0 else b).send(user, f"hello {n}")
    return a.texts(user.id) + b.texts(user.id)


@pytest.mark.parametrize(
    "store",
    [
        "database",
        pytest.param(
            "redis", marks=pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1")
        ),
    ],
)
async def test_two_workers_apply_one_limit(make_bot: Any, store: str) -> None:
    settings = {
        "bot": {"rate_limit_messages": 3, "rate_limit_seconds": 3600, "rate_limit_store": store}
    }
    a: Harness = await make_bot(settings)
    b: Harness = await make_bot(settings)
    # A user id of this run only, so Redis counts left by an earlier run do not matter.
    user = LocalUser(id=int.from_bytes(os.urandom(4), "big"), first_name="Sam")
    replies = await _alternate(a, b, user, 6)
    told = [t for t in replies if t == TEXTS.render("rate_limited", "en")]
    assert len(told) == 1  # messages 1-3 answered, the 4th told once, the rest dropped
    assert len(replies) == 4


async def test_memory_limit_is_per_process(make_bot: Any, english_user: LocalUser) -> None:
    settings = {"bot": {"rate_limit_messages": 3, "rate_limit_seconds": 3600}}
    a: Harness = await make_bot(settings)
    b: Harness = await make_bot(settings)
    replies = await _alternate(a, b, english_user, 6)
    assert TEXTS.render("rate_limited", "en") not in replies  # 3 each: why shared stores exist
