"""YAML read with line numbers, so that every problem names the line a maintainer edits.

Every mapping gets its line under the key ``LINE``; every list is a ``LineList`` that
knows the line it starts on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from bot.disk_cache import keep, kept

# A key no YAML file can contain by accident: mappings carry their line under it.
LINE = "__line__"


# libyaml's parser where PyYAML was built with it (its wheels are): the knowledge base
# loads in 0.12 s instead of 0.31, which every start, reload and `partnerbot ask` pays.
try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _LineLoader(_SafeLoader):
    """SafeLoader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


class LineList(list[Any]):
    """A YAML list that knows the line it starts on."""

    line: int = 0


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_sequence(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str) -> Any:
    """``text`` parsed, mappings and lists marked with their lines; raises ``yaml.YAMLError``.

    The result is kept on disk under the text (``bot.disk_cache``): every start reads
    the same files, and PyYAML builds their 40,000 values in Python (0.15 s), where JSON
    reads them back in a tenth of that. A text with a value JSON cannot hold as it is
    (a date, a key that is not a string) is parsed every time."""
    key = [_PARSER, text]
    stored = kept(key, "yaml")
    if stored is not None:
        try:
            return _decoded(stored["value"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            pass  # a damaged or foreign file: parsed and stored again
    value = yaml.load(text, Loader=_LineLoader)
    try:
        encoded = _encoded(value)
    except _NotKept:
        return value
    keep(key, {"value": encoded}, "yaml")
    return value


class _NotKept(Exception):
    """A parsed value JSON cannot hold as it is."""


# What a kept parse was made by: this file, PyYAML's version and its parser.
_PARSER = [
    hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
    yaml.__version__,
    _SafeLoader.__name__,
]


def _encoded(value: Any) -> Any:
    """``value`` as JSON, every list and mapping tagged: ``["L", line, items]`` for a
    ``LineList``, ``["M", mapping]`` for a mapping (JSON arrays are only ever these, so no
    value of the file can be mistaken for one)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, LineList):
        return ["L", value.line, [_encoded(item) for item in value]]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return ["M", {k: _encoded(v) for k, v in value.items()}]
    raise _NotKept(type(value).__name__)


def _decoded(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    tag = value[0]
    if tag == "M":
        return {k: _decoded(v) for k, v in value[1].items()}
    if tag == "L":
        out = LineList(_decoded(item) for item in value[2])
        out.line = int(value[1])
        return out
    raise ValueError(f"not a kept parse: {tag!r}")


def line_of(value: Any) -> int | None:
    return value.line if isinstance(value, LineList) else None


def display(file: Path) -> str:
    """The path as problems show it: relative to the working directory when inside it."""
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)


def yaml_line(exc: Exception) -> int | None:
    """The line a YAML syntax error points at, if any."""
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None
