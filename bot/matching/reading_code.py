"""The code that turns a matcher's inputs (phrasings, examples, synonyms, lexicon,
numbers) into a model's training terms, as one digest: part of what a kept model is
keyed by (``TermModel.train_for``), so a change to that code never reads a model made
by the old one.

It is the matching package and every module of ``bot`` it imports (tests/test_disk_cache.py
checks that importing bot.matching loads nothing else of bot), and the versions of what
they stand on: Python (its Unicode tables fold the text) and rapidfuzz (its ratios pick
the spelling an Arabizi word is read as).
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from pathlib import Path

import rapidfuzz

_BOT = Path(__file__).resolve().parent.parent

READING_FILES = tuple(
    sorted(
        [
            *(_BOT / "matching").glob("*.py"),
            *(_BOT / "knowledge").glob("*.py"),
            *(
                _BOT / name
                for name in (
                    "arabizi.py",
                    "disk_cache.py",
                    "lexicon.py",
                    "normalize.py",
                    "stemming.py",
                )
            ),
        ]
    )
)
_VERSIONS = f"{sys.version}\0{unicodedata.unidata_version}\0{rapidfuzz.__version__}\0"
READING_CODE = hashlib.sha256(
    _VERSIONS.encode()
    + b"".join(
        p.relative_to(_BOT).as_posix().encode() + b"\0" + p.read_bytes() for p in READING_FILES
    )
).hexdigest()
