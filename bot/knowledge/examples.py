"""Labelled example questions (``knowledge/examples/*.yaml``): real questions with the
entries that answer them, which the matcher's learned weights are trained on
(``bot.matching.learned``). Same format as the question sets ``partnerbot kb test``
runs: ``q``, ``lang``, ``expect`` (entry ids; ``[]`` for a question the base must not
answer), ``kind``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.knowledge.model import Entry, Problem
from bot.knowledge.yaml_lines import LINE

EXAMPLES_FOLDER = "examples"
# The label an out-of-scope example is learned under: the model's "none of them".
OUT_OF_SCOPE = ""


def parse_examples(
    file: str, data: Any, entries: Mapping[str, Entry], problems: list[Problem]
) -> list[tuple[str, str]]:
    """(entry id, question) for every example: its first accepted entry (the model learns
    one entry per question), ``OUT_OF_SCOPE`` for a question the base must not answer."""
    if not isinstance(data, list):
        problems.append(Problem(file, None, None, None, "must be a YAML list of questions"))
        return []
    out: list[tuple[str, str]] = []
    for item in data:
        line = item.get(LINE) if isinstance(item, dict) else None
        question = item.get("q") if isinstance(item, dict) else None
        expect = item.get("expect") if isinstance(item, dict) else None
        if not isinstance(question, str) or not question.strip() or not isinstance(expect, list):
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    None,
                    "each example needs 'q' (text) and 'expect' (a list of entry ids)",
                )
            )
            continue
        unknown = [e for e in expect if e not in entries]
        if unknown:
            problems.append(
                Problem(file, line, None, "expect", f"no entry {', '.join(map(str, unknown))}")
            )
        else:
            out.append((expect[0] if expect else OUT_OF_SCOPE, question))
    return out
