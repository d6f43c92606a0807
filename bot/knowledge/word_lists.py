"""The word-list files: synonyms, out-of-scope cues, form sectors, typed replies, Arabizi.

Each parser takes one file's YAML and returns what it holds, adding a ``Problem`` for
anything malformed; checks that need several files are ``bot.knowledge.checks``'s.
"""

from __future__ import annotations

from typing import Any

from bot.knowledge.model import HINTS, OutOfScopeCue, Problem
from bot.knowledge.yaml_lines import LINE, line_of
from bot.normalize import fold


def parse_sectors(file: str, data: Any, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """Each key is a form sector; its value, the words that name it."""
    # Imported only when a sectors file is read: bot.lead_form brings phonenumbers and
    # email_validator with it, which the rest of the core never needs.
    from bot.lead_form import SECTORS

    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map sectors to lists of words"))
        return out
    for sector, words in data.items():
        if sector == LINE:
            continue
        if sector not in SECTORS or sector == "other":
            known = ", ".join(s for s in SECTORS if s != "other")
            problems.append(
                Problem(file, data[LINE], None, str(sector), f"unknown sector; use one of {known}")
            )
        elif not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            problems.append(
                Problem(file, data[LINE], None, sector, "must be a non-empty list of words")
            )
        else:
            out[sector] = tuple(words)
    return out


def parse_replies(file: str, data: Any, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """``yes``, ``no`` and ``skip``: lists of phrases (quote yes/no: YAML reads them as booleans)."""
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map yes, no and skip to phrases"))
        return out
    for kind, phrases in data.items():
        if kind == LINE:
            continue
        if kind not in ("yes", "no", "skip"):
            problems.append(
                Problem(file, data[LINE], None, str(kind), "unknown reply; use yes, no or skip")
            )
        elif not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            bad = (
                [p for p in phrases if not isinstance(p, str)] if isinstance(phrases, list) else []
            )
            hint = f" (put {bad} in quotes)" if bad else ""
            problems.append(
                Problem(file, data[LINE], None, kind, f"must be a list of phrases{hint}")
            )
        else:
            out[kind] = tuple(phrases)
    return out


def parse_word_list(file: str, data: Any, problems: list[Problem]) -> list[str]:
    """``words: [...]``: single lower-case words."""
    words = data.get("words") if isinstance(data, dict) else None
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        problems.append(Problem(file, None, None, "words", "must be a list of words"))
        return []
    bad = [w for w in words if not w or w != w.lower() or " " in w]
    if bad:
        problems.append(
            Problem(file, None, None, "words", f"one lower-case word per item: {', '.join(bad)}")
        )
    return [w for w in words if w not in bad]


def parse_synonyms(
    file: str, data: Any, problems: list[Problem], lines: dict[str, int | None]
) -> dict[str, str]:
    """Each group is a list of words; every word is read as the group's first word.

    A word (folded) in two groups is a problem: one of the two readings would silently win.
    """
    out: dict[str, str] = {}
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        problems.append(Problem(file, None, None, "groups", "must be a list of word lists"))
        return out
    seen: dict[str, tuple[str, int | None]] = {}
    for group in groups:
        line = line_of(group)
        if (
            not isinstance(group, list)
            or len(group) < 2
            or not all(isinstance(w, str) for w in group)
        ):
            problems.append(Problem(file, line, None, "groups", f"bad group {group!r}"))
            continue
        head = group[0]
        for word in group:
            key = fold(word)
            first = seen.setdefault(key, (head, line))
            if first != (head, line):
                where = f"line {first[1]}" if first[1] else "another group"
                problems.append(
                    Problem(
                        file,
                        line,
                        None,
                        "groups",
                        f"'{word}' is in two groups: '{first[0]}' ({where}) and '{head}'",
                    )
                )
        for word in group[1:]:
            out[word] = head
            lines[word] = line
    return out


def parse_out_of_scope(file: str, data: Any, problems: list[Problem]) -> list[OutOfScopeCue]:
    """``cues``: a list of mappings with ``words`` and an optional ``unless`` (word lists)."""
    out: list[OutOfScopeCue] = []
    cues = data.get("cues") if isinstance(data, dict) else None
    if not isinstance(cues, list):
        problems.append(Problem(file, None, None, "cues", "must be a list of cue mappings"))
        return out
    for cue in cues:
        line = cue.get(LINE) if isinstance(cue, dict) else None
        lists = {}
        offer = cue.get("offer") if isinstance(cue, dict) else None
        asked = cue.get("asked", False) if isinstance(cue, dict) else False
        hint = cue.get("hint") if isinstance(cue, dict) else None
        keys = {"words", "unless", "with", "offer", "asked", "hint", LINE}
        if isinstance(cue, dict) and not set(cue) - keys:
            lists = {key: cue.get(key, []) for key in ("words", "unless", "with")}
        if (
            not lists
            or not lists["words"]
            or not all(
                isinstance(v, list) and all(isinstance(w, str) and w.strip() for w in v)
                for v in lists.values()
            )
            or not (offer is None or isinstance(offer, str))
            or not isinstance(asked, bool)
            or not (hint is None or hint in HINTS)
        ):
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    "cues",
                    "each cue needs 'words' (and may have 'unless', 'with', 'offer': an entry id,"
                    f" 'asked': true or false, and 'hint': one of {', '.join(HINTS)})",
                )
            )
            continue
        out.append(
            OutOfScopeCue(
                tuple(lists["words"]),
                tuple(lists["unless"]),
                with_words=tuple(lists["with"]),
                offer=offer,
                asked=asked,
                hint=hint,
                line=line,
            )
        )
    return out
