"""The knowledge base: YAML entries loaded, validated and indexed by id.

Maintainers edit ``knowledge/*.yaml`` by hand, so every problem is reported with
file, line, entry id and field, all at once rather than one per run.

The names callers use live here; each part lives in its own module:

- ``knowledge_model``: ``KnowledgeBase``, ``Entry``, ``OutOfScopeCue``, ``Problem``;
- ``knowledge_loader``: which file is which, ``load_knowledge_base``, ``load_lexicon``;
- ``knowledge_yaml``: YAML read with line numbers;
- ``knowledge_entries``, ``knowledge_word_lists``, ``knowledge_lexicon``: one parser
  per kind of file, each checking its own fields;
- ``knowledge_checks``: the checks across files.
"""

from __future__ import annotations

from bot.knowledge_entries import MIN_QUESTIONS
from bot.knowledge_lexicon import PHRASES_FILE, STOP_WORDS_FILE
from bot.knowledge_loader import (
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
from bot.knowledge_model import (
    LANGS,
    Entry,
    KnowledgeBase,
    KnowledgeBaseError,
    OutOfScopeCue,
    Problem,
)

__all__ = [
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
