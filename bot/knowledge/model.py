"""The knowledge base as the bot sees it: entries, out-of-scope cues and the lexicon.

What went wrong while loading it is a list of ``Problem`` (file, line, entry, field),
raised together as one ``KnowledgeBaseError``. Reading and checking the YAML is
``bot.knowledge.loader``'s job; this module holds no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bot.lexicon import Lexicon
from bot.normalize import Lang

LANGS: tuple[Lang, ...] = ("en", "ar")
# The intent (knowledge/intents.yaml) that opens the partnership form before any answer.
APPLY_INTENT = "apply"


@dataclass(frozen=True)
class Entry:
    id: str
    title: Mapping[Lang, str]
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Mapping[Lang, str]
    keywords: Mapping[Lang, tuple[str, ...]] = field(default_factory=dict)
    # The answer's closing invitation to leave one's details ("Tap Become a partner..."):
    # left out, with the button, for a partner already filling in the form.
    invite: Mapping[Lang, str] = field(default_factory=dict)
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
    # When set, a cue word used only in the statements of a message that asks something
    # ("I'm head of security at a bank. How do we share data?") does not count: it
    # describes the sender. A clause that wants something is a request, not a statement
    # (see ``clauses.told_words``); a message that asks nothing is held as before.
    asked: bool = False
    # A line of the fallback that tells where such requests go instead (one of HINTS):
    # "a passport or a visa: your embassy or the local police".
    hint: str | None = None
    line: int | None = None


# The fallback's lines for requests the bot is not for (templates/*/fallback.j2).
HINTS = ("personal",)


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
    # Labelled questions (examples/*.yaml): (entry id, question), for the learned weights.
    examples: tuple[tuple[str, str], ...] = ()

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
