"""What a kept model is keyed by (bot/matching/model_cache.py): a fingerprint of what it
was made from, the same in every process, and the code that read it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.model import OutOfScopeCue
from bot.matching import MatchParameters, Thresholds
from bot.matching.model_cache import READING_FILES, fingerprint
from bot.normalize import default_lexicon

ROOT = Path(__file__).resolve().parent.parent


def test_a_fingerprint_tells_every_difference_of_its_value() -> None:
    cue = OutOfScopeCue(words=("price",), offer="cost")
    values = [
        ["a", "b"],
        ["b", "a"],
        ["a", "b", None],
        {"a": "b"},
        {("a", "b"): "c"},
        {"a", "b"},
        [1, 1.5, True],
        [True, 1.5, True],
        cue,
        OutOfScopeCue(words=("price",), offer=None),
        Thresholds(),
        Thresholds(answer=Thresholds().answer + 1),
        MatchParameters(),
    ]
    assert len({fingerprint(v) for v in values}) == len(values)
    assert fingerprint(OutOfScopeCue(words=("price",), offer="cost")) == fingerprint(cue)


def test_a_fingerprint_is_the_same_in_every_process() -> None:
    """Sets and mappings iterate in an order that changes with the process's string hash
    seed; their fingerprint must not, or no start would find a kept model."""
    script = (
        "from bot.matching.model_cache import fingerprint;"
        "from bot.normalize import default_lexicon;"
        "print(fingerprint([default_lexicon(), {'b', 'a', 'c', 'd'}, {'y': 1, 'x': 2}]))"
    )
    printed = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    here = fingerprint([default_lexicon(), {"b", "a", "c", "d"}, {"y": 1, "x": 2}])
    assert printed == {here}


def test_a_value_it_cannot_spell_is_refused() -> None:
    with pytest.raises(TypeError, match="object"):
        fingerprint([object()])


def test_the_reading_code_is_every_module_of_bot_that_matching_imports() -> None:
    """A module the matcher reads text with, left out of READING_CODE, could change the
    training terms and still find a model kept under the old code: a stale model."""
    script = (
        "import sys, bot.matching;"
        "print('\\n'.join(sorted(m.__file__ for n, m in sys.modules.items()"
        " if n == 'bot' or n.startswith('bot.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    hashed = {str(path.resolve()) for path in READING_FILES}
    package_inits = {str((ROOT / "bot" / "__init__.py").resolve())}
    missing = [f for f in loaded if str(Path(f).resolve()) not in hashed | package_inits]
    assert loaded and not missing
