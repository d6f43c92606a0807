"""The lexicon files: ``stop_words.yaml`` and ``phrases.yaml`` read into one ``Lexicon``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.knowledge.model import LANGS, Problem
from bot.knowledge.yaml_lines import LINE, line_of
from bot.lexicon import Lexicon
from bot.normalize import fold

STOP_WORDS_FILE = "stop_words.yaml"
PHRASES_FILE = "phrases.yaml"


def parse_lexicon(data: Mapping[str, tuple[str, Any]], problems: list[Problem]) -> Lexicon:
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
            isinstance(k, str) and isinstance(v, str) for k, v in value.items() if k != LINE
        ):
            problems.append(
                Problem(file, None, None, name, 'must map phrases to words ("a b": "c")')
            )
            return {}
        return {
            tuple(fold(k).split()): " ".join(fold(v).split()) for k, v in value.items() if k != LINE
        }

    by_lang = stop.get("stop_words", {})
    if not isinstance(by_lang, dict) or set(by_lang) - {*LANGS, LINE}:
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
    idioms = mapping(phrase_file, phrases.get("idioms"), "idioms")
    openers = parse_openers(phrase_file, phrases.get("question_openers"), idioms, problems)
    openings = parse_letter_phrases(phrase_file, phrases, "letter_openings", problems)
    closings = parse_letter_phrases(phrase_file, phrases, "letter_closings", problems)
    for both in sorted(openings & closings):
        problems.append(
            Problem(
                phrase_file,
                None,
                None,
                "letter_closings",
                f"'{' '.join(both)}' is also a letter opening (one reading would win silently)",
            )
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
        idioms=idioms,
        question_openers=openers,
        excluders=word_set(phrase_file, phrases.get("excluders", []), "excluders"),
        conjunctions=word_set(phrase_file, phrases.get("conjunctions", []), "conjunctions"),
        negators=word_set(phrase_file, phrases.get("negators", []), "negators"),
        wants=word_set(phrase_file, phrases.get("wants", []), "wants"),
        knowing=word_set(phrase_file, phrases.get("knowing", []), "knowing"),
        letter_openings=openings,
        letter_closings=closings,
    )


def parse_letter_phrases(
    file: str, phrases: Mapping[str, Any], name: str, problems: list[Problem]
) -> frozenset[tuple[str, ...]]:
    """``letter_openings`` or ``letter_closings``: per language, a list of phrases, folded.
    A phrase listed twice is a problem (the second says nothing)."""
    value = phrases.get(name)
    if value is None:
        return frozenset()
    if not isinstance(value, dict) or set(value) - {*LANGS, LINE}:
        problems.append(Problem(file, None, None, name, "must map en and ar to phrase lists"))
        return frozenset()
    seen: set[tuple[str, ...]] = set()
    for lang in LANGS:
        listed = value.get(lang, [])
        line = line_of(listed)
        if not isinstance(listed, list) or not all(
            isinstance(p, str) and p.strip() for p in listed
        ):
            problems.append(
                Problem(file, line, None, f"{name}.{lang}", "must be a list of phrases")
            )
            continue
        for phrase in listed:
            key = tuple(fold(phrase).split())
            if not key:
                problems.append(
                    Problem(file, line, None, f"{name}.{lang}", f"'{phrase}' has no word")
                )
            elif key in seen:
                problems.append(
                    Problem(file, line, None, f"{name}.{lang}", f"'{phrase}' is listed twice")
                )
            seen.add(key)
    return frozenset(k for k in seen if k)


def parse_openers(
    file: str, value: Any, idioms: Mapping[tuple[str, ...], str], problems: list[Problem]
) -> frozenset[tuple[str, ...]]:
    """``question_openers``: per language, lists of phrases of two words or more, folded.

    A phrase in two lists, or that is also an idiom, is a problem (one reading would win
    silently); so is a phrase that folds to fewer than two words."""
    name = "question_openers"
    if value is None:
        return frozenset()
    if not isinstance(value, dict) or set(value) - {*LANGS, LINE}:
        problems.append(
            Problem(file, None, None, name, "must map en and ar to lists of phrase lists")
        )
        return frozenset()
    seen: dict[tuple[str, ...], int | None] = {}
    for lang in LANGS:
        lists = value.get(lang, [])
        if not isinstance(lists, list):
            problems.append(Problem(file, None, None, f"{name}.{lang}", "must be a list of lists"))
            continue
        for group in lists:
            line = line_of(group) or line_of(lists)
            if not isinstance(group, list) or not all(
                isinstance(p, str) and p.strip() for p in group
            ):
                problems.append(
                    Problem(file, line, None, f"{name}.{lang}", f"bad phrase list {group!r}")
                )
                continue
            for phrase in group:
                key = tuple(fold(phrase).split())
                if len(key) < 2:
                    problems.append(
                        Problem(
                            file,
                            line,
                            None,
                            f"{name}.{lang}",
                            f"'{phrase}' must have two words or more (one word is a "
                            "question word: stop_words.yaml's question_words)",
                        )
                    )
                elif key in idioms:
                    problems.append(
                        Problem(file, line, None, f"{name}.{lang}", f"'{phrase}' is also an idiom")
                    )
                elif key in seen:
                    first = seen[key]
                    where = f" (line {first})" if first else ""
                    problems.append(
                        Problem(
                            file, line, None, f"{name}.{lang}", f"'{phrase}' is listed twice{where}"
                        )
                    )
                else:
                    seen[key] = line
    return frozenset(seen)
