"""Loading the knowledge base: every ``*.yaml`` of a folder, each read by its parser, then
checked across files. Every problem found is raised at once, not one per run."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.checks import check_offers, cross_check
from bot.knowledge.entries import parse_entries, parse_intents
from bot.knowledge.examples import EXAMPLES_FOLDER, parse_examples
from bot.knowledge.lexicon import PHRASES_FILE, STOP_WORDS_FILE, parse_lexicon
from bot.knowledge.model import KnowledgeBase, KnowledgeBaseError, OutOfScopeCue, Problem
from bot.knowledge.word_lists import (
    parse_out_of_scope,
    parse_replies,
    parse_sectors,
    parse_synonyms,
    parse_word_list,
)
from bot.knowledge.yaml_lines import display, load_yaml, yaml_line
from bot.lexicon import Lexicon
from bot.normalize import Lang

INTENTS_FILE = "intents.yaml"
SYNONYMS_FILE = "synonyms.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
SECTORS_FILE = "sectors.yaml"
ARABIZI_FILE = "arabizi.yaml"
REPLIES_FILE = "replies.yaml"


def default_path() -> Path:
    """The shipped knowledge base: package data, found the same way in a checkout and a wheel."""
    return Path(str(resources.files("knowledge")))


def load_knowledge_base(path: Path | str | None = None) -> KnowledgeBase:
    """Load and validate every ``*.yaml`` under ``path`` (a folder or one file), and the
    labelled questions of its ``examples/`` folder."""
    root = Path(path) if path is not None else default_path()
    files = sorted(root.glob("*.yaml")) if root.is_dir() else [root]
    problems: list[Problem] = []
    if not files:
        raise KnowledgeBaseError([Problem(str(root), None, None, None, "no .yaml files found")])
    raw_entries: list[tuple[str, dict[str, Any]]] = []
    intents: dict[str, dict[Lang, tuple[str, ...]]] = {}
    synonyms: dict[str, str] = {}
    cues: list[OutOfScopeCue] = []
    sectors: dict[str, tuple[str, ...]] = {}
    arabizi: set[str] = set()
    form_replies: dict[str, tuple[str, ...]] = {}
    lexicon_data: dict[str, tuple[str, Any]] = {}
    cues_file = OUT_OF_SCOPE_FILE
    synonyms_file = SYNONYMS_FILE
    synonym_lines: dict[str, int | None] = {}
    for file in files:
        name = display(file)
        data = _read(file, name, problems)
        if data is _UNREADABLE:
            continue
        if file.name == INTENTS_FILE:
            intents.update(parse_intents(name, data, problems))
        elif file.name == SYNONYMS_FILE:
            synonyms_file = name
            synonyms.update(parse_synonyms(name, data, problems, synonym_lines))
        elif file.name == OUT_OF_SCOPE_FILE:
            cues_file = name
            cues.extend(parse_out_of_scope(name, data, problems))
        elif file.name == SECTORS_FILE:
            sectors.update(parse_sectors(name, data, problems))
        elif file.name == ARABIZI_FILE:
            arabizi.update(parse_word_list(name, data, problems))
        elif file.name == REPLIES_FILE:
            form_replies.update(parse_replies(name, data, problems))
        elif file.name in (STOP_WORDS_FILE, PHRASES_FILE):
            lexicon_data[file.name] = (name, data)
        elif not isinstance(data, list):
            problems.append(Problem(name, None, None, None, "must be a YAML list of entries"))
        else:
            raw_entries.extend((name, item) for item in data)
    entries = parse_entries(raw_entries, problems)
    lexicon = parse_lexicon(lexicon_data, problems) if lexicon_data else None
    problems.extend(
        cross_check(
            entries,
            synonyms,
            cues,
            lexicon,
            where={
                "synonyms": synonyms_file,
                "cues": cues_file,
                "phrases": lexicon_data.get(PHRASES_FILE, (PHRASES_FILE, None))[0],
            },
            synonym_lines=synonym_lines,
        )
    )
    problems.extend(check_offers(cues, entries, cues_file))
    examples: list[tuple[str, str]] = []
    for file in sorted(root.glob(f"{EXAMPLES_FOLDER}/*.yaml")) if root.is_dir() else []:
        name = display(file)
        data = _read(file, name, problems)
        if data is not _UNREADABLE:
            examples += parse_examples(name, data, entries, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(
        entries=entries,
        intents=intents,
        synonyms=synonyms,
        out_of_scope=tuple(cues),
        sectors=sectors,
        arabizi=frozenset(arabizi),
        form_replies=form_replies,
        lexicon=lexicon,
        examples=tuple(examples),
    )


_UNREADABLE = object()


def _read(file: Path, name: str, problems: list[Problem]) -> Any:
    """``file`` parsed with its lines; ``_UNREADABLE``, with the problem noted, if it
    cannot be read or parsed."""
    try:
        return load_yaml(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(name, yaml_line(exc), None, None, f"cannot read: {exc}"))
        return _UNREADABLE


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """The lexicon alone (stop_words.yaml and phrases.yaml under the folder ``path``)."""
    root = Path(path) if path is not None else default_path()
    problems: list[Problem] = []
    found: dict[str, tuple[str, Any]] = {}
    for name in (STOP_WORDS_FILE, PHRASES_FILE):
        file = root / name
        try:
            found[name] = (display(file), load_yaml(file.read_text("utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(
                Problem(display(file), yaml_line(exc), None, None, f"cannot read: {exc}")
            )
    lexicon = parse_lexicon(found, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return lexicon
