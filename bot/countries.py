"""Which country a typed name means, in English, Arabic or French, for reading local
phone numbers ("0791234567" after "الأردن").

The names come from Babel's CLDR data, so every country has its official and common
short names in each language without a list of our own.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from bot.normalize import fold

_LOCALES = ("en", "ar", "fr")


@cache
def _names() -> dict[str, str]:
    """Folded country name -> ISO region code (two letters; regions like "150" skipped)."""
    names: dict[str, str] = {}
    for locale in _LOCALES:
        for code, name in Locale(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(fold(name), code)
    return names


def region_of(country: str) -> str | None:
    """The region code ``country`` names, or None when it is unknown or ambiguous.

    A short form that is part of one official name counts too: "السعودية" is the
    Kingdom of Saudi Arabia, "الإمارات" the United Arab Emirates.
    """
    typed = fold(country)
    if not typed:
        return None
    names = _names()
    if typed in names:
        return names[typed]
    words = set(typed.split())
    found = {code for name, code in names.items() if words <= set(name.split())}
    return found.pop() if len(found) == 1 else None
