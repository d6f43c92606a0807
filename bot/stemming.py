"""Stemming: Arabic clitics and endings, English inflection.

Three keys of decreasing precision, all taking a folded word (see ``normalize.fold``):

- ``stem``: what a reader would call the same word. The article, and a conjunction or
  preposition in front of it (وال، بال، فال، لل، and dialect عال "on the", هال "this"),
  pronoun and plural endings, English inflection. Safe without a dictionary.
- ``readings``: the other ways a word may split when a one-letter clitic stands before
  a bare word (ف ب ك ل و: فكينيا، لشركتنا), a dialect verb prefix (ب- بنشتغل، ح- حنشارك),
  negation wrapped around it (ما...ش), or a ت that was a ة before a pronoun (شركتنا).
  A verb also reads as its verbal noun (masdar), which is how the knowledge base names
  what partners do: ندرب -> تدريب, نشارك -> مشاركة, نتعاون -> تعاون (``verb_readings``).
  Such a split is often wrong (بيانات is not ب + يانات), so the matcher keeps a reading
  only when its stem is a word the knowledge base knows: that is the guard.
- ``deep_stem``: a coarse fallback key, verb prefixes and endings off.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

_ARABIC_LETTER = re.compile("[\u0621-\u064a]")

_EN_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ations", "ate"),
    ("ation", "ate"),
    ("ments", ""),
    ("ment", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ers", "er"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)


def _article_prefixes(prepositions: str) -> tuple[str, ...]:
    """The article with what may be attached before it, longest first: a conjunction
    (و ف), then one of ``prepositions``, then ال (ل + ال is written لل)."""
    out = []
    for conjunction in ("", "و", "ف"):
        for preposition in ("", *prepositions):
            out.append(conjunction + preposition + "ال")
        out.append(conjunction + "لل")
    return tuple(sorted(set(out), key=len, reverse=True))


_AR_ARTICLES = _article_prefixes("بك")
# Dialect ع (على "on": عالنت) and ه (هذا "this": هالمؤتمر) before the article are only
# readings: عالمية (global) and هالة are words of their own.
_AR_DIALECT_ARTICLES = tuple(p for p in _article_prefixes("بكعه") if p not in _AR_ARTICLES)
# Pronoun and plural endings, longest first. No bare "ه" (his/its): after folding it is
# also the feminine ending ة, and stripping it made "دورة" (a course) the same word as
# "دوركم" (your role). No bare "ك" (your): شريك, بنك. The feminine plural "ات" becomes
# the feminine ending instead ("دورات" -> "دوره"), so singular and plural meet.
_AR_SUFFIXES: tuple[str, ...] = (
    "يات", "هما", "كما", "ون", "ين", "يه", "ها", "هم", "هن", "كم", "كن", "كو", "نا", "وا", "ي",
)  # fmt: skip
_AR_FEMININE_PLURAL = "ات"
_NISBA_ENDINGS = ("ي", "يه")
# Shortest stem an affix may leave: a three-letter root survives every rule.
_AR_MIN_STEM = 3
# One-letter clitics before a word without the article: و ف (and, so), ب ك ل (with,
# like, for). Two may stack (وب، فل، ول).
_AR_CLITICS = "وفبكل"
# Dialect present-tense markers before the imperfect prefix: بنشتغل، حنشارك، بيعمل.
_AR_TENSE_MARKERS = "بح"
_AR_IMPERFECT = "يتنا"
# For ``deep_stem``: the prefixes of present-tense verbs, and verb endings.
_AR_VERB_PREFIXES = "يتنا"
_AR_DEEP_SUFFIXES: tuple[str, ...] = (
    "تهم", "تها", "وها", "وهم", "وكم", "لكم", "ولك", "يا",
    "وا", "ين", "ون", "ان", "ات", "كم", "نا", "ها", "هم", "ك", "ه", "ي", "و", "ت",
)  # fmt: skip
# Maghrebi and Egyptian negation around a verb: ما يقدرش، مايقدرش، ميعرفش.
# Only a reading: ش ends many words (بلّش "to start", منبلّش "we start").
_WRAPPED_NEGATION = re.compile("^(?:ما|م(?=[يتب]))([\u0621-\u064a]{3,})ش$")

# For ``verb_readings``: what may stand around an imperfect verb. Before it, one
# conjunction or the ل of purpose (وندرب، فنشارك، لنطور), then one dialect tense marker:
# ب (بندرب), ح (حنشارك), ع (عنشتغل, short for عم), and the Maghrebi ك (كنشاركو).
_VERB_CLITICS = "وفل"
_VERB_TENSE_MARKERS = "بحعك"
# Letters that may be a long vowel rather than a root consonant (see ``_form_ii``).
_WEAK_LETTERS = "وي"
# After it: a subject ending (plural -وا/-ون/-و, feminine -ين), an object pronoun, or
# both (ندربوكم), or a pronoun after the dative ل (ندربلكم). At most one of these is taken
# off, and each is only tried: the core left must still fit a pattern below exactly.
_DATIVE_STARTS = ("ل", "ول")
_VERB_ENDINGS: tuple[str, ...] = (
    "ولكم", "ولنا", "ولهم", "وكم", "وهم", "وها", "لكم", "لنا", "لهم", "لها",
    "وا", "ون", "ين", "كم", "كو", "هم", "ها", "نا", "و", "ه",
)  # fmt: skip


def is_arabic(word: str) -> bool:
    """Whether ``word`` starts with an Arabic letter."""
    return bool(_ARABIC_LETTER.match(word))


# Stems are pure functions of the word, and questions reuse a small vocabulary: caching
# them made matching about a fifth faster. Bounded, so a flood of odd words cannot grow it:
# every per-word table uses this bound, and at 1 << 16 a matcher fed 200,000 made-up words
# grew by 53 MB (13 MB now), against a worker's budget of 120 MB.
WORD_CACHE = 1 << 14


@functools.lru_cache(maxsize=WORD_CACHE)
def stem(token: str) -> str:
    """Light stemming: enough to join plurals and attached articles, never aggressive."""
    if is_arabic(token):
        bare = _without_article(token)
        # Every article prefix has two letters or more (ال, لل, وبال); a lone و has one.
        return _arabic_endings(bare, with_article=len(token) - len(bare) >= 2)
    if token.isascii() and len(token) > 4:
        return _english(token)
    return token


def _by_first_letter(affixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Affixes grouped by their first letter, in their given order (a lookup, not a scan)."""
    out: dict[str, list[str]] = {}
    for affix in affixes:
        out.setdefault(affix[0], []).append(affix)
    return {letter: tuple(group) for letter, group in out.items()}


def _by_last_letter(affixes: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for affix in affixes:
        out.setdefault(affix[-1], []).append(affix)
    return {letter: tuple(group) for letter, group in out.items()}


_ARTICLES_BY_LETTER = _by_first_letter(_AR_ARTICLES)
_SUFFIXES_BY_LETTER = _by_last_letter(_AR_SUFFIXES)
# Letters a reading can start from: clitics, dialect ع/ه before the article, tense markers,
# the م of wrapped negation.
_READING_STARTS = frozenset(_AR_CLITICS + _AR_TENSE_MARKERS + "عهم")


def _without_article(word: str) -> str:
    for prefix in _ARTICLES_BY_LETTER.get(word[:1], ()):
        if word.startswith(prefix) and len(word) - len(prefix) >= _AR_MIN_STEM:
            return word[len(prefix) :]
    if word.startswith("و") and len(word) - 1 >= _AR_MIN_STEM:
        return word[1:]
    return word


def _arabic_endings(word: str, *, with_article: bool = False) -> str:
    if with_article and word.endswith(_NISBA_ENDINGS):
        # The article and a possessive pronoun never stand on one noun, so after the
        # article a final ي or يه is the adjective ending (nisba) of a word of its own:
        # الرقمي, الرقمية (digital) are not رقم (a number) with "my" or "his". Both
        # genders meet in the ي.
        return word[:-1] if word.endswith("يه") else word
    for suffix in _SUFFIXES_BY_LETTER.get(word[-1:], ()):
        if word.endswith(suffix) and len(word) - len(suffix) >= _AR_MIN_STEM:
            word = word[: -len(suffix)]
            break
    if word.endswith(_AR_FEMININE_PLURAL) and len(word) >= 5 and not word.endswith("يات"):
        return word[:-2] + "ه"
    return word


def _english(token: str) -> str:
    for suffix, replacement in _EN_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            token = token[: -len(suffix)] + replacement
            break
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]
    return token


@functools.lru_cache(maxsize=WORD_CACHE)
def readings(word: str) -> tuple[str, ...]:
    """Stems of the other ways the folded Arabic ``word`` may split, most likely first.

    Never ``stem(word)`` itself; empty for English. The caller keeps a reading only when
    it is a known word (see the module's docstring).
    """
    if not is_arabic(word):
        return ()
    plain = stem(word)
    out: list[str] = []

    def add(form: str) -> None:
        for candidate in (stem(form), _restored_feminine(form)):
            if candidate and candidate != plain and candidate not in out:
                out.append(candidate)

    add(word)
    if word[0] in _READING_STARTS:
        _clitic_readings(word, add)
    # Last, the least literal: the word read as a verb in another person or as its masdar.
    for candidate in verb_readings(word):
        if candidate != plain and candidate not in out:
            out.append(candidate)
    return tuple(out)


def _clitic_readings(word: str, add: Callable[[str], None]) -> None:
    """``add`` each split of a clitic, tense marker or negation off ``word``."""
    negated = _WRAPPED_NEGATION.match(word)
    if negated:
        add(negated.group(1))
    for prefix in _AR_ARTICLES + _AR_DIALECT_ARTICLES:
        if prefix not in ("ال", "لل") and word.startswith(prefix) and len(word) > len(prefix) + 1:
            add("ال" + word[len(prefix) :])
            break
    rest = word
    for _ in range(2):
        if len(rest) - 1 < _AR_MIN_STEM or rest[0] not in _AR_CLITICS:
            break
        rest = rest[1:]
        add(rest)
    if word[0] in _AR_TENSE_MARKERS and len(word) >= 5 and word[1] in _AR_IMPERFECT:
        add(word[1:])


@functools.lru_cache(maxsize=WORD_CACHE)
def verb_readings(word: str) -> tuple[str, ...]:
    """What the folded ``word`` reads as when it is an imperfect verb, most literal first:
    a form V or VI verb in the other persons, then the verbal nouns (masdars) of the
    derived forms it fits; empty when it fits none.

    Partners write verbs where the knowledge base names the activity by its masdar:
    بدنا ندرب موظفينا, كيف نشارك, نتدرب against تدريب, مشاركة, تدرب. The derived forms
    have regular masdars, so the verb's core (clitic, tense marker, person prefix and
    ending off) gives them by pattern, with no word list (see ``_masdars``). Unvoweled,
    many words fit a pattern by chance, so these are only readings: the matcher keeps one
    only when it is a word the knowledge base knows.

    A form V or VI verb (يتدرب, نتشارك) first reads as itself in the other persons: its
    masdar (تدرب, تشارك) is also how a plainer verb looks in the second person ("you
    share"), and the base may hold that word as that other verb. The prefix pair (تت نت
    يت) leaves no doubt that these are verbs; nor does a dialect tense marker (كيحضر,
    بيتعمل), after which any verb reads in the other persons (يحضر as نحضر). Persons are
    stemmed, as the base's own verbs are; a masdar is returned whole, since it is a noun by
    construction and the stemmer would take its last letters for an ending (تعدين, mining,
    is not تعد).
    """
    if not is_arabic(word) or len(word) < 4:
        return ()
    out: list[str] = []
    cores = _verb_cores(word)
    for person, core, marked in cores:
        if core[0] != "ت" and not marked:
            continue
        for other in _AR_IMPERFECT:
            # The verb's own person too, when an ending came off (نبعتلكم as نبعت); with
            # none, that is the word itself, which ``readings`` leaves out.
            if other != person or marked:
                candidate = stem(other + core)
                if candidate not in out:
                    out.append(candidate)
    for _, core, _ in cores:
        for noun in _masdars(core):
            if noun not in out:
                out.append(noun)
    return tuple(out)


def _verb_cores(word: str) -> list[tuple[str, str, bool]]:
    """(person prefix, core, marked) for each way ``word`` splits as an imperfect verb:
    an optional clitic and tense marker, the person prefix (ن ي ت ا, required), then the
    rest with and without one ending. ``marked``: a tense marker stood before the person
    prefix (كيحضر، بيتعمل), which only a verb has."""
    starts = [(word, False)]
    if word[0] in _VERB_CLITICS:
        starts.append((word[1:], False))
    for start, _ in list(starts):
        if len(start) > 1 and start[0] in _VERB_TENSE_MARKERS and start[1] in _AR_IMPERFECT:
            starts.append((start[1:], True))
    cores: list[tuple[str, str, bool]] = []
    for start, marked in starts:
        if len(start) < 4 or start[0] not in _AR_IMPERFECT:
            continue
        person, body = start[0], start[1:]
        cores.append((person, body, marked))
        for ending in _VERB_ENDINGS:
            if body.endswith(ending) and len(body) - len(ending) >= 3:
                # A pronoun after the dative ل is attached to verbs only (نبعتلكم,
                # "we send you"): like a tense marker, it says the word is a verb.
                dative = ending.startswith(_DATIVE_STARTS)
                cores.append((person, body[: -len(ending)], marked or dative))
    return cores


def _masdars(core: str) -> tuple[str, ...]:
    """The masdars of the derived forms whose imperfect stem is ``core``, folded as
    ``normalize.fold`` writes them (ة as ه). Form I has no regular masdar: not guessed.

    C1 C2 C3 is form II (درب -> تدريب, see ``_form_ii``); C1 ا C2 C3 form III
    (شارك -> مشاركه); ت C1 C2 C3 form V (تدرب -> تدرب, and تدريب of the same root);
    ت C1 ا C2 C3 form VI (تعاون -> تعاون); ست C1 C2 C3 form X (ستخدم -> استخدام).
    """
    size = len(core)
    if size == 3:
        return _form_ii(core)
    if size == 4 and core[1] == "ا":
        return ("م" + core + "ه",)
    if size == 4 and core[0] == "ت":
        return (core, *_form_ii(core[1:]))
    if size == 5 and core[0] == "ت" and core[2] == "ا":
        return (core,)
    if size == 5 and core.startswith("ست"):
        return ("است" + core[2:4] + "ا" + core[4],)
    return ()


def _form_ii(root: str) -> tuple[str, ...]:
    """The form II masdar تفعيل of a three-letter root, if it is one to offer.

    Not with a weak middle letter: يكون، يقول، يزور are far more often hollow verbs of
    form I, whose masdar is irregular, and يتكون (consists of) is not formed by someone;
    their form II masdar would name something else (تكوين is training, تزوير forgery).
    """
    if root[1] in _WEAK_LETTERS:
        return ()
    return ("ت" + root[:2] + "ي" + root[2],)


def _restored_feminine(word: str) -> str:
    """``شركتنا`` -> ``شركه``: a ة is written ت before a pronoun ending ("" if none)."""
    base = _without_article(word)
    for suffix in _SUFFIXES_BY_LETTER.get(base[-1:], ()):
        if base.endswith(suffix) and len(base) - len(suffix) >= 4:
            rest = base[: -len(suffix)]
            if rest.endswith("ت") and not rest.endswith("ات"):
                return rest[:-1] + "ه"
            return ""
    return ""


@functools.lru_cache(maxsize=WORD_CACHE)
def deep_stem(word: str) -> str:
    """A coarser key than ``stem`` for an Arabic word: clitics, verb prefixes and endings off.

    ``stem`` keeps apart words that a reader keeps apart; ``deep_stem`` is the
    fallback for words the knowledge base does not know as such, so that
    ``بتشتغلوا``, ``تشتغل`` and ``يشتغل`` meet, and ``بأدوات`` finds ``أدوات``.
    Takes a folded word; three letters always remain. English is returned as is.
    """
    if not is_arabic(word):
        return word
    for prefix in _AR_ARTICLES:
        if word.startswith(prefix) and len(word) - len(prefix) >= _AR_MIN_STEM:
            word = word[len(prefix) :]
            break
    else:
        if len(word) >= 5 and word[0] in _AR_CLITICS:
            word = word[1:]
    if len(word) >= 4 and word[0] in _AR_VERB_PREFIXES:
        word = word[1:]
    for _ in range(2):
        for suffix in _AR_DEEP_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= _AR_MIN_STEM:
                word = word[: -len(suffix)]
                break
    return word
