"""Checks across files, run by ``load_knowledge_base`` (and so ``partnerbot kb check``) once
every file has been read: problems that no single file shows."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.knowledge.model import Entry, OutOfScopeCue, Problem
from bot.lexicon import Lexicon
from bot.normalize import default_lexicon, fold, is_content, words


def cross_check(
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
    out += _names_as_topic_words(entries, synonyms, where["synonyms"], synonym_lines)
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


# A word in the middle of an English sentence: capitalised there, it is a name.
_MID_SENTENCE_WORD = re.compile(r"(?<![.!?:\n•]\s)(?<!^)\b([A-Za-z][A-Za-z-]+)\b", re.MULTILINE)


def _names_as_topic_words(
    entries: Mapping[str, Entry],
    synonyms: Mapping[str, str],
    synonyms_file: str,
    synonym_lines: Mapping[str, int | None],
) -> list[Problem]:
    """A proper noun made a synonym of a common topic word ("Singapore" -> "premises")
    makes every question naming it look like that topic. Names are read from the
    answers' and titles' English: words capitalised mid-sentence and never written in
    lower case; common words are the ones written in lower case there."""
    capitalised: set[str] = set()
    lower: set[str] = set()
    for entry in entries.values():
        for text in (entry.title.get("en", ""), entry.answer.get("en", "")):
            for match in _MID_SENTENCE_WORD.finditer(text):
                word = match.group(1)
                (lower if word.islower() else capitalised).add(word.lower())
    names = capitalised - lower
    return [
        Problem(
            synonyms_file,
            synonym_lines.get(word),
            None,
            "groups",
            f"'{word}' is a name (written capitalised in the answers) in the group of the "
            f"common word '{head}': a name should only join other names for the same thing",
        )
        for word, head in synonyms.items()
        if word.lower() in names and head.lower() in lower
    ]


def check_offers(
    cues: list[OutOfScopeCue], entries: Mapping[str, Entry], cues_file: str
) -> list[Problem]:
    """A cue's ``offer`` must name an entry that loaded."""
    return [
        Problem(cues_file, cue.line, None, "offer", f"unknown entry id '{cue.offer}'")
        for cue in cues
        if cue.offer is not None and cue.offer not in entries
    ]
