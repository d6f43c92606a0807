"""Text normalisation for matching: Arabic-aware folding, tokens, stems, language.

rapidfuzz's ``default_process`` replaces Arabic diacritics with spaces
(``شَرِاكَة`` becomes ``ش ر اك ة``), so everything is folded here first and the
matcher only ever sees the folded tokens.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Literal

from bot.lexicon import ARABIC_ATTACHED, Lexicon
from bot.stemming import deep_stem as deep_stem  # re-exported: callers import it from here
from bot.stemming import readings as readings
from bot.stemming import stem as stem

_ARABIC_ATTACHED_STARTS = frozenset(p[0] for p in ARABIC_ATTACHED)

Lang = Literal["ar", "en"]

# Harakat, Quranic marks, superscript alef and tatweel carry no meaning for matching.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Zero-width and bidi control characters that phones insert invisibly.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")
_LETTER_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ء": "",
        "ة": "ه",
        "ک": "ك",  # Persian keh and yeh, common on some keyboards
        "ی": "ي",
        "ڤ": "ف",
        "گ": "ك",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
        "۰": "0",
        "۱": "1",
        "۲": "2",
        "۳": "3",
        "۴": "4",
        "۵": "5",
        "۶": "6",
        "۷": "7",
        "۸": "8",
        "۹": "9",
    }
)
_NON_WORD = re.compile(r"[^\w]+|_")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_ARABIC_LETTERS = re.compile("[\u0621-\u064a]+")
_LATIN_LETTERS = re.compile("[a-zA-Z]+")

# The lexicon (stop words, shorthand, compounds, idioms) is content: knowledge/stop_words.yaml
# and knowledge/phrases.yaml. Functions below take one; without it, the shipped one.
# After "besides training", "ما عدا التدريب", this many words name what is NOT asked for.
_EXCLUDED_SPAN = 4


def fold(text: str) -> str:
    """Lower-case and fold the orthographic variants that users type interchangeably.

    Short texts are remembered: matching one message folds each of its clauses and their
    words several times over (scoring, clause splitting, question openers), and common
    words recur across messages. Longer ones (most whole messages) are not: the memory
    stays small (at most 4,096 texts of 80 characters)."""
    if len(text) <= FOLD_REMEMBERED_LENGTH:
        return _fold_remembered(text)
    return _fold(text)


FOLD_REMEMBERED_LENGTH = 80


@lru_cache(maxsize=4096)
def _fold_remembered(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():
        # Nothing below but the case, stretched letters and punctuation applies to ASCII.
        return _NON_WORD.sub(" ", _LATIN_STRETCH.sub(r"\1\1", text.lower())).strip()
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _ARABIC_MARKS.sub("", text)
    text = text.translate(_LETTER_FOLD).lower()
    text = _ARABIC_STRETCH.sub(r"\1", _LATIN_STRETCH.sub(r"\1\1", text))
    return _NON_WORD.sub(" ", text).strip()


# A letter typed three times or more is a stretched word ("مرحبااااا", "جدااا", "hiiii"):
# no Arabic word has a letter three times running, no English word a letter more than twice.
_ARABIC_STRETCH = re.compile(r"([\u0621-\u064a])\1{2,}")
_LATIN_STRETCH = re.compile(r"([a-z])\1{2,}")


@cache
def default_lexicon() -> Lexicon:
    """The lexicon of the shipped knowledge base (read once)."""
    from bot.knowledge import default_path, load_lexicon

    return load_lexicon(default_path())


def words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Folded words of ``text``: idioms, compounds and chat shorthand rewritten, the words
    an excluder ("besides") rules out dropped, and negation suffixes off."""
    lx = lexicon or default_lexicon()
    found = fold(text).split()
    if _rule_words(lx).isdisjoint(found):
        # Most messages: no idiom, and no word that a rule below rewrites or drops (one
        # set test in C instead of a dict lookup or two per word).
        return found
    found = _idioms(found, lx)
    out: list[str] = []
    previous = ""
    skip = 0
    trailing = False
    for word in found:
        compound = lx.compounds.get((previous, word))
        expansion = lx.shorthand.get(word)
        after_list, trailing = trailing, False
        if skip:
            skip -= 1
            if word in lx.conjunctions:
                skip = max(skip, 1)
            trailing = not skip
        elif after_list and word in lx.conjunctions:
            skip = 1
        elif compound is not None and out and out[-1] == previous:
            out[-1] = compound
            if compound in lx.excluders:
                skip = _EXCLUDED_SPAN
        elif word in lx.excluders:
            out.append(word)
            skip = _EXCLUDED_SPAN
        elif expansion is not None:
            out.extend(expansion)
        elif previous in lx.negators and len(word) >= 4 and word.endswith("ش"):
            out.append(word[:-1])
        else:
            out.append(word)
        previous = word
    return out


# Per lexicon (by identity; it holds mappings, so it is not hashable), the words
# ``_rule_words`` names. Lexicons are few (one per knowledge base loaded): bounded anyway.
_RULE_WORDS: dict[int, tuple[Lexicon, frozenset[str]]] = {}
_RULE_WORDS_LIMIT = 16


def _rule_words(lexicon: Lexicon) -> frozenset[str]:
    """The words without which ``words`` keeps every folded word as it is: the first word
    of an idiom, the second of a compound, shorthand, excluders (conjunctions only count
    after one) and negators."""
    known = _RULE_WORDS.get(id(lexicon))
    if known is not None and known[0] is lexicon:
        return known[1]
    found = frozenset([*(second for _, second in lexicon.compounds), *lexicon.shorthand]) | (
        lexicon.idiom_starts | lexicon.excluders | lexicon.negators
    )
    if len(_RULE_WORDS) >= _RULE_WORDS_LIMIT:
        _RULE_WORDS.clear()
    # The lexicon is kept with its words, so that its id is not reused while it is here.
    _RULE_WORDS[id(lexicon)] = (lexicon, found)
    return found


def idiom_spans(found: list[str], lexicon: Lexicon) -> list[tuple[int, int, str]]:
    """(start, end, meaning) of every idiom among the folded words, longest phrase first."""
    spans: list[tuple[int, int, str]] = []
    if lexicon.idiom_starts.isdisjoint(found):
        return spans
    i = 0
    while i < len(found):
        for size in lexicon.idiom_sizes:
            meaning = lexicon.idioms.get(tuple(found[i : i + size]))
            if meaning is not None:
                spans.append((i, i + size, meaning))
                i += size
                break
        else:
            i += 1
    return spans


def _idioms(found: list[str], lexicon: Lexicon) -> list[str]:
    """``found`` with every idiom of the lexicon replaced by the words it means."""
    spans = idiom_spans(found, lexicon)
    if not spans:
        return found
    out: list[str] = []
    i = 0
    for start, end, meaning in spans:
        out.extend(found[i:start])
        out.extend(meaning.split())
        i = end
    out.extend(found[i:])
    return out


def is_content(word: str, lexicon: Lexicon | None = None) -> bool:
    """Whether a folded word counts: not a stop word, not a single letter (digits do).

    An Arabic stop word stays one behind the article or the conjunction و
    ("الطريقة", "وحابين"), and a question word of the stop words behind و or ف ("وهل",
    "فكيف"), however short.
    """
    lx = lexicon or default_lexicon()
    if word in lx.stop_words:
        return False
    asked = lx.question_word(word)
    if asked is not None and asked in lx.stop_words:
        return False
    if word[:1] in _ARABIC_ATTACHED_STARTS:
        for prefix in ARABIC_ATTACHED:
            if word.startswith(prefix) and word[len(prefix) :] in lx.long_stop_words:
                return False
    return len(word) > 1 or word.isdigit()


def content_words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Folded words of ``text`` without stop words and single letters (digits stay)."""
    lx = lexicon or default_lexicon()
    return [w for w in words(text, lx) if is_content(w, lx)]


def tokens(
    text: str, *, keep_stop_words: bool = False, lexicon: Lexicon | None = None
) -> list[str]:
    """Folded, stemmed content tokens of ``text`` (stop words dropped unless asked)."""
    found = words(text, lexicon) if keep_stop_words else content_words(text, lexicon)
    return [stem(word) for word in found]


def has_letters(text: str) -> bool:
    """Whether ``text`` has a letter of any script (not only digits, emoji, punctuation)."""
    return any(ch.isalpha() for ch in text)


def detect_language(text: str, default: Lang = "en") -> Lang:
    """The language to answer in, judged from the script of the letters.

    Arabic users often mix in English terms ("شو هو information sharing"), so a
    message counts as Arabic once it has two Arabic words or more Arabic letters
    than Latin ones.
    """
    # Letters counted by runs: far fewer matches than one per letter.
    arabic = sum(map(len, _ARABIC_LETTERS.findall(text)))
    latin = sum(map(len, _LATIN_LETTERS.findall(text)))
    if arabic == 0 and latin == 0:
        return default
    if arabic >= latin:
        return "ar"
    # Two Arabic words need two Arabic letters.
    if arabic >= 2 and sum(1 for word in text.split() if _ARABIC_LETTER.search(word)) >= 2:
        return "ar"
    return "en"
