"""Text as it arrives from a user, made safe to store and to show.

PostgreSQL refuses NUL in text and JSON, and lone surrogates cannot be encoded at
all; such characters never carry meaning in a form or a question, so they are
dropped where text enters the bot rather than failing at the last step.
"""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; DEL; lone surrogates; non-characters.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """``text`` without the characters a database or Telegram would refuse."""
    return _UNSTORABLE.sub("", text)
