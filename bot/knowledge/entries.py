"""Entries and intents: each knowledge file's list of entries, read and checked per field.

A bad entry is reported with its file, line, id and field and left out; the others still
load, so that one run lists every problem. An entry that cannot load never reaches the
matcher.
"""

from __future__ import annotations

import re
from typing import Any

from bot.knowledge.model import LANGS, Entry, Problem
from bot.knowledge.yaml_lines import LINE
from bot.normalize import Lang, fold

MIN_QUESTIONS = 4
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_ENTRY_KEYS = {
    "id",
    "title",
    "menu",
    "offer_form",
    "victim_hint",
    "small_talk",
    "questions",
    "keywords",
    "answer",
    "invite",
    "related",
}
_FLAGS = ("menu", "offer_form", "victim_hint", "small_talk")


def parse_entries(raw: list[tuple[str, Any]], problems: list[Problem]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    seen_variants: dict[str, tuple[str, str]] = {}
    # Ids of invalid entries count too, so one mistake is not reported twice.
    known_ids: set[str] = set()
    for file, item in raw:
        if not isinstance(item, dict):
            problems.append(Problem(file, None, None, None, "each list item must be a mapping"))
            continue
        entry = _parse_entry(file, item, problems)
        if isinstance(item.get("id"), str):
            known_ids.add(item["id"])
        if entry is None:
            continue
        if entry.id in entries:
            first = entries[entry.id].source
            problems.append(
                Problem(file, item[LINE], entry.id, "id", f"duplicate id (first at {first})")
            )
            continue
        entries[entry.id] = entry
        for variant in entry.variants():
            key = fold(variant)
            other = seen_variants.get(key)
            if other and other[0] != entry.id:
                problems.append(
                    Problem(
                        file,
                        item[LINE],
                        entry.id,
                        "questions",
                        f"'{variant}' is also a variant of entry '{other[0]}' ({other[1]})",
                    )
                )
            seen_variants.setdefault(key, (entry.id, entry.source))
    for entry in entries.values():
        file, _, line = entry.source.rpartition(":")
        for rel in entry.related:
            if rel not in known_ids:
                problems.append(
                    Problem(file, int(line), entry.id, "related", f"unknown id '{rel}'")
                )
            elif rel == entry.id:
                problems.append(Problem(file, int(line), entry.id, "related", "lists itself"))
    return entries


def _parse_entry(file: str, item: dict[str, Any], problems: list[Problem]) -> Entry | None:
    line: int = item[LINE]
    entry_id = item.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        problems.append(
            Problem(file, line, None, "id", f"missing or invalid id {entry_id!r} (use a-z, 0-9, -)")
        )
        return None
    before = len(problems)

    def report(field_name: str, message: str) -> None:
        problems.append(Problem(file, line, entry_id, field_name, message))

    for key in sorted(set(item) - _ENTRY_KEYS - {LINE}):
        report(str(key), f"unknown field (expected one of: {', '.join(sorted(_ENTRY_KEYS))})")
    questions = per_language(item.get("questions"), "questions", report, many=True)
    for lang, variants in questions.items():
        if len(variants) < MIN_QUESTIONS:
            report(
                f"questions.{lang}",
                f"has {len(variants)} phrasings; write at least {MIN_QUESTIONS}",
            )
    answer = per_language(item.get("answer"), "answer", report, many=False)
    invite = per_language(item.get("invite", {}), "invite", report, many=False, required=False)
    if invite and set(invite) != set(LANGS):
        report("invite", "needs both 'en' and 'ar' (or neither)")
    title = per_language(item.get("title"), "title", report, many=False)
    keywords = per_language(item.get("keywords", {}), "keywords", report, many=True, required=False)
    related = item.get("related", [])
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        report("related", "must be a list of entry ids")
        related = []
    flags = {name: item.get(name, False) for name in _FLAGS}
    for name, value in flags.items():
        if not isinstance(value, bool):
            report(name, "must be true or false")
    if len(problems) > before:
        return None
    return Entry(
        id=entry_id,
        title={k: v[0] for k, v in title.items()},
        questions=questions,
        answer={k: v[0] for k, v in answer.items()},
        invite={k: v[0] for k, v in invite.items()},
        keywords=keywords,
        related=tuple(related),
        menu=bool(flags["menu"]),
        offer_form=bool(flags["offer_form"]),
        victim_hint=bool(flags["victim_hint"]),
        small_talk=bool(flags["small_talk"]),
        source=f"{file}:{line}",
    )


def per_language(
    value: Any, name: str, report: Any, *, many: bool, required: bool = True
) -> dict[Lang, tuple[str, ...]]:
    """Read ``{en: ..., ar: ...}``; a string per language, or a list of them when ``many``."""
    out: dict[Lang, tuple[str, ...]] = {}
    if not isinstance(value, dict):
        report(name, "must be a mapping with 'en' and 'ar'")
        return out
    for key in sorted(set(value) - set(LANGS) - {LINE}):
        report(f"{name}.{key}", "unknown language (use 'en' and 'ar')")
    for lang in LANGS:
        if lang not in value:
            if required:
                report(name, f"missing language '{lang}'")
            continue
        texts = value[lang] if many else [value[lang]]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            report(f"{name}.{lang}", "must be a list of strings" if many else "must be text")
            continue
        cleaned = tuple(t.strip() for t in texts)
        if not cleaned or not all(cleaned):
            report(f"{name}.{lang}", "is empty")
            continue
        if many and len({fold(t) for t in cleaned}) < len(cleaned):
            report(f"{name}.{lang}", "repeats a phrasing")
        out[lang] = cleaned
    return out


def parse_intents(
    file: str, data: Any, problems: list[Problem]
) -> dict[str, dict[Lang, tuple[str, ...]]]:
    out: dict[str, dict[Lang, tuple[str, ...]]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map intent names to phrases"))
        return out
    for name, value in data.items():
        if name == LINE:
            continue

        def report(field_name: str, message: str, name: str = name) -> None:
            problems.append(Problem(file, data[LINE], f"intent:{name}", field_name, message))

        out[name] = per_language(value, "phrases", report, many=True)
    return out
