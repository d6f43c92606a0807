"""Arabizi (Arabic in Latin letters): whether a Latin-script message is really Arabic.

Such a message matched against English phrasings may still find its topic
("shu el partnership options"), but the partner reads Arabic, so the answer
goes out in Arabic. The word list is content: knowledge/arabizi.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from collections.abc import Set as AbstractSet
from itertools import islice

_LATIN_WORD = re.compile(r"[a-z0-9']+")
# Digits that stand for Arabic letters: 2 ء, 3 ع, 5 خ, 7 ح, 8 غ/ق, 9 ق/ص.
_LETTER_DIGIT = re.compile(r"[235789]")
# Such a digit beside a letter of its word: a number ("2026", "24/7") is no word of Arabizi.
_LETTER_DIGIT_IN_WORD = re.compile(r"[a-z'][235789]|[235789][a-z']")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
# Two Latin words in five, at least: one Arabizi word in an English sentence is a loanword.
_SHARE = 0.4
# Without a listed word or a digit for a letter: this many words of the base in Arabic
# letters at least, and this share of the message's words with the article.
_UNLISTED_WORDS = 3
_UNLISTED_SHARE = 0.6
# English function words that make English grammar.
_GRAMMAR_WORDS = 2


def is_arabizi(text: str, words: Collection[str]) -> bool:
    """Whether ``text`` is Arabic written in Latin letters."""
    if _ARABIC.search(text):
        return False
    latin = _latin_words(_LATIN_WORD.findall(text.lower()))
    if not latin:
        return False
    arabic_like = sum(1 for w in latin if w in words or _digit_for_letter(w))
    return arabic_like / len(latin) >= _SHARE


def _latin_words(tokens: list[str]) -> list[str]:
    """The tokens that are words (numbers are not)."""
    return [w for w in tokens if any(c.isalpha() for c in w)]


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


# Reading Arabizi as Arabic script, so that the Arabic stemmer, synonyms and spelling
# tolerance apply to it ("ta7leel" is تحليل, "tahdeedat" تهديدات).
_DIGRAPHS = {
    "sh": "ش", "ch": "ش", "kh": "خ", "gh": "غ", "th": "ث", "dh": "ذ",
    "ou": "و", "oo": "و", "uu": "و", "ee": "ي", "ii": "ي", "ie": "ي",
    "aa": "ا", "ai": "ي", "ei": "ي",
}  # fmt: skip
_LETTERS = {
    "b": "ب", "t": "ت", "j": "ج", "g": "ج", "d": "د", "r": "ر", "z": "ز", "s": "س",
    "f": "ف", "q": "ق", "k": "ك", "l": "ل", "m": "م", "n": "ن", "h": "ه", "w": "و",
    "y": "ي", "p": "ب", "v": "ف", "c": "ك", "x": "كس",
    # Digits for letters Latin lacks. 2 is a glottal stop: ء in writing, but in the
    # Levant and Egypt it is how ق is said ("n2adem" نقدم), the likelier in a word.
    "3": "ع", "5": "خ", "6": "ط", "7": "ح", "8": "غ", "9": "ق", "2": "ق",
}  # fmt: skip
# A short vowel is not written in Arabic; a long one (often typed as one letter too)
# is: i and u (o) are read long, a short. At a word's end a is the feminine ة (ه once
# folded), except in short words (ana انا, la لا, wala ولا).
_VOWELS = frozenset("aeiou")
_LONG = {"i": "ي", "u": "و", "o": "و"}
_FINAL = {"a": "ه", "e": "ه", "i": "ي", "o": "و", "u": "و"}
# The article, the prepositions fused with it, and ب, typed as a word of their own
# ("el shiraka", "bel cybercrime", "lal sharikat", "bi masari"): joined to the next word.
_ARTICLES = {
    "el": "ال", "al": "ال", "il": "ال", "bel": "بال", "bil": "بال", "bl": "بال",
    "fel": "فال", "fil": "فال", "lal": "لل", "lil": "لل", "lel": "لل", "wel": "وال",
    "wil": "وال",
    "3al": "عال", "3el": "عال",
    "bi": "ب",  # "bi masari" بمصاري: the preposition ب typed apart (not "be": English)
}  # fmt: skip
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9']*[A-Za-z][A-Za-z0-9']*")
# Addresses are copied as typed, never read as words.
_ADDRESS = re.compile(r"\S+@\S+|(?:https?://|www\.)\S+", re.IGNORECASE)


_CODE = re.compile(r"[^aeiou]*[0-9][^aeiou]*|.*[0-9]{2,}")


def is_code(token: str) -> bool:
    """A name with digits rather than Arabizi: no vowel ("mp3", "b2b", "5g") or two
    digits at the end ("covid19", "win10"), where Arabizi puts a digit for a letter
    among vowels ("ma3", "mo7a22i2in")."""
    return bool(_CODE.fullmatch(token))


def spellings_to_try(latin: str, rendering: str) -> list[str]:
    """``rendering`` of the Arabizi word ``latin``, then the other spellings it may stand
    for: 2 as the glottal stop ء rather than ق, a final -an as the adverb's ا ("shukran"
    شكرا), a final -et, -it or -at as the ة of a noun before its complement ("taklofet
    el shiraka" تكلفة الشراكة)."""
    tries = [rendering]
    if "2" in latin and "ق" in rendering:
        tries.append(rendering.replace("ق", "ء"))
    if len(latin) >= 5 and latin.endswith("an") and rendering.endswith("ن"):
        tries.append(rendering[:-1] + "ا")
    if len(latin) >= 5 and latin[-2:] in ("et", "it", "at"):
        stem = rendering.removesuffix("ات").removesuffix("يت").removesuffix("ت")
        tries.append(stem + "ه")
    return tries


def reads_as_arabizi(
    text: str,
    words: AbstractSet[str],
    known: Callable[[str], bool],
    arabic: Callable[[str], bool] = lambda word: False,
    english: Callable[[str], bool] = lambda word: False,
) -> bool:
    """Whether to match ``text`` in Arabic letters: like ``is_arabizi``, but the English
    words the base knows (``known``: "interpol", "cybercrime", stop words) do not count
    against it, for Arabizi mixes them in ("kif mumkin sharikti tsa3ed el interpol bel
    cybercrime"); and the article counts for it.

    Once a listed word or a digit for a letter shows Arabizi may be there, a word the base
    does not know counts for it too when ``arabic`` reads it as an Arabic word ("feeh",
    "sanawy": فيه، سنوي), unless the message has English grammar (two function words that
    ``english`` knows: "the", "can", "my"): there, English words that happen to spell
    Arabic ones ("Tab key does not work": كي; "can my firm sell in your mall") would tip
    the count. The article alone is not enough either ("El Nino hit Lima": لم)."""
    if _ARABIC.search(text):
        return False
    lowered = text.lower()
    tokens = _LATIN_WORD.findall(lowered)
    # Every message goes through here: most have no Arabizi word at all, which three
    # tests in C tell.
    if (
        words.isdisjoint(tokens)
        and _ARTICLES.keys().isdisjoint(tokens)
        and not _LETTER_DIGIT_IN_WORD.search(lowered)
    ):
        return _unlisted(tokens, [], known, arabic, english)
    latin = _latin_words(tokens)
    arabic_like = [w for w in latin if w in words or w in _ARTICLES or _digit_for_letter(w)]
    if not arabic_like:
        return _unlisted(latin, [], known, arabic, english)
    if len(arabic_like) / len(latin) >= _SHARE:
        return True
    # One Arabic word ("inshallah") in English is a loanword; two or more, among words
    # that are either Arabic or unknown to the base, are Arabizi.
    others = [w for w in latin if w not in arabic_like and not known(w)]
    grammar = _has_grammar(
        [w for w in latin if len(w) > 1 and w not in words and w not in _ARTICLES], english
    )
    if any(w in words or _digit_for_letter(w) for w in arabic_like) and not grammar:
        read = [w for w in others if arabic(w)]
        arabic_like += read
        others = [w for w in others if w not in read]
    elif not grammar:
        return _shared(arabic_like, others) or _unlisted(latin, arabic_like, known, arabic, english)
    return _shared(arabic_like, others)


def _has_grammar(tokens: list[str], english: Callable[[str], bool]) -> bool:
    """Whether ``tokens`` hold English grammar: two of its function words. One alone may
    be an Arabic word typed in Latin letters that spells one ("an" عن, "ya" يا, "ma").
    Read up to the second: an English message ends the test at its first words."""
    return next(islice(filter(english, tokens), _GRAMMAR_WORDS - 1, None), None) is not None


def _shared(arabic_like: list[str], others: list[str]) -> bool:
    return len(arabic_like) >= 2 and len(arabic_like) / (len(arabic_like) + len(others)) >= _SHARE


def _unlisted(
    tokens: list[str],
    articles: list[str],
    known: Callable[[str], bool],
    arabic: Callable[[str], bool],
    english: Callable[[str], bool],
) -> bool:
    """Arabizi with no listed word and no digit for a letter ("nmawel dawrat tadreeb lal
    shorta"): no English grammar, and most of its words (``_UNLISTED_SHARE``, at least
    ``_UNLISTED_WORDS`` of them) words of the base in Arabic letters, the article (in
    ``articles``) counting with them. Without a listed word to start from, the bar is
    higher than ``_SHARE``: a few English words unknown to the base may spell Arabic
    ones ("El Nino hit Lima"). ``tokens``: the message's Latin tokens, numbers too."""
    # English grammar first: it ends most English messages' test at their first words.
    if len(tokens) < _UNLISTED_WORDS or _has_grammar([w for w in tokens if len(w) > 1], english):
        return False
    latin = _latin_words(tokens)
    read = [w for w in latin if w not in articles and not known(w) and arabic(w)]
    return len(read) >= _UNLISTED_WORDS and (len(read) + len(articles)) / len(latin) >= (
        _UNLISTED_SHARE
    )


# A sentence and the marks that end it (Arabic ones too).
_SENTENCE = re.compile(r"[^.!?;\n؟؛]+[.!?;\n؟؛]*|[.!?;\n؟؛]+")


def mixes_scripts(text: str) -> bool:
    """Whether ``text`` has both Arabic and Latin letters."""
    return bool(_ARABIC.search(text)) and bool(_LATIN_LETTER.search(text))


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence's end marks; joined, the pieces are ``text``."""
    return _SENTENCE.findall(text)


def to_arabic_script(word: str) -> str:
    """One Arabizi word in Arabic letters ("ta7leel" تحليل, "3andna" عندنا); a rough
    rendering ("sharikti" شريكتي) that ``Matcher`` spells as the base does."""
    w = word.lower().replace("'", "")
    # The feminine plural ("tahdeedat" تهديدات, "sharikat" شركات)
    if len(w) > 4 and w.endswith("at"):
        return to_arabic_script(w[:-2]).removesuffix("ه") + "ات"
    out: list[str] = []
    i, n = 0, len(w)
    while i < n:
        digraph = _DIGRAPHS.get(w[i : i + 2])
        if digraph is not None:
            out.append("ا" + digraph if i == 0 and digraph in "وي" else digraph)
            i += 2
            continue
        c = w[i]
        if c in _VOWELS:
            if i == 0:
                out.append("ا")
            elif i == n - 1:
                # the pronouns -na (our) and -ha (her) end in an alif, as do short words
                short = n <= 4 or w[i - 1] in "nh"
                out.append("ا" if c == "a" and short else _FINAL[c])
            elif c in _LONG:
                out.append(_LONG[c])
            i += 1
            continue
        if c == "2" and i == 0:
            out.append("ا")
        elif c in _LETTERS:
            out.append(_LETTERS[c])
            if w[i + 1 : i + 2] == c:  # a doubled consonant is written once
                i += 1
        i += 1
    return "".join(out)


def read_arabizi(
    text: str,
    keep: Callable[[str], bool],
    resolve: Callable[[str, str], str] = lambda latin, arabic: arabic,
    listed: AbstractSet[str] = frozenset(),
) -> str:
    """``text`` with its Arabizi words in Arabic letters; words for which ``keep`` is true
    (English words the base knows, such as "cybercrime" or "data") stay as typed, and so
    does everything between words (a question mark still ends a question). A word with
    digits and no vowel is a code ("mp3") unless ``listed`` as Arabizi ("m3", مع)."""
    out: list[str] = []
    article = ""
    end = 0
    addresses = [m.span() for m in _ADDRESS.finditer(text)]
    for found in _LATIN_TOKEN.finditer(text):
        if any(a <= found.start() < b for a, b in addresses):
            continue  # copied with the text around it
        between = text[end : found.start()]
        end = found.end()
        token = found.group()
        lower = token.lower()
        if not (article and between.isspace()):
            out.append(between)
        if lower in _ARTICLES:  # joined to the next word
            article = _ARTICLES[lower]
            continue
        if keep(lower) or (is_code(lower) and lower not in listed):
            out.append(token)  # a known English word drops the article before it
        else:
            word = resolve(lower, to_arabic_script(lower))
            if article and word.startswith("ال"):  # the base's spelling has its own
                word = word[2:]
            out.append(article + word)
        article = ""
    out.append(text[end:])
    return "".join(out)


# An emphatic letter is its plain one, which Arabizi types alike ("awsat" is اوسط,
# "shorta" الشرطة, "hacking" هاكينج but "ahmad" احمد), and a word's first hamza an alef
# ("2amn" and "amn"); after the first letter, long vowels and hamzas go. A first و or ي
# stays: it is a consonant there ("wa7ed" واحد is not احد).
_PLAIN_LETTERS = str.maketrans("طصضظحءئؤ", "تسدزهااا")
_WEAK_LETTERS = str.maketrans("طصضظح", "تسدزه", "اويءئؤ")


def arabic_skeleton(word: str) -> str:
    """A folded Arabic word without the article, its long vowels and hamzas after the
    first letter, and with its emphatic letters plain: what an Arabizi spelling, which
    writes vowels as it pleases and an emphatic letter as the plain one, still tells."""
    if word.startswith("ال") and len(word) > 4:
        word = word[2:]
    return word[:1].translate(_PLAIN_LETTERS) + word[1:].translate(_WEAK_LETTERS)


# Arabic letters as Arabizi types them, to compare a word typed with its vowels to the
# base's spellings: "shirakat" is شراكات (shirakat) rather than شركات (sharikat).
_ROMAN = str.maketrans(
    {
        "ا": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "7", "خ": "kh", "د": "d",
        "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t",
        "ظ": "z", "ع": "3", "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m",
        "ن": "n", "ه": "h", "و": "u", "ي": "i", "ء": "2", "ئ": "2", "ؤ": "2", "ة": "a",
    }
)  # fmt: skip
# Spellings that Arabizi uses for one sound, made one on both sides.
_LATIN_SOUND = str.maketrans({"e": "i", "o": "u", "y": "i", "9": "q", "g": "j"})


def sounds(latin: str) -> str:
    """An Arabizi word with letters for one sound made one ("tadreeb" and "tadrib")."""
    return latin.replace("ch", "sh").replace("ee", "i").replace("oo", "u").translate(_LATIN_SOUND)


def romanized(arabic: str) -> str:
    """A folded Arabic word as Arabizi would type it, vowels where letters stand for them
    (a final ه as the feminine a), for comparing with ``sounds`` of a typed word."""
    if arabic.endswith("ه"):
        arabic = arabic[:-1] + "ة"
    return arabic.translate(_ROMAN)
