"""Typed answers to the form's button steps ("نعم", "no thanks", "تخطي"), read from
``knowledge/replies.yaml`` so the words are content, not code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from bot.normalize import fold

Reply = Literal["yes", "no", "skip"]
KINDS: tuple[Reply, ...] = ("yes", "no", "skip")


class ReplyWords:
    def __init__(self, words: Mapping[str, Iterable[str]]) -> None:
        self.phrases: dict[str, Reply] = {}
        self.words: dict[Reply, set[str]] = {kind: set() for kind in KINDS}
        for kind in KINDS:
            for phrase in words.get(kind, ()):
                folded = fold(phrase)
                if not folded:
                    continue  # "-" and the like fold to nothing
                self.phrases.setdefault(folded, kind)
                self.words[kind].update(folded.split())

    def read(self, text: str, *, also: Mapping[str, Reply] | None = None) -> Reply | None:
        """What a typed message answers, if it is one of the listed replies.

        ``also`` adds phrases for this call (a button's own label typed as text).
        """
        folded = fold(text)
        if not folded:
            return None
        for phrase, kind in (also or {}).items():
            if folded == fold(phrase):
                return kind
        if folded in self.phrases:
            return self.phrases[folded]
        tokens = folded.split()
        if not tokens:
            return None
        for kind in KINDS:
            if all(token in self.words[kind] for token in tokens):
                return kind
        return None
