"""Every user-facing sentence: jinja2 templates per language and a table of short labels.

Templates render Telegram HTML with autoescaping, so user-given values (a company
called ``<b>ACME</b>``) are shown literally. Arabic output gets a right-to-left
mark at the start of each line: Telegram picks a paragraph's direction from its
first strong character, and a line that opens with a Latin name or a digit would
otherwise be laid out left to right.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.normalize import Lang

TEMPLATES = Path(str(resources.files("bot") / "templates"))
RLM = "\u200f"
LRM = "\u200e"
_COMMAND = re.compile(r"(?<![\w/<])(/[a-z_]+)")
# Marks, embeddings, overrides and isolates: typed into a name, they reorder what is
# shown around it (U+202E makes "Acme moc.live" read "Acme evil.com").
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MESSAGE_LIMIT = 4096


class Texts:
    def __init__(self, root: Path = TEMPLATES) -> None:
        self.root = root
        self.env = Environment(
            loader=FileSystemLoader(root),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            # Templates change only with a new version of the bot: no stat() of the file
            # on every render (a third of a short template's render time).
            auto_reload=False,
        )
        self.env.globals["label"] = self.label
        self.env.filters["user_value"] = user_value

    @cached_property
    def labels(self) -> dict[str, dict[str, str]]:
        data: dict[str, dict[str, str]] = yaml.safe_load(
            (self.root / "labels.yaml").read_text(encoding="utf-8")
        )
        return data

    def label(self, key: str, lang: Lang) -> str:
        """A short text (button, field name, status) in ``lang``."""
        return self.labels[key][lang]

    def render(self, template: str, lang: Lang, **context: Any) -> str:
        text = self.env.get_template(f"{lang}/{template}.j2").render(lang=lang, **context).strip()
        return right_to_left(text) if lang == "ar" else text

    def template_names(self, lang: Lang) -> set[str]:
        base = self.root / lang
        return {str(p.relative_to(base))[: -len(".j2")] for p in base.rglob("*.j2")}


def user_value(value: object) -> str:
    """A user-supplied value without bidi controls, so it cannot reorder the text around it."""
    return BIDI_CONTROLS.sub("", str(value))


def right_to_left(text: str) -> str:
    """Start every line right to left, and keep "/command" from being shown as "command/"."""
    text = _COMMAND.sub(LRM + r"\1", text)
    return "\n".join(RLM + line if line.strip() else line for line in text.split("\n"))


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> Iterator[str]:
    """Cut a long message at paragraph, then line, boundaries to fit Telegram's limit.

    Templates never open an HTML tag on one line and close it on another, so a
    cut between lines never breaks the markup.
    """
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        yield rest[:cut].rstrip()
        rest = rest[cut:].lstrip("\n ")
    if rest:
        yield rest
