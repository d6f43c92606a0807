"""The knowledge base: YAML entries loaded, validated and indexed by id.

Maintainers edit ``knowledge/*.yaml`` by hand, so every problem is reported with
file, line, entry id and field, all at once rather than one per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bot.lexicon import Lexicon
from bot.normalize import Lang, fold

LANGS: tuple[Lang, ...] = ("en", "ar")
MIN_QUESTIONS = 4
INTENTS_FILE = "intents.yaml"
SYNONYMS_FILE = "synonyms.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"
SECTORS_FILE = "sectors.yaml"
ARABIZI_FILE = "arabizi.yaml"
REPLIES_FILE = "replies.yaml"
STOP_WORDS_FILE = "stop_words.yaml"
PHRASES_FILE = "phrases.yaml"
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
    "related",
}
_FLAGS = ("menu", "offer_form", "victim_hint", "small_talk")
_LINE = "__line__"


@dataclass(frozen=True)
class Entry:
    id: str
    title: Mapping[Lang, str]
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Mapping[Lang, str]
    keywords: Mapping[Lang, tuple[str, ...]] = field(default_factory=dict)
    related: tuple[str, ...] = ()
    menu: bool = False
    offer_form: bool = False
    # When a question comes closest to this entry yet is not answered, the fallback
    # tells victims where to report (the bot is not a police desk).
    victim_hint: bool = False
    # Greetings and thanks: answered like a person would, without a bold title.
    small_talk: bool = False
    source: str = ""

    def variants(self) -> Iterator[str]:
        """Every phrasing the matcher may compare a question with, in both languages."""
        for lang in LANGS:
            yield from self.questions.get(lang, ())
            yield from self.keywords.get(lang, ())


@dataclass(frozen=True)
class OutOfScopeCue:
    """Words that signal a question the base cannot answer (a price, a job, an email).

    Without ``unless``, an entry whose own phrasings use the word is still answered;
    with it, only one of the ``unless`` words in the question lifts the cue.
    """

    words: tuple[str, ...]
    unless: tuple[str, ...] = ()
    # When set, the cue counts only if one of these words (or a synonym) is there too.
    with_words: tuple[str, ...] = ()
    # The entry that answers this kind of request honestly ("no dates are published"):
    # offered first when the cue stops a direct answer.
    offer: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    entry_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"entry '{self.entry_id}'" if self.entry_id else "file"
        if self.field:
            what += f", field '{self.field}'"
        return f"{where}: {what}: {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class KnowledgeBase:
    entries: Mapping[str, Entry]
    intents: Mapping[str, Mapping[Lang, tuple[str, ...]]] = field(default_factory=dict)
    synonyms: Mapping[str, str] = field(default_factory=dict)
    out_of_scope: tuple[OutOfScopeCue, ...] = ()
    # Form sector -> words that name it when typed (sectors.yaml).
    sectors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Arabic words as written in Latin letters (arabizi.yaml), lower case.
    arabizi: frozenset[str] = frozenset()
    # Typed answers to the form's button steps (replies.yaml): yes / no / skip -> phrases.
    form_replies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Stop words, shorthand, compounds, idioms (stop_words.yaml, phrases.yaml); None when
    # the folder has neither file: the shipped lexicon is used.
    lexicon: Lexicon | None = None

    def __getitem__(self, entry_id: str) -> Entry:
        return self.entries[entry_id]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def menu(self) -> list[Entry]:
        return [entry for entry in self.entries.values() if entry.menu]

    def summary(self) -> dict[Lang, tuple[int, int]]:
        """Per language: (entries with questions, question variants)."""
        out: dict[Lang, tuple[int, int]] = {}
        for lang in LANGS:
            counts = [len(e.questions.get(lang, ())) for e in self.entries.values()]
            out[lang] = (sum(1 for c in counts if c), sum(counts))
        return out


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


class _LineList(list[Any]):
    """A YAML list that knows the line it starts on."""

    line: int = 0


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_sequence(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line_of(value: Any) -> int | None:
    return value.line if isinstance(value, _LineList) else None


def default_path() -> Path:
    """The shipped knowledge base: package data, found the same way in a checkout and a wheel."""
    return Path(str(resources.files("knowledge")))


def load_knowledge_base(path: Path | str | None = None) -> KnowledgeBase:
    """Load and validate every ``*.yaml`` under ``path`` (a folder or one file)."""
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
        name = _display(file)
        try:
            data = yaml.load(file.read_text(encoding="utf-8"), Loader=_LineLoader)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(Problem(name, _yaml_line(exc), None, None, f"cannot read: {exc}"))
            continue
        if file.name == INTENTS_FILE:
            intents.update(_parse_intents(name, data, problems))
        elif file.name == SYNONYMS_FILE:
            synonyms_file = name
            synonyms.update(_parse_synonyms(name, data, problems, synonym_lines))
        elif file.name == OUT_OF_SCOPE_FILE:
            cues_file = name
            cues.extend(_parse_out_of_scope(name, data, problems))
        elif file.name == SECTORS_FILE:
            sectors.update(_parse_sectors(name, data, problems))
        elif file.name == ARABIZI_FILE:
            arabizi.update(_parse_word_list(name, data, problems))
        elif file.name == REPLIES_FILE:
            form_replies.update(_parse_replies(name, data, problems))
        elif file.name in (STOP_WORDS_FILE, PHRASES_FILE):
            lexicon_data[file.name] = (name, data)
        elif not isinstance(data, list):
            problems.append(Problem(name, None, None, None, "must be a YAML list of entries"))
        else:
            raw_entries.extend((name, item) for item in data)
    entries = _parse_entries(raw_entries, problems)
    lexicon = _parse_lexicon(lexicon_data, problems) if lexicon_data else None
    problems.extend(
        _cross_check(
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
    for cue in cues:
        if cue.offer is not None and cue.offer not in entries:
            problems.append(
                Problem(cues_file, cue.line, None, "offer", f"unknown entry id '{cue.offer}'")
            )
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
    )


def load_lexicon(path: Path | str | None = None) -> Lexicon:
    """The lexicon alone (stop_words.yaml and phrases.yaml under the folder ``path``)."""
    root = Path(path) if path is not None else default_path()
    problems: list[Problem] = []
    found: dict[str, tuple[str, Any]] = {}
    for name in (STOP_WORDS_FILE, PHRASES_FILE):
        file = root / name
        try:
            found[name] = (_display(file), yaml.load(file.read_text("utf-8"), Loader=_LineLoader))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(
                Problem(_display(file), _yaml_line(exc), None, None, f"cannot read: {exc}")
            )
    lexicon = _parse_lexicon(found, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return lexicon


def _display(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(file)


def _yaml_line(exc: Exception) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _parse_entries(raw: list[tuple[str, Any]], problems: list[Problem]) -> dict[str, Entry]:
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
                Problem(file, item[_LINE], entry.id, "id", f"duplicate id (first at {first})")
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
                        item[_LINE],
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
    line: int = item[_LINE]
    entry_id = item.get("id")
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        problems.append(
            Problem(file, line, None, "id", f"missing or invalid id {entry_id!r} (use a-z, 0-9, -)")
        )
        return None
    before = len(problems)

    def report(field_name: str, message: str) -> None:
        problems.append(Problem(file, line, entry_id, field_name, message))

    for key in sorted(set(item) - _ENTRY_KEYS - {_LINE}):
        report(str(key), f"unknown field (expected one of: {', '.join(sorted(_ENTRY_KEYS))})")
    questions = _per_language(item.get("questions"), "questions", report, many=True)
    for lang, variants in questions.items():
        if len(variants) < MIN_QUESTIONS:
            report(
                f"questions.{lang}",
                f"has {len(variants)} phrasings; write at least {MIN_QUESTIONS}",
            )
    answer = _per_language(item.get("answer"), "answer", report, many=False)
    title = _per_language(item.get("title"), "title", report, many=False)
    keywords = _per_language(
        item.get("keywords", {}), "keywords", report, many=True, required=False
    )
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
        keywords=keywords,
        related=tuple(related),
        menu=bool(flags["menu"]),
        offer_form=bool(flags["offer_form"]),
        victim_hint=bool(flags["victim_hint"]),
        small_talk=bool(flags["small_talk"]),
        source=f"{file}:{line}",
    )


def _per_language(
    value: Any, name: str, report: Any, *, many: bool, required: bool = True
) -> dict[Lang, tuple[str, ...]]:
    """Read ``{en: ..., ar: ...}``; a string per language, or a list of them when ``many``."""
    out: dict[Lang, tuple[str, ...]] = {}
    if not isinstance(value, dict):
        report(name, "must be a mapping with 'en' and 'ar'")
        return out
    for key in sorted(set(value) - set(LANGS) - {_LINE}):
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


def _parse_intents(
    file: str, data: Any, problems: list[Problem]
) -> dict[str, dict[Lang, tuple[str, ...]]]:
    out: dict[str, dict[Lang, tuple[str, ...]]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map intent names to phrases"))
        return out
    for name, value in data.items():
        if name == _LINE:
            continue

        def report(field_name: str, message: str, name: str = name) -> None:
            problems.append(Problem(file, data[_LINE], f"intent:{name}", field_name, message))

        out[name] = _per_language(value, "phrases", report, many=True)
    return out


def _parse_sectors(file: str, data: Any, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """Each key is a form sector; its value, the words that name it."""
    from bot.lead_form import SECTORS

    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map sectors to lists of words"))
        return out
    for sector, words in data.items():
        if sector == _LINE:
            continue
        if sector not in SECTORS or sector == "other":
            known = ", ".join(s for s in SECTORS if s != "other")
            problems.append(
                Problem(file, data[_LINE], None, str(sector), f"unknown sector; use one of {known}")
            )
        elif not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            problems.append(
                Problem(file, data[_LINE], None, sector, "must be a non-empty list of words")
            )
        else:
            out[sector] = tuple(words)
    return out


def _parse_replies(file: str, data: Any, problems: list[Problem]) -> dict[str, tuple[str, ...]]:
    """``yes``, ``no`` and ``skip``: lists of phrases (quote yes/no: YAML reads them as booleans)."""
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, dict):
        problems.append(Problem(file, None, None, None, "must map yes, no and skip to phrases"))
        return out
    for kind, phrases in data.items():
        if kind == _LINE:
            continue
        if kind not in ("yes", "no", "skip"):
            problems.append(
                Problem(file, data[_LINE], None, str(kind), "unknown reply; use yes, no or skip")
            )
        elif not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            bad = (
                [p for p in phrases if not isinstance(p, str)] if isinstance(phrases, list) else []
            )
            hint = f" (put {bad} in quotes)" if bad else ""
            problems.append(
                Problem(file, data[_LINE], None, kind, f"must be a list of phrases{hint}")
            )
        else:
            out[kind] = tuple(phrases)
    return out


def _parse_word_list(file: str, data: Any, problems: list[Problem]) -> list[str]:
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


def _parse_synonyms(
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
        line = _line_of(group)
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


def _parse_out_of_scope(file: str, data: Any, problems: list[Problem]) -> list[OutOfScopeCue]:
    """``cues``: a list of mappings with ``words`` and an optional ``unless`` (word lists)."""
    out: list[OutOfScopeCue] = []
    cues = data.get("cues") if isinstance(data, dict) else None
    if not isinstance(cues, list):
        problems.append(Problem(file, None, None, "cues", "must be a list of cue mappings"))
        return out
    for cue in cues:
        line = cue.get(_LINE) if isinstance(cue, dict) else None
        lists = {}
        offer = cue.get("offer") if isinstance(cue, dict) else None
        if isinstance(cue, dict) and not set(cue) - {"words", "unless", "with", "offer", _LINE}:
            lists = {key: cue.get(key, []) for key in ("words", "unless", "with")}
        if (
            not lists
            or not lists["words"]
            or not all(
                isinstance(v, list) and all(isinstance(w, str) and w.strip() for w in v)
                for v in lists.values()
            )
            or not (offer is None or isinstance(offer, str))
        ):
            problems.append(
                Problem(
                    file,
                    line,
                    None,
                    "cues",
                    "each cue needs 'words' (and may have 'unless', 'with' and 'offer': an entry id)",
                )
            )
            continue
        out.append(
            OutOfScopeCue(
                tuple(lists["words"]),
                tuple(lists["unless"]),
                with_words=tuple(lists["with"]),
                offer=offer,
                line=line,
            )
        )
    return out


def _parse_lexicon(data: Mapping[str, tuple[str, Any]], problems: list[Problem]) -> Lexicon:
    """stop_words.yaml and phrases.yaml as one ``Lexicon``; every word folded."""
    stop_file, stop = data.get(STOP_WORDS_FILE, (STOP_WORDS_FILE, {}))
    phrase_file, phrases = data.get(PHRASES_FILE, (PHRASES_FILE, {}))
    if not isinstance(stop, dict):
        problems.append(Problem(stop_file, None, None, None, "must be a mapping"))
        stop = {}
    if not isinstance(phrases, dict):
        problems.append(Problem(phrase_file, None, None, None, "must be a mapping"))
        phrases = {}

    def word_set(file: str, value: Any, name: str) -> frozenset[str]:
        lists = value if isinstance(value, list) else [value]
        flat = [w for item in lists for w in (item if isinstance(item, list) else [item])]
        if not all(isinstance(w, str) and w.strip() for w in flat):
            bad = [w for w in flat if not isinstance(w, str)]
            problems.append(Problem(file, None, None, name, f"must be words (put {bad} in quotes)"))
            return frozenset()
        return frozenset(f for w in flat for f in fold(w).split())

    def mapping(file: str, value: Any, name: str) -> dict[tuple[str, ...], str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items() if k != _LINE
        ):
            problems.append(
                Problem(file, None, None, name, 'must map phrases to words ("a b": "c")')
            )
            return {}
        return {
            tuple(fold(k).split()): " ".join(fold(v).split())
            for k, v in value.items()
            if k != _LINE
        }

    by_lang = stop.get("stop_words", {})
    if not isinstance(by_lang, dict) or set(by_lang) - {*LANGS, _LINE}:
        problems.append(
            Problem(stop_file, None, None, "stop_words", "must map en and ar to word lists")
        )
        by_lang = {}
    stop_words = frozenset().union(
        *(word_set(stop_file, by_lang.get(lang, []), f"stop_words.{lang}") for lang in LANGS)
    )
    compounds = mapping(phrase_file, phrases.get("compounds"), "compounds")
    for key in compounds:
        if len(key) != 2:
            problems.append(
                Problem(phrase_file, None, None, "compounds", f"'{' '.join(key)}' is not two words")
            )
    shorthand = mapping(phrase_file, phrases.get("shorthand"), "shorthand")
    for key in shorthand:
        if len(key) != 1:
            problems.append(
                Problem(phrase_file, None, None, "shorthand", f"'{' '.join(key)}' is not one word")
            )
    return Lexicon(
        stop_words=stop_words,
        keep_after_article=word_set(
            stop_file, stop.get("keep_after_article", []), "keep_after_article"
        ),
        weak_words=word_set(stop_file, stop.get("weak_words", []), "weak_words"),
        question_words=word_set(stop_file, stop.get("question_words", []), "question_words"),
        shorthand={k[0]: tuple(v.split()) for k, v in shorthand.items() if len(k) == 1},
        compounds={(k[0], k[1]): v for k, v in compounds.items() if len(k) == 2},
        idioms=mapping(phrase_file, phrases.get("idioms"), "idioms"),
        excluders=word_set(phrase_file, phrases.get("excluders", []), "excluders"),
        conjunctions=word_set(phrase_file, phrases.get("conjunctions", []), "conjunctions"),
        negators=word_set(phrase_file, phrases.get("negators", []), "negators"),
    )


def _cross_check(
    entries: Mapping[str, Entry],
    synonyms: Mapping[str, str],
    cues: list[OutOfScopeCue],
    lexicon: Lexicon | None,
    *,
    where: Mapping[str, str],
    synonym_lines: Mapping[str, int | None],
) -> list[Problem]:
    """What no single file shows: the lexicon, the synonyms, the cues and the entries
    contradicting one another."""
    from bot.normalize import default_lexicon, is_content, words

    lx = lexicon or default_lexicon()
    out: list[Problem] = []
    # A cue without `unless` is excused by the entries whose phrasings use its word, read
    # through the synonyms: a cue word whose group's head is not a word of the same cue is
    # excused by the whole group ("officer", a job, by every entry that says "police"),
    # which is never what was meant. A group that is all cue words ("next", "upcoming")
    # is one on purpose: only its own entry is excused.
    plain_cues = {fold(w): n for n, c in enumerate(cues) if not c.unless for w in c.words}
    for word, head in synonyms.items():
        key = fold(word)
        line = synonym_lines.get(word)
        if key in lx.stop_words and key not in lx.keep_after_article:
            out.append(
                Problem(where["synonyms"], line, None, "groups", f"'{word}' is also a stop word")
            )
        if key in plain_cues and plain_cues.get(fold(head)) != plain_cues[key]:
            number = plain_cues[key]
            out.append(
                Problem(
                    where["synonyms"],
                    line,
                    None,
                    "groups",
                    f"'{word}' (a synonym of '{head}') is also an out-of-scope cue without "
                    f"'unless' ({where['cues']}:{cues[number].line}); give the cue an 'unless'",
                )
            )
    phrasings = {fold(v): entry for entry in entries.values() for v in entry.variants()}
    for idiom in lx.idioms:
        owner = phrasings.get(" ".join(idiom))
        if owner is not None:
            out.append(
                Problem(
                    where["phrases"],
                    None,
                    None,
                    "idioms",
                    f"'{' '.join(idiom)}' is a whole phrasing of entry '{owner.id}': an idiom is "
                    "a phrase of the language, not a question",
                )
            )
    for entry in entries.values():
        entry_file, _, entry_line = entry.source.rpartition(":")
        for variant in entry.variants():
            if not any(is_content(w, lx) for w in words(variant, lx)):
                out.append(
                    Problem(
                        entry_file,
                        int(entry_line),
                        entry.id,
                        "questions",
                        f"'{variant}' has no word left to match (all stop words or idioms)",
                    )
                )
    return out
