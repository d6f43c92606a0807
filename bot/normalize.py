"""Text normalisation for matching: Arabic-aware folding, tokens, stems, language.

rapidfuzz's ``default_process`` replaces Arabic diacritics with spaces
(``شَرِاكَة`` becomes ``ش ر اك ة``), so everything is folded here first and the
matcher only ever sees the folded tokens.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

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
_LATIN_LETTER = re.compile("[a-zA-Z]")

# Function words in both languages, dialect included: they must never decide a match.
# Arabic is listed in folded form (see ``fold``): no hamza on alef, ى as ي, ة as ه.
_STOP_WORDS_TEXT = """
    a an the of to in on at for from by with about into over as and or but if so than then
    is are was were be been being am do does did doing done have has had having can could
    will would shall should may might must i me my we us our ours you your yours he she it
    its they them their this that these those there here what which who whom whose when
    where how any some all each more most such own same very just also too
    not no yes please pls plz u ur r im i'm it's whats what's tell know want wanna like
    get got let lets something anything thing things kindly ok okay
    much many really need dear sir madam
    re ve ll d t s don dont doesn doesnt isn isnt aren arent didn didnt cant wont won
    haven havent hasn hasnt wasn wasnt weren werent couldn couldnt wouldn wouldnt shouldn
    even actually exactly basically somehow anyone anybody
    via per onto upon whether yet still ya yeah gonna guys folks
    represent representing someone somebody stuff right under
    love keen eager willing hoping
    kif kifak shu sho esh eh ezay izzay el bedi bedha bedna bidna
    في من الى الي على عن مع او ام ثم ان انه انها هل ما ماذا كيف متى اين هو هي هم هن انا
    نحن انت انتم انتن هذا هذه ذلك تلك هؤلاء التي الذي الذين اللي لي لك له لها لنا لكم
    لهم به بها بكم بنا فيه فيها فيكم منه منها منكم عنه عنها عنكم كان كانت يكون تكون قد
    لقد كل بعض اي لا لم لن ليس بين عند عندكم عندنا عندي اذا لو حتى ايضا كذلك هناك هنا
    شو ايش وش اش شنو شنهو شلون ازاي ازاى كيفاش فين وين وينكم امتى متى مين
    منو شي شيء اشي حاجه حاجة بدي بدنا ابي ابغى ابغي نبي نبغى نبغي نبا عايز عاوز عايزين
    نريد اريد يريد تريد ممكن نقدر اقدر يقدر تقدر يمكن يمكنني يمكننا نستطيع استطيع
    يا طيب لو سمحت فضلك رجاء رجاءا اخبرني قول قولي قل خبرني ابغا بغيت بغينا
    الذي التي الى لدي لدى لديكم لدينا لديك يعني مثلا بخصوص حول خلال نحو ضد بعد قبل جدا فقط
    كمان برضه برضو بس هيك هيدا هيدي هاد هادا هادي هدول هذول هذي هاذا هاذي ده دي دول كده كدا
    اوي مش مو مب ماهو ماهي شحال شكون واش ديال ديالي ديالنا ديالكم ديالهم كاين كاينه
    كاينين دابا واخا بزاف نقدرو تقدرو عاوزين بتاع بتاعه بتاعت بتاعتكم بتاعكم بتاعنا الحين
    عشان علشان منشان مشان لانه لان عم رح راح حا ح تبع تبعي تبعنا تبعكم حقي حقنا حقكم حق
    وياها ويانا وياكم اكو ماكو هواي قديش اديش كام بكام كم قد وش هو ايه ايش هي هوما
    معاكم معكم معانا معنا عليكم علينا عليه عليها عليا علي لكو الكم انتو انتوا احنا احنا
    ودي ودنا حابب حابين نحب نود اود نرغب ارغب يرجي يرجى
    يسوي تسوي بيسوي بيساوي يساوي نسوي بيعمل بتعمل يعمل تعمل نعمل نعملها اعمل بعمل بتعملوه
    فعل دار قام سوي اسوي
    طرق طريقه طريقة كيفية كيفيه احد لعدة عدة
    main primary principal رئيسي الرئيسي رئيسية الرئيسية
    بالظبط بالضبط اصلا فعلا طيب اوك اوكي يلا
    نكدر اكدر تكدر يكدر نكدرو ويا وياي ويانا بتاعي بتاعنا بتاعتنا ديالي بلا بدون واحد حدا
    يقدرش نقدرش تقدرش كنقدرو كيقدر كنبغيو بغيت بغينا نبغيو
    """


# Question words that carry an intent ("why partner?") but must never make a
# match on their own: the matcher weighs them lightly and ignores a question
# made of nothing else.
WEAK_WORDS: frozenset[str] = frozenset("why ليش ليه لماذا علاش only".split())

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
# Longest first; a prefix is stripped only when a stem of three letters remains.
_AR_PREFIXES: tuple[str, ...] = (
    "وبال", "وال", "بال", "كال", "فال", "ولل", "فلل", "لل", "ال", "و",
)  # fmt: skip
# No bare "ه" (his/its): after folding it is also the feminine ending ة, and stripping it
# made "دورة" (a course) the same word as "دوركم" (your role). The feminine plural "ات"
# becomes that ending instead ("دورات" -> "دوره", "شركات" -> "شركه"), so a noun's
# singular and plural still meet.
_AR_SUFFIXES: tuple[str, ...] = ("يات", "ون", "ين", "يه", "ها", "هم", "كم", "نا", "ي")
_AR_FEMININE_PLURAL = "ات"
# For ``deep_stem``: one-letter clitics and the prefixes of present-tense verbs
# (dialect ``ب`` included: بيعمل، بتشتغلوا), and the pronoun/plural endings of verbs.
_AR_CLITICS = "وفبلك"
_AR_VERB_PREFIXES = "يتنا"
_AR_DEEP_SUFFIXES: tuple[str, ...] = (
    "تهم", "تها", "وها", "وهم", "وكم", "لكم", "ولك", "يا",
    "وا", "ين", "ون", "ان", "ات", "كم", "نا", "ها", "هم", "ك", "ه", "ي", "و", "ت",
)  # fmt: skip


# Chat shorthand, expanded before stop words are dropped: "cn u help" is "can you
# help", "mena wg" is "mena working group". Folded keys; values are plain words.
_SHORTHAND: dict[str, tuple[str, ...]] = {
    key: tuple(value.split())
    for key, value in {
        "u": "you", "ur": "your", "urs": "yours", "r": "are", "y": "why", "n": "and",
        "w": "with", "hw": "how", "cn": "can", "wat": "what", "wht": "what", "wot": "what",
        "wud": "would", "cud": "could", "cld": "could", "shud": "should", "sum1": "someone",
        "some1": "someone", "any1": "anyone", "abt": "about", "bc": "because", "coz": "because",
        "cuz": "because", "thru": "through", "tho": "though", "pls": "please", "plz": "please",
        "wanna": "want to", "gotta": "have to", "gimme": "give me", "lemme": "let me",
        "wg": "working group", "wgs": "working groups", "ppp": "public private partnership",
        "ppps": "public private partnerships", "pvt": "private", "govt": "government",
        "org": "organisation", "orgs": "organisations", "intl": "international",
        "ppl": "people",
    }.items()
}  # fmt: skip
# Two words that make one: "in-kind" support is not a kind of support, "sign up" is one verb.
_COMPOUNDS: dict[tuple[str, str], str] = {
    ("in", "kind"): "inkind", ("sign", "up"): "signup", ("on", "board"): "onboard",
    ("on", "site"): "onsite", ("e", "mail"): "email", ("team", "up"): "teaming",
    ("teaming", "up"): "teaming", ("teamed", "up"): "teamed", ("reach", "out"): "reach",
    ("open", "source"): "opensource", ("make", "sense"): "sense",
    ("not", "listed"): "unlisted", ("not", "mentioned"): "unlisted", ("t", "mentioned"): "unlisted",
    ("not", "covered"): "unlisted", ("not", "included"): "unlisted", ("t", "listed"): "unlisted",
    ("information", "technology"): "infotech", ("تقنيه", "المعلومات"): "infotech",
    ("تكنولوجيا", "المعلومات"): "infotech", ("وتقنيه", "المعلومات"): "infotech",
    ("information", "security"): "infosec", ("امن", "المعلومات"): "infosec",
    ("other", "than"): "besides", ("apart", "from"): "besides", ("except", "for"): "besides",
}  # fmt: skip
# Everyday phrases whose words mislead one by one: "lend a hand" is help, not a loan
# of staff; "chip in" is to contribute; the "next meeting" is a date the base does
# not give. Folded words; longest phrases are tried first.
_IDIOMS: dict[tuple[str, ...], str] = {
    ("lend", "a", "hand"): "help", ("give", "a", "hand"): "help", ("helping", "hand"): "help",
    ("lend", "us", "a", "hand"): "help", ("give", "us", "a", "hand"): "help",
    ("chip", "in"): "contribute", ("pitch", "in"): "contribute", ("do", "our", "part"): "contribute",
    ("do", "our", "bit"): "contribute", ("get", "on", "board"): "join", ("come", "on", "board"): "join",
    ("hand", "over"): "give", ("pass", "on"): "share", ("pass", "along"): "share",
    ("based", "at"): "stationed at", ("next", "meeting"): "upcoming meeting", ("next", "meetings"): "upcoming meetings",
    ("next", "conference"): "upcoming conference", ("next", "edition"): "upcoming edition",
    ("on", "their", "own"): "alone", ("on", "its", "own"): "alone", ("on", "our", "own"): "alone",
    ("on", "your", "own"): "alone", ("by", "itself"): "alone", ("by", "ourselves"): "alone",
    # small talk: every word of "how are you" is a stop word on its own
    ("how", "are", "you"): "wellbeing", ("how", "are", "u"): "wellbeing", ("how", "r", "u"): "wellbeing",
    ("how", "do", "you", "do"): "wellbeing",
    ("how", "many"): "number", ("or", "just"): "or only", ("or", "merely"): "or only", ("on", "the", "table"): "available",
    # hedges: "some kind of agreement" asks about the agreement, not about kinds
    ("some", "kind", "of"): "", ("some", "sort", "of"): "", ("sort", "of"): "",
    # founding a company is not joining a partnership
    ("register", "a", "company"): "incorporate company", ("set", "up", "a", "company"): "incorporate company",
    ("register", "a", "business"): "incorporate business", ("start", "a", "company"): "incorporate company",
    ("start", "a", "business"): "incorporate business", ("open", "a", "company"): "incorporate company",
}  # fmt: skip
_IDIOM_SIZES = sorted({len(key) for key in _IDIOMS}, reverse=True)
_IDIOM_STARTS = frozenset(key[0] for key in _IDIOMS)
# After "besides training", "ما عدا التدريب", the next few words name what is NOT asked for.
_EXCLUDERS = frozenset({"besides", "except", "excluding", "عدا", "بخلاف", "سوى"})
_EXCLUDED_SPAN = 4
# A list that runs past the span ("besides data, people, tools and training") ends
# with the word after its conjunction: the span stretches to take it in.
_CONJUNCTIONS = frozenset({"and", "or", "nor", "و", "او"})
# Maghrebi and Egyptian negation wraps the verb: "ما يقدرش" is "ما يقدر".
_NEGATORS = frozenset({"ما", "مش", "مو", "ماشي"})


def fold(text: str) -> str:
    """Lower-case and fold the orthographic variants that users type interchangeably."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _ARABIC_MARKS.sub("", text)
    text = text.translate(_LETTER_FOLD).lower()
    return _NON_WORD.sub(" ", text).strip()


STOP_WORDS: frozenset[str] = frozenset(fold(_STOP_WORDS_TEXT).split())
# Arabic stop words of three letters and more, and what may be attached before them.
# Two are also nouns that matter: "الدول" (the countries), "الطرق" (the ways to partner).
_LONG_STOP_WORDS = frozenset(
    w for w in STOP_WORDS if len(w) >= 3 and _ARABIC_LETTER.match(w) and w not in ("دول", "طرق")
)
_ARABIC_ATTACHED: tuple[str, ...] = ("وال", "ال", "و")
_ARABIC_ATTACHED_STARTS = frozenset(p[0] for p in _ARABIC_ATTACHED)


def stem(token: str) -> str:
    """Light stemming: enough to join plurals and attached articles, never aggressive."""
    if _ARABIC_LETTER.match(token):
        for prefix in _AR_PREFIXES:
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                token = token[len(prefix) :]
                break
        if token.endswith(_AR_FEMININE_PLURAL) and len(token) >= 5 and not token.endswith("يات"):
            return token[:-2] + "ه"
        for suffix in _AR_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                return token[: -len(suffix)]
        return token
    if token.isascii() and len(token) > 4:
        for suffix, replacement in _EN_SUFFIXES:
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                token = token[: -len(suffix)] + replacement
                break
        if token.endswith("e") and len(token) > 4:
            token = token[:-1]
    return token


def deep_stem(word: str) -> str:
    """A coarser key than ``stem`` for an Arabic word: clitics, verb prefixes and endings off.

    ``stem`` keeps apart words that a reader keeps apart; ``deep_stem`` is the
    fallback for words the knowledge base does not know as such, so that
    ``بتشتغلوا``, ``تشتغل`` and ``يشتغل`` meet, and ``بأدوات`` finds ``أدوات``.
    Takes a folded word; three letters always remain. English is returned as is.
    """
    if not _ARABIC_LETTER.match(word):
        return word
    for prefix in _AR_PREFIXES[:-1]:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    else:
        if len(word) >= 5 and word[0] in _AR_CLITICS:
            word = word[1:]
    if len(word) >= 4 and word[0] in _AR_VERB_PREFIXES:
        word = word[1:]
    for _ in range(2):
        for suffix in _AR_DEEP_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
    return word


def words(text: str) -> list[str]:
    """Folded words of ``text``, chat shorthand expanded and negation suffixes off."""
    out: list[str] = []
    previous = ""
    skip = 0
    trailing = False
    for word in _idioms(fold(text).split()):
        compound = _COMPOUNDS.get((previous, word))
        expansion = _SHORTHAND.get(word)
        after_list, trailing = trailing, False
        if skip:
            skip -= 1
            if word in _CONJUNCTIONS:
                skip = max(skip, 1)
            trailing = not skip
        elif after_list and word in _CONJUNCTIONS:
            skip = 1
        elif compound is not None and out and out[-1] == previous:
            out[-1] = compound
            if compound in _EXCLUDERS:
                skip = _EXCLUDED_SPAN
        elif word in _EXCLUDERS:
            out.append(word)
            skip = _EXCLUDED_SPAN
        elif expansion is not None:
            out.extend(expansion)
        elif previous in _NEGATORS and len(word) >= 4 and word.endswith("ش"):
            out.append(word[:-1])
        else:
            out.append(word)
        previous = word
    return out


def _idioms(found: list[str]) -> list[str]:
    """``found`` with every idiom (see ``_IDIOMS``) replaced by the word it means."""
    if _IDIOM_STARTS.isdisjoint(found):
        return found
    out: list[str] = []
    i = 0
    while i < len(found):
        for size in _IDIOM_SIZES:
            meaning = _IDIOMS.get(tuple(found[i : i + size]))
            if meaning is not None:
                out.extend(meaning.split())
                i += size
                break
        else:
            out.append(found[i])
            i += 1
    return out


def is_content(word: str) -> bool:
    """Whether a folded word counts: not a stop word, not a single letter (digits do).

    An Arabic stop word stays one behind the article or the conjunction و
    ("الطريقة", "وحابين").
    """
    if word in STOP_WORDS:
        return False
    if word[:1] in _ARABIC_ATTACHED_STARTS:
        for prefix in _ARABIC_ATTACHED:
            if word.startswith(prefix) and word[len(prefix) :] in _LONG_STOP_WORDS:
                return False
    return len(word) > 1 or word.isdigit()


def content_words(text: str) -> list[str]:
    """Folded words of ``text`` without stop words and single letters (digits stay)."""
    return [w for w in words(text) if is_content(w)]


def tokens(text: str, *, keep_stop_words: bool = False) -> list[str]:
    """Folded, stemmed content tokens of ``text`` (stop words dropped unless asked)."""
    found = words(text) if keep_stop_words else content_words(text)
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
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic == 0 and latin == 0:
        return default
    arabic_words = sum(1 for word in text.split() if _ARABIC_LETTER.search(word))
    if arabic >= latin or arabic_words >= 2:
        return "ar"
    return "en"
