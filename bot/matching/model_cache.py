"""Learned models kept on disk between processes, so that a start (a worker, each
``partnerbot ask``) reads the model its base was trained into instead of training it
again (a second or two on the shipped base).

A model is stored under a digest of everything it was trained from, so a changed base
never reads a stale model; JSON, never pickle, so a file in the cache can only ever be
numbers. Any problem reading or writing the cache falls back to training: the cache
can only save time, never change an answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Bump when the training or the file's layout changes: older files are then never read.
FORMAT = 1


def cache_dir() -> Path | None:
    """``PARTNERBOT_CACHE_DIR`` (empty: no cache), else the user's cache folder."""
    chosen = os.environ.get("PARTNERBOT_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "partnerbot"


def cached(key: Any, make: Callable[[], dict[str, Any]], *, fresh: bool = False) -> dict[str, Any]:
    """The JSON-able value stored under ``key`` (any JSON-able value), made with ``make``
    and stored when it is not there yet, or when ``fresh`` (the stored one was unusable)."""
    folder = cache_dir()
    if folder is None:
        return make()
    digest = hashlib.sha256(json.dumps([FORMAT, key], ensure_ascii=False).encode()).hexdigest()
    path = folder / f"learned-{digest[:40]}.json"
    if not fresh:
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(value, dict):
                return value
        except (OSError, ValueError):
            pass
    value = make()
    _store(folder, path, value)
    return value


def _store(folder: Path, path: Path, value: dict[str, Any]) -> None:
    """Written aside and renamed: a reader (another worker starting) never sees half a
    file, and two writers of one key write the same thing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False
        ) as out:
            aside = Path(out.name)
            try:
                json.dump(value, out)
            except BaseException:
                out.close()
                aside.unlink(missing_ok=True)
                raise
        os.replace(aside, path)
    except OSError:
        pass
