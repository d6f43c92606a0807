"""Learned models kept on disk between processes, so that a start (a worker, each
``partnerbot ask``) reads the model its base was trained into instead of training it
again (a second or two on the shipped base).

A model is stored under a digest of everything it was trained from, so a changed base
never reads a stale model (``fingerprint`` spells what it was made from the same way in
every process; ``READING_CODE`` stands for the code that read it); JSON, never pickle,
so a file in the cache can only ever be numbers. Any problem reading or writing the cache falls back to training: the cache
can only save time, never change an answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

_BOT = Path(__file__).resolve().parent.parent

# Bump when the training or the file's layout changes: older files are then never read.
FORMAT = 1

# The code that turns a matcher's inputs (phrasings, examples, synonyms, lexicon, numbers)
# into a model's training terms: the matching package and the text tools it imports. A
# change to any of it is a change of what a model kept under those inputs was made from.
# (tests/test_model_cache.py checks that importing bot.matching loads nothing else of bot.)
READING_FILES = tuple(
    sorted(
        [
            *(_BOT / "matching").glob("*.py"),
            *(_BOT / "knowledge").glob("*.py"),
            *(_BOT / name for name in ("arabizi.py", "lexicon.py", "normalize.py", "stemming.py")),
        ]
    )
)
READING_CODE = hashlib.sha256(
    b"".join(
        p.relative_to(_BOT).as_posix().encode() + b"\0" + p.read_bytes() for p in READING_FILES
    )
).hexdigest()


def cache_dir() -> Path | None:
    """``PARTNERBOT_CACHE_DIR`` (empty: no cache), else the user's cache folder."""
    chosen = os.environ.get("PARTNERBOT_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "partnerbot"


def fingerprint(value: Any) -> str:
    """A digest of ``value``, the same in every process: data classes (their init fields),
    mappings, sets, lists and tuples of strings, numbers, booleans and None. Sets and
    mappings are spelled in sorted order, so their iteration order never changes it."""
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
        return ["map", sorted(([_plain(k), _plain(v)] for k, v in value.items()), key=_dumps)]
    if isinstance(value, set | frozenset):
        return ["set", sorted((_plain(v) for v in value), key=_dumps)]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise TypeError(f"no fingerprint for a {type(value).__name__}")


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
