"""Work kept on disk between processes, so that a start (a worker, each ``partnerbot
ask``, each test) reads what an earlier one made instead of making it again: the learned
models (a second or two to train on the shipped base) and the parsed knowledge base
files (0.15 s to parse).

A value is stored under a digest of everything it was made from, so a changed input
never reads a stale value (``fingerprint`` spells an input out the same way in every
process; the code that made it is part of the key); JSON, never pickle, so a file in the
cache can only ever be data. Any problem reading or writing the cache falls back to
making the value: the cache can only save time, never change a result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# Bump when a file's layout changes: older files are then never read.
FORMAT = 1
# Files of one kind kept at most: an edited base leaves its old files behind, and the
# least recently used go first (a read marks a file used).
MAX_FILES = 200


def cache_dir() -> Path | None:
    """``PARTNERBOT_CACHE_DIR`` (empty: no cache), else the user's cache folder."""
    chosen = os.environ.get("PARTNERBOT_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "partnerbot"


def fingerprint(value: Any) -> str:
    """A digest of ``value``, the same in every process: data classes (their init fields),
    mappings, sets, lists and tuples of strings, numbers, booleans and None. A set is
    spelled in sorted order, since its order changes from process to process; a mapping in
    its own order, which is the order of the file it was read from and may decide what
    it means (the first of two synonyms for one word wins)."""
    return hashlib.sha256(_dumps(_plain(value)).encode()).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        spelled = {f.name: _plain(getattr(value, f.name)) for f in fields if f.init}
        return [type(value).__name__, spelled]
    if isinstance(value, Mapping):
        return ["map", [[_plain(k), _plain(v)] for k, v in value.items()]]
    if isinstance(value, set | frozenset):
        return ["set", sorted((_plain(v) for v in value), key=_dumps)]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise TypeError(f"no fingerprint for a {type(value).__name__}")


def cached(
    key: Any, make: Callable[[], dict[str, Any]], *, fresh: bool = False, kind: str = "learned"
) -> dict[str, Any]:
    """The JSON-able value stored under ``key`` (any JSON-able value), made with ``make``
    and stored when it is not there yet, or when ``fresh`` (the stored one was unusable).
    ``kind`` names the files (``learned-…json``), for a person looking in the folder."""
    if not fresh:
        value = kept(key, kind)
        if value is not None:
            return value
    value = make()
    keep(key, value, kind)
    return value


def kept(key: Any, kind: str) -> dict[str, Any] | None:
    """The value stored under ``key``; None if there is none, or it cannot be read."""
    path = _path(key, kind)
    if path is None:
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # Used now: the last to be pruned. A folder this process may read but not write is
    # still read.
    with contextlib.suppress(OSError):
        os.utime(path)
    return value if isinstance(value, dict) else None


def keep(key: Any, value: dict[str, Any], kind: str) -> None:
    """``value`` stored under ``key`` (nothing happens without a cache folder)."""
    path = _path(key, kind)
    if path is not None:
        _store(path, value)
        _prune(path.parent, kind)


def _path(key: Any, kind: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256(json.dumps([FORMAT, key], ensure_ascii=False).encode()).hexdigest()
    return folder / f"{kind}-{digest[:40]}.json"


def _store(path: Path, value: dict[str, Any]) -> None:
    """Written aside and renamed: a reader (another worker starting) never sees half a
    file, and two writers of one key write the same thing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
        ) as out:
            aside = Path(out.name)
            try:
                json.dump(value, out, ensure_ascii=False)
            except BaseException:
                out.close()
                aside.unlink(missing_ok=True)
                raise
        os.replace(aside, path)
    except (OSError, ValueError):
        pass  # ValueError: a text JSON cannot encode (a lone surrogate); not kept


def _prune(folder: Path, kind: str) -> None:
    """The least recently used files of ``kind`` beyond ``MAX_FILES`` removed."""
    try:
        files = [(f.stat().st_mtime, f) for f in folder.glob(f"{kind}-*.json")]
        files.sort(reverse=True)
        for _, old in files[MAX_FILES:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # another process pruned the same file first
