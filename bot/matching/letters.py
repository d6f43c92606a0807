"""A message pasted from a letter, read without its salutation and its sign-off.

People paste e-mails into the chat: "Dear Sir/Madam, ... Kindly clarify. Regards, Chukwuemeka
Obi, Lagos", «السادة الأفاضل، تحية طيبة وبعد، ... وتفضلوا بقبول فائق الاحترام، سالم
الحارثي، مسقط». The signature's name, title and city are words the base never saw, and a
city or a title ("head of", «الرئيس») names a topic: read with the letter, they dilute its
question or pass for it. The phrases that open a salutation and a sign-off are content
(``letter_openings`` and ``letter_closings`` in knowledge/phrases.yaml); the names after
them cannot be listed, so the sign-off's place in the message, and its shape, say what
they are. Anything that asks or wants is never cut: it is the letter.
"""

from __future__ import annotations

import re

from bot.lexicon import Lexicon
from bot.normalize import fold

# A letter's pieces: up to a comma, a full stop, a colon or a line's end.
_PIECE = re.compile(r"[^,،.!?;؛:\n]+[,،.!?;؛:\n]*")
# What ends a salutation ("Dear team,", «السادة الأفاضل،», "Dear all:"); not a full stop,
# which may close a title ("Dear Mr. Smith,").
_SALUTATION_END = re.compile(r"[,،:!\n]\s*$")
# A salutation is short ("Dear INTERPOL Cybercrime Team,", «السادة فريق الشراكات
# المحترمين،»); a longer piece that opens with "Dear" is already the letter.
SALUTATION_WORDS = 8
# A sign-off and what follows it: a name, a title, a company, a city, a phone number,
# each a short piece. Anything longer is more letter.
SIGNATURE_WORDS = 20
SIGNATURE_PIECE_WORDS = 8
# The sign-off's own piece: its phrase and a few words ("Best regards to you all",
# «وتفضلوا بقبول فائق الاحترام والتقدير»), not a sentence.
SIGN_OFF_EXTRA_WORDS = 4


def letter_body(text: str, lexicon: Lexicon) -> str:
    """``text`` without the salutation it opens with and the sign-off it ends with (see
    the module's docstring); ``text`` itself if it has neither, or if nothing else is left
    ("Dear team,", «مع خالص الشكر»)."""
    if not (lexicon.letter_openings or lexicon.letter_closings):
        return text
    pieces = _PIECE.findall(text)
    if len(pieces) < 2:
        return text  # most messages: nothing to leave out, nor anything left if it were
    # Every message comes through here: fold each piece's first word only, and a whole
    # piece only where a salutation or a sign-off may start.
    heads = [_first_word(piece) for piece in pieces]
    found: dict[int, list[str]] = {}

    def words_of(k: int) -> list[str]:
        if k not in found:
            found[k] = fold(pieces[k]).split()
        return found[k]

    start = 0
    while start < len(pieces) and (
        not heads[start]
        or (
            heads[start] in lexicon.letter_opening_starts
            and _salutation(pieces[start], words_of(start), lexicon)
        )
    ):
        start += 1
    end = len(pieces)
    for i in range(start + 1, len(pieces)):
        if heads[i] not in lexicon.letter_closing_starts:
            continue
        size = _opening(words_of(i), lexicon.letter_closings, lexicon.letter_closing_starts)
        if size:
            tail = [words_of(k) for k in range(i, len(pieces))]
            if _signature(pieces[i:], tail, size, lexicon):
                end = i
            break
    if start == 0 and end == len(pieces):
        return text
    body = "".join(pieces[start:end]).strip()
    return body if fold(body).split() else text


def _first_word(piece: str) -> str:
    """The piece's first word, folded ("" for none)."""
    for token in piece.split():
        folded = fold(token).split()
        if folded:
            return folded[0]
    return ""


def _salutation(piece: str, found: list[str], lexicon: Lexicon) -> bool:
    """Whether a leading piece is a salutation: short, ended by a comma, a colon or a line's
    end, opening with a salutation phrase and asking or wanting nothing ("Dear team how
    can we join?" asks)."""
    if len(found) > SALUTATION_WORDS or not _SALUTATION_END.search(piece):
        return False
    size = _opening(found, lexicon.letter_openings, lexicon.letter_opening_starts)
    return size > 0 and not _asks_or_wants(piece, found, lexicon, size)


def _signature(pieces: list[str], found: list[list[str]], size: int, lexicon: Lexicon) -> bool:
    """Whether a sign-off (its phrase ``size`` words long) and the pieces after it, ``pieces``
    with their folded words ``found``, are a signature: short pieces that ask and want
    nothing."""
    return (
        len(found[0]) <= size + SIGN_OFF_EXTRA_WORDS
        and all(len(words) <= SIGNATURE_PIECE_WORDS for words in found[1:])
        and sum(len(words) for words in found) <= SIGNATURE_WORDS
        and not any(
            _asks_or_wants(piece, words, lexicon, size if k == 0 else 0)
            for k, (piece, words) in enumerate(zip(pieces, found, strict=True))
        )
    )


def _opening(found: list[str], phrases: frozenset[tuple[str, ...]], starts: frozenset[str]) -> int:
    """The length of the listed phrase that ``found`` opens with (longest), or 0."""
    if not found or found[0] not in starts:
        return 0
    return max((len(p) for p in phrases if tuple(found[: len(p)]) == p), default=0)


def _asks_or_wants(piece: str, found: list[str], lexicon: Lexicon, skip: int = 0) -> bool:
    """Whether a piece asks or wants something: a question mark, a question word first
    after the ``skip`` words of its salutation or sign-off phrase ("Greetings how do we
    share data,", "Regards, when is the next conference"), a word of wanting or of knowing
    anywhere («مع الشكر، نرجو إفادتنا بالشروط», "Many thanks, but I need a new passport").
    Only the first word counts as a question word: «من», from, is one too."""
    if "?" in piece or "؟" in piece or lexicon.wants_something(found):
        return True
    if skip < len(found) and lexicon.question_word(found[skip]) is not None:
        return True
    return any(word in lexicon.knowing for word in found)
