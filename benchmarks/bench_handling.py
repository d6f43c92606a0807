"""CPU per update inside one bot process: the real Application, the network faked.

    .venv/bin/python benchmarks/bench_handling.py                      # SQLite
    .venv/bin/python benchmarks/bench_handling.py postgresql+asyncpg://postgres@127.0.0.1:5432/bench

What bench_bot.py measures from outside, minus HTTP and the inbox: 50 users ask a mix of
English and Arabic questions (each user keeps one language, as partners do) through
``Application.process_update`` with the Bot API answered in memory (bot.local_api). Prints
CPU ms per question update and the SQL statements each one ran, so a change to the hot path
shows its cost without the load benchmark's noise. PostgreSQL's schema is reset first.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_application, build_services  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.db.migrate import upgrade_database  # noqa: E402
from bot.local_api import LOCAL_TOKEN, LocalBotApi, LocalUser, UpdateFactory  # noqa: E402
from tests.conftest import _reset_postgres  # noqa: E402  (the schema reset the tests use)

QUESTIONS = {
    "en": ["what is information sharing?", "how do we become a partner", "what training do you offer?"],
    "ar": ["ما هي مزايا الشراكة؟", "كيف نتواصل معكم؟", "ما هي إعارة الخبراء؟"],
}  # fmt: skip
USERS, WARM_UP, MEASURED = 50, 100, 1000


async def measure(url: str) -> None:
    config = load_config(
        data={
            "database": {"url": url},
            "telegram": {"staff_chat_id": -100500},
            "bot": {"rate_limit_messages": 1_000_000},
        },
        env={},
    )
    services = build_services(config)
    app = build_application(config, services=services, request=LocalBotApi(), token=LOCAL_TOKEN)
    await app.initialize()
    updates = UpdateFactory(app.bot)
    users = [
        LocalUser(id=1000 + i, first_name="U", language_code="ar" if i % 2 else "en")
        for i in range(USERS)
    ]

    def question(i: int) -> Any:
        user = users[i % USERS]
        asked = QUESTIONS[user.language_code or "en"]
        return updates.text(user, asked[(i // USERS) % len(asked)])

    for i in range(WARM_UP):
        await app.process_update(question(i))
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[" ".join(statement.split())[:60]] += 1

    event.listen(services.store.engine.sync_engine, "before_cursor_execute", count)
    batch = [question(WARM_UP + i) for i in range(MEASURED)]
    started = time.process_time()
    for update in batch:
        await app.process_update(update)
    cpu = time.process_time() - started
    await app.shutdown()
    print(f"{url.split(':')[0]}: {1000 * cpu / MEASURED:.2f} ms CPU per question update")
    for statement, n in statements.most_common():
        print(f"  {n / MEASURED:5.2f}  {statement}")


def main() -> None:
    if len(sys.argv) > 1:
        url = sys.argv[1]
        if url.startswith("postgresql"):
            asyncio.run(_reset_postgres(url))
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    upgrade_database(url)
    asyncio.run(measure(url))


if __name__ == "__main__":
    main()
