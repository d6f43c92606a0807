"""One statement for many callers: the group commit the inbox uses to store and finish updates.

Callers that arrive while a write runs wait for the next one, which takes them all
together. Under load that is one round trip for many updates; alone, a caller waits
for nobody. Every caller of a batch gets the batch's result, or its exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[R]],
        written: Callable[[], None] = lambda: None,
    ) -> None:
        self._write_batch = write
        self._written = written  # called after each successful write
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Return once ``item`` is written, with its batch's result; raise what the write raised."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="group-commit")
        return await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    result = await self._write_batch([item for item, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():  # its caller may have been cancelled
                            done.set_exception(exc)
                else:
                    self._written()
                    for _, done in batch:
                        if not done.done():
                            done.set_result(result)
        finally:
            self._writer = None
