"""Arabizi (Arabic in Latin letters): whether a Latin-script message is really Arabic.

Such a message matched against English phrasings may still find its topic
("shu el partnership options"), but the partner reads Arabic, so the answer
goes out in Arabic. The word list is content: knowledge/arabizi.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_LATIN_WORD = re.compile(r"[a-z0-9']+")
# Digits that stand for Arabic letters: 2 ء, 3 ع, 5 خ, 7 ح, 8 غ/ق, 9 ق/ص.
_LETTER_DIGIT = re.compile(r"[235789]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
# Two Latin words in five, at least: one Arabizi word in an English sentence is a loanword.
_SHARE = 0.4


def is_arabizi(text: str, words: Collection[str]) -> bool:
    """Whether ``text`` is Arabic written in Latin letters."""
    if _ARABIC.search(text):
        return False
    latin = [w for w in _LATIN_WORD.findall(text.lower()) if any(c.isalpha() for c in w)]
    if not latin:
        return False
    arabic_like = sum(1 for w in latin if w in words or _digit_for_letter(w))
    return arabic_like / len(latin) >= _SHARE


def _digit_for_letter(word: str) -> bool:
    """ "ta3awon", "n9dro", "sa7": one digit used as a letter, in a pronounceable word.

    Not "2fa", "mp3", "b2b" or "covid19": those have more digits, no vowel, or a digit
    before two letters at most.
    """
    digits = [c for c in word if c.isdigit()]
    letters = [c for c in word if c.isalpha()]
    if len(digits) != 1 or not _LETTER_DIGIT.match(digits[0]) or len(letters) < 2:
        return False
    if not any(c in "aeiouy" for c in letters):
        return False
    return not (word[0].isdigit() and len(letters) <= 2)
