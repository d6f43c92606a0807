"""Work kept on disk between processes (bot/disk_cache.py): what it is keyed by (a
fingerprint of what it was made from, the same in every process, and the code that made
it), and the parsed knowledge base files kept there."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import disk_cache
from bot.disk_cache import fingerprint
from bot.knowledge.model import OutOfScopeCue
from bot.knowledge.yaml_lines import LineList, load_yaml
from bot.matching import MatchParameters, Thresholds
from bot.matching.reading_code import READING_FILES
from bot.normalize import default_lexicon

ROOT = Path(__file__).resolve().parent.parent


def test_a_fingerprint_tells_every_difference_of_its_value() -> None:
    cue = OutOfScopeCue(words=("price",), offer="cost")
    values = [
        ["a", "b"],
        ["b", "a"],
        ["a", "b", None],
        {"a": "b"},
        {"a": "b", "c": "d"},
        {"c": "d", "a": "b"},
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
        "from bot.disk_cache import fingerprint;"
        "from bot.normalize import default_lexicon;"
        "print(fingerprint([default_lexicon(), {'b', 'a', 'c', 'd'}, {'y': 1, 'x': 2}]))"
    )
    printed = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={
                "PYTHONHASHSEED": seed,
                "PATH": "",
                "PARTNERBOT_CACHE_DIR": os.environ["PARTNERBOT_CACHE_DIR"],
            },
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


def _shape(value: Any) -> Any:
    """``value`` with every list's line and type spelled out, for comparing parses."""
    if isinstance(value, list):
        return [type(value).__name__, getattr(value, "line", None), [_shape(v) for v in value]]
    if isinstance(value, dict):
        return {k: (type(k).__name__, _shape(v)) for k, v in value.items()}
    return (type(value).__name__, value)


def test_a_kept_parse_is_the_parse_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file of the shipped base, read back from the cache, is what PyYAML parses:
    values, their types, and the line of every mapping and list."""
    files = sorted((ROOT / "knowledge").rglob("*.yaml"))
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", "")
    parsed = [_shape(load_yaml(f.read_text("utf-8"))) for f in files]
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    stored = [_shape(load_yaml(f.read_text("utf-8"))) for f in files]
    assert len(list(tmp_path.glob("yaml-*.json"))) == len(files) > 20
    kept = [_shape(load_yaml(f.read_text("utf-8"))) for f in files]
    assert kept == stored == parsed


def test_a_kept_parse_is_read_instead_of_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    text = "entries:\n  - id: a\n    answer: one\n"
    load_yaml(text)
    [stored] = tmp_path.glob("yaml-*.json")
    changed = stored.read_text("utf-8").replace('"one"', '"from the cache"')
    stored.write_text(changed, "utf-8")
    assert load_yaml(text)["entries"][0]["answer"] == "from the cache"
    # A damaged file is parsed again and stored again.
    damages = ["{broken", *map(json.dumps, [{"value": ["X", 1]}, {"value": ["M", 1]}, {"x": 1}])]
    for damage in damages:
        stored.write_text(damage, "utf-8")
        value = load_yaml(text)
        assert value["entries"][0]["answer"] == "one" and value["entries"].line == 2
        assert json.loads(stored.read_text("utf-8"))["value"][0] == "M"


def test_an_edited_text_is_parsed_again_and_its_mistake_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    assert load_yaml("a: [1, 2]\n") == {"a": [1, 2], "__line__": 1}
    assert load_yaml("a: [1, 3]\n")["a"] == [1, 3]
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2\n")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("when: 2026-12-07\n", {"when": datetime.date(2026, 12, 7), "__line__": 1}),
        ("2026: year\n", {2026: "year", "__line__": 1}),
        ("[a, b]\n", ["a", "b"]),
    ],
)
def test_a_value_json_cannot_hold_is_parsed_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, value: Any
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        assert load_yaml(text) == value
    kept = list(tmp_path.glob("yaml-*.json"))
    # A list is held (tagged, with its line); a date or a number as a key is not.
    assert len(kept) == (1 if isinstance(value, list) else 0)
    assert isinstance(load_yaml(text), LineList) or isinstance(value, dict)


def test_the_least_recently_used_files_beyond_the_limit_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(disk_cache, "MAX_FILES", 3)
    for n in range(3):
        disk_cache.keep(["key", n], {"n": n}, "test")
    by_key = {json.loads(p.read_text())["n"]: p for p in tmp_path.glob("test-*.json")}
    for n, path in by_key.items():
        os.utime(path, (100 * (n + 1), 100 * (n + 1)))  # kept long ago, 0 first
    disk_cache.keep(["other kind"], {"n": 9}, "learned")
    assert disk_cache.kept(["key", 0], "test") == {"n": 0}  # read: used now
    disk_cache.keep(["key", 3], {"n": 3}, "test")
    assert disk_cache.kept(["key", 1], "test") is None
    assert all(disk_cache.kept(["key", n], "test") == {"n": n} for n in (0, 2, 3))
    assert disk_cache.kept(["other kind"], "learned") == {"n": 9}


def test_a_file_it_may_read_but_not_touch_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    disk_cache.keep(["key"], {"n": 1}, "test")

    def refused(*_: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "utime", refused)
    assert disk_cache.kept(["key"], "test") == {"n": 1}


def test_a_value_json_cannot_write_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERBOT_CACHE_DIR", str(tmp_path))
    made = disk_cache.cached(["key"], lambda: {"text": "\ud800"}, kind="test")
    assert made == {"text": "\ud800"} and list(tmp_path.iterdir()) == []


def test_workers_starting_at_once_share_the_cache_safely(tmp_path: Path) -> None:
    """Four processes build the same matcher at once on an empty cache, as workers do on a
    deploy: none fails, all answer alike (a file another is still writing is never taken
    for a model: the cache only saves time), every file left is whole, and a fifth
    process, reading them, answers alike too."""
    script = (
        "import json; from bot.matching import Matcher\n"
        "variants = [('cost', 'how much does a partnership cost'),"
        " ('cost', 'is the partnership free'), ('training', 'do you support training courses'),"
        " ('training', 'can we fund training for police')]\n"
        "examples = [('cost', 'partnership fees'), ('training', 'we sponsor trainings'),"
        " ('', 'what is the weather')]\n"
        "result = Matcher(variants, examples=examples).match('fees for partnershipz')\n"
        "print(json.dumps([result.learned, result.second_opinion]))\n"
    )
    env = {**os.environ, "PARTNERBOT_CACHE_DIR": str(tmp_path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    printed = {worker.communicate(timeout=120)[0] for worker in workers}
    assert all(worker.returncode == 0 for worker in workers)
    files = list(tmp_path.glob("*.json"))
    assert {f.name.split("-")[0] for f in files} == {"learned", "note", "yaml"}
    assert all(isinstance(json.loads(f.read_text("utf-8")), dict) for f in files)
    assert not list(tmp_path.glob("*.tmp"))
    after = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert len(printed) == 1 and after.stdout in printed
