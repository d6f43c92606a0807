"""The knowledge base: YAML entries loaded, validated and indexed by id.

Maintainers edit ``knowledge/*.yaml`` by hand, so every problem is reported with
file, line, entry id and field, all at once rather than one per run.

The names callers use live here; each part lives in its own module:

- ``model``: ``KnowledgeBase``, ``Entry``, ``OutOfScopeCue``, ``Problem``;
- ``loader``: which file is which, ``load_knowledge_base``, ``load_lexicon``;
- ``yaml_lines``: YAML read with line numbers;
- ``entries``, ``word_lists``, ``lexicon``: one parser
  per kind of file, each checking its own fields;
- ``checks``: the checks across files.
"""

from __future__ import annotations

from bot.knowledge.entries import MIN_QUESTIONS
from bot.knowledge.lexicon import PHRASES_FILE, STOP_WORDS_FILE
from bot.knowledge.loader import (
    ARABIZI_FILE,
    INTENTS_FILE,
    OUT_OF_SCOPE_FILE,
    REPLIES_FILE,
    SECTORS_FILE,
    SYNONYMS_FILE,
    default_path,
    load_knowledge_base,
    load_lexicon,
)
from bot.knowledge.model import (
    APPLY_INTENT,
    LANGS,
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
    OutOfScopeCue,
    Problem,
)

__all__ = [
    "APPLY_INTENT",
    "ARABIZI_FILE",
    "INTENTS_FILE",
    "LANGS",
    "MIN_QUESTIONS",
    "OUT_OF_SCOPE_FILE",
    "PHRASES_FILE",
    "REPLIES_FILE",
    "SECTORS_FILE",
    "STOP_WORDS_FILE",
    "SYNONYMS_FILE",
    "Entry",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "OutOfScopeCue",
    "Problem",
    "default_path",
    "load_knowledge_base",
    "load_lexicon",
]
