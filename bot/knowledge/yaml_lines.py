"""YAML read with line numbers, so that every problem names the line a maintainer edits.

Every mapping gets its line under the key ``LINE``; every list is a ``LineList`` that
knows the line it starts on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
    """``text`` parsed, mappings and lists marked with their lines; raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_LineLoader)


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
