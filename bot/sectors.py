"""Which sector a typed answer names, read by meaning from ``knowledge/sectors.yaml``.

Kept apart from the form so the vocabulary is content a maintainer edits, and the
matching reuses the question normaliser (folding, stems) rather than exact strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from bot.normalize import fold, tokens

OTHER = "other"
# Shorter words must match exactly: "it", "ai", "بنك" are too short to be prefixes.
_PREFIX_MIN = 4


class SectorLexicon:
    def __init__(self, words: Mapping[str, Sequence[str]]) -> None:
        self.order = list(words)
        self.phrases = {fold(w): sector for sector, ws in words.items() for w in ws}
        self.stems: dict[str, set[str]] = {
            sector: {t for w in ws for t in tokens(w, keep_stop_words=True)}
            for sector, ws in words.items()
        }

    def sector_of(self, text: str) -> str:
        """The sector ``text`` names, or "other"."""
        exact = self.phrases.get(fold(text))
        if exact is not None:
            return exact
        typed = tokens(text, keep_stop_words=True)
        scores = {
            sector: sum(_matches(t, stems) for t in typed) for sector, stems in self.stems.items()
        }
        best = max(self.order, key=lambda sector: (scores[sector], -self.order.index(sector)))
        return best if scores[best] else OTHER


def _matches(token: str, stems: set[str]) -> bool:
    if token in stems:
        return True
    if len(token) < _PREFIX_MIN:
        return False
    return any(
        len(s) >= _PREFIX_MIN and (s.startswith(token) or token.startswith(s)) for s in stems
    )


@cache
def shipped_lexicon() -> SectorLexicon:
    """The lexicon of the shipped knowledge base (for callers without services)."""
    from bot.knowledge import load_knowledge_base

    return SectorLexicon(load_knowledge_base().sectors)
