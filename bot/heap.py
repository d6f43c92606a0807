"""The collector and the objects a serving process keeps for its whole life.

The knowledge base's index, the libraries' modules and their tables are built once and
live as long as the process: a hundred thousand objects and more. Python's collector
walks all of them on each full collection, which paused every user of a worker for about
100 ms once every thousand updates or so (bench_bot, 2026-12-06). Frozen, they are out
of its reach; what the handling of updates creates is collected as before.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect what is garbage now, then put every object left out of the collector's
    reach. Called once a serving process has built everything, before the first update."""
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After the knowledge base was replaced: hand the frozen objects back to the
    collector, so that the old base is freed even where it holds reference cycles (a
    frozen cycle is never freed), then freeze what is left, the new base with it.
    Nothing to do where nothing was frozen (tests, the command line)."""
    if gc.get_freeze_count() == 0:
        return
    gc.unfreeze()
    freeze_long_lived()
