"""Callback data of each button family, built and read by one small typed codec.

Telegram hands back a button's callback data as a string of at most 64 bytes. Each
family has a prefix ("kb", "lead", ...) and a fixed shape; ``pack`` builds the string,
``unpack`` reads one (None if it is not of this family or is malformed, as a stranger
could send anything), and ``pattern`` is what the handler is registered with, so no
handler splits strings by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, Self, get_args

from bot.normalize import Lang

_LANG = r"(?:ar|en)"
_MAX_BYTES = 64


@dataclass(frozen=True)
class Button:
    """Base: subclasses declare ``prefix``, their fields, and ``_shape`` (one regex group
    per field, in order)."""

    prefix: ClassVar[str]
    _shape: ClassVar[str]

    @classmethod
    def pattern(cls) -> re.Pattern[str]:
        return re.compile(rf"^{cls.prefix}:{cls._shape}$")

    def pack(self) -> str:
        values = [getattr(self, f.name) for f in fields(self)]
        data = ":".join([self.prefix, *(str(v) for v in values if v is not None)])
        if len(data.encode()) > _MAX_BYTES:
            raise ValueError(f"callback data over {_MAX_BYTES} bytes: {data!r}")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        match = cls.pattern().match(data or "")
        if match is None:
            return None
        values: list[Any] = []
        for f, raw in zip(fields(cls), match.groups(), strict=True):
            values.append(int(raw) if f.type in ("int", int) and raw is not None else raw)
        return cls(*values)


@dataclass(frozen=True)
class TopicButton(Button):
    """Show a knowledge-base entry, in the language the button was shown in."""

    prefix: ClassVar[str] = "kb"
    _shape: ClassVar[str] = rf"({_LANG}):([a-z0-9-]+)"
    lang: Lang
    entry_id: str


@dataclass(frozen=True)
class MenuButton(Button):
    """The topics menu."""

    prefix: ClassVar[str] = "menu"
    _shape: ClassVar[str] = rf"({_LANG})"
    lang: Lang


@dataclass(frozen=True)
class LanguageButton(Button):
    """Choose the language the bot speaks."""

    prefix: ClassVar[str] = "lang"
    _shape: ClassVar[str] = rf"({_LANG})"
    lang: Lang


FormAction = Literal[
    "start",
    "continue",
    "restart",
    "cancel",
    "cancel_ask",
    "confirm",
    "edit",
    "sector",
    "interest",
    "interests_done",
    "consent",
    "skip",
]


@dataclass(frozen=True)
class FormButton(Button):
    """A step of the lead form: an action and, for some, a value (a sector, a field)."""

    prefix: ClassVar[str] = "form"
    _shape: ClassVar[str] = rf"({'|'.join(get_args(FormAction))})(?::([a-z0-9_-]+))?"
    action: FormAction
    value: str | None = None


LeadAction = Literal["claim", "contacted", "not_fit"]


@dataclass(frozen=True)
class LeadButton(Button):
    """A staff action on a lead post."""

    prefix: ClassVar[str] = "lead"
    _shape: ClassVar[str] = r"(claim|contacted|not_fit):(\d+)"
    action: LeadAction
    lead_id: int


@dataclass(frozen=True)
class ForgetButton(Button):
    """Confirm or refuse /forget."""

    prefix: ClassVar[str] = "forget"
    _shape: ClassVar[str] = r"(yes|no)"
    choice: Literal["yes", "no"]


TalkAction = Literal["open", "back"]


@dataclass(frozen=True)
class TalkButton(Button):
    """A partner opens a conversation with staff, or goes back to the assistant."""

    prefix: ClassVar[str] = "talk"
    _shape: ClassVar[str] = rf"(open|back):({_LANG})"
    action: TalkAction
    lang: Lang


RelayAction = Literal["close", "ban", "lead"]


@dataclass(frozen=True)
class RelayButton(Button):
    """A staff action on a partner's conversation (the buttons on its first message)."""

    prefix: ClassVar[str] = "relay"
    _shape: ClassVar[str] = r"(close|ban|lead):(\d+)"
    action: RelayAction
    user_id: int
