"""The lead form as data: ordered fields, each with a validator, and its state machine.

The state is a plain dict so it can be saved to the database after every step
and picked up by any bot process. Validators are pure: they return the clean
value or an error id that names a template.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.countries import region_of
from bot.sectors import SectorLexicon, shipped_lexicon

Kind = Literal["text", "choice", "multi", "email", "phone", "consent"]
SECTORS = ("cybersecurity", "it", "banking", "academia", "other")
INTERESTS = (
    "information-sharing",
    "expert-secondment",
    "intelligence-analysis",
    "training",
    "other",
)
SUMMARY = "summary"
SECTOR_OTHER = "sector_detail"
MESSAGE_LIMIT = 1000
# Bidi and zero-width marks that phones (Arabic keyboards especially) insert invisibly.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c]")


@dataclass(frozen=True)
class Invalid:
    error: str
    limit: int | None = None


# (clean value, None) or (None, the reason it was refused)
Validated = tuple[Any, Invalid | None]


@dataclass(frozen=True)
class Field:
    key: str
    kind: Kind
    validate: Callable[[str], Validated]
    optional: bool = False
    choices: tuple[str, ...] = ()


def _text(min_length: int, max_length: int) -> Callable[[str], Validated]:
    def validate(raw: str) -> Validated:
        value = " ".join(raw.split())
        if len(value) > max_length:
            return None, Invalid("too_long", max_length)
        if len(value) < min_length or not any(ch.isalpha() for ch in value):
            return None, Invalid("too_short", min_length)
        return value, None

    return validate


def validate_email_address(raw: str) -> Validated:
    value = fold_digits(_INVISIBLE.sub("", raw).strip())
    if len(value) > 254:
        return None, Invalid("too_long", 254)
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError:
        return None, Invalid("email_invalid")


def validate_phone(raw: str, region: str | None = None) -> Validated:
    """An international number, or a local one read in ``region`` (the country answered)."""
    value = fold_digits(_INVISIBLE.sub("", raw).strip())
    if len(value) > 32:
        return None, Invalid("too_long", 32)
    if value.startswith("00"):
        value = "+" + value[2:]
    for candidate in _phone_readings(value, region):
        try:
            number = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None
    return None, Invalid("phone_invalid")


def _phone_readings(value: str, region: str | None) -> list[str]:
    """The ways to read what was typed: as written, local to ``region``, or a shared
    contact's number (Telegram sends those without the plus)."""
    if value.startswith("+"):
        return [value]
    readings = [value]  # "(+44) 20..." still names its country; "079..." needs ``region``
    if value[:1].isdigit() and len(value) > 10:
        readings.append("+" + value)
    return readings


def fold_digits(text: str) -> str:
    """Arabic-Indic digits to ASCII; everything else untouched."""
    return text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789"))


def _sector(raw: str) -> Validated:
    """Typed sector: the text, read for its sector by ``answer`` (which has the lexicon)."""
    return _text(2, 100)(raw)


def _message(raw: str) -> Validated:
    value = raw.strip()
    if len(value) > MESSAGE_LIMIT:
        return None, Invalid("too_long", MESSAGE_LIMIT)
    return value, None


def _refuse_typing(raw: str) -> Validated:
    return None, Invalid("use_buttons")


def sector_of(text: str, lexicon: SectorLexicon | None = None) -> str:
    """The sector key a typed answer names, or "other"."""
    return (lexicon or shipped_lexicon()).sector_of(text)


FIELDS: tuple[Field, ...] = (
    Field("organisation", "text", _text(2, 200)),
    Field("sector", "choice", _sector, choices=SECTORS),
    Field(SECTOR_OTHER, "text", _text(2, 200)),
    Field("country", "text", _text(2, 100)),
    Field("name", "text", _text(2, 200)),
    Field("role", "text", _text(2, 200)),
    Field("email", "email", validate_email_address),
    Field("phone", "phone", validate_phone, optional=True),
    Field("interests", "multi", _refuse_typing, choices=INTERESTS),
    Field("message", "text", _message, optional=True),
    Field("consent", "consent", _refuse_typing),
)
BY_KEY = {field.key: field for field in FIELDS}
# Fields a user can pick from the summary's "Edit" menu.
EDITABLE = tuple(f.key for f in FIELDS if f.key not in (SECTOR_OTHER, "consent"))


def new_state(now: datetime) -> dict[str, Any]:
    return {
        "form_id": uuid.uuid4().hex,  # one form, one lead, however often Confirm is pressed
        "step": FIELDS[0].key,
        "data": {},
        "editing": False,
        "updated_at": now.isoformat(),
    }


# The steps a partner counts: the sector's details belong to the sector step.
COUNTED = tuple(f.key for f in FIELDS if f.key != SECTOR_OTHER)


def progress(state: dict[str, Any]) -> tuple[int, int] | None:
    """(this step's number, how many steps), or None at the summary."""
    if state["step"] not in BY_KEY:
        return None
    key = "sector" if state["step"] == SECTOR_OTHER else state["step"]
    return COUNTED.index(key) + 1, len(COUNTED)


def current_field(state: dict[str, Any]) -> Field | None:
    return BY_KEY.get(state["step"])


def is_expired(state: dict[str, Any], now: datetime, idle: timedelta) -> bool:
    return now - datetime.fromisoformat(state["updated_at"]) > idle


def _applies(field: Field, data: dict[str, Any]) -> bool:
    return field.key != SECTOR_OTHER or (
        data.get("sector") == "other" and not data.get(SECTOR_OTHER)
    )


def advance(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Move to the next field that still needs an answer, or to the summary."""
    data = state["data"]
    step = state["step"]
    if state.get("editing") and not (step == "sector" and _applies(BY_KEY[SECTOR_OTHER], data)):
        return {**state, "step": SUMMARY, "editing": False, "updated_at": now.isoformat()}
    keys = [f.key for f in FIELDS]
    start = keys.index(step) + 1 if step in keys else len(keys)
    for field in FIELDS[start:]:
        if _applies(field, data) and field.key not in data:
            return {**state, "step": field.key, "updated_at": now.isoformat()}
    return {**state, "step": SUMMARY, "editing": False, "updated_at": now.isoformat()}


def answer(
    state: dict[str, Any], raw: str, now: datetime, sectors: SectorLexicon | None = None
) -> tuple[dict[str, Any], Invalid | None]:
    """Take typed input for the current step; a typed sector is read with ``sectors``."""
    field = current_field(state)
    if field is None:
        return state, Invalid("use_buttons")
    if field.key == "phone":
        value, error = validate_phone(raw, region_of(state["data"].get("country") or ""))
    else:
        value, error = field.validate(raw)
    if error is not None:
        return state, error
    data = dict(state["data"])
    if field.key == "sector":
        data["sector"] = sector_of(value, sectors)
        # The typed words are kept for staff when they name no known sector.
        data[SECTOR_OTHER] = value if data["sector"] == "other" else None
    else:
        data[field.key] = value
    return advance({**state, "data": data}, now), None


def choose(state: dict[str, Any], value: str, now: datetime) -> dict[str, Any] | None:
    """A button press for the current step; None if it does not belong to it."""
    field = current_field(state)
    if (
        field is None
        or field.kind not in ("choice", "consent")
        or (field.choices and value not in field.choices)
    ):
        return None
    data = dict(state["data"])
    if field.key == "sector":
        data["sector"] = value
        data.pop(SECTOR_OTHER, None)
        if value != "other":
            data[SECTOR_OTHER] = None
    elif field.key == "consent":
        if value != "yes":
            return None
        data["consent"] = now.isoformat()
    return advance({**state, "data": data}, now)


def toggle_interest(state: dict[str, Any], value: str, now: datetime) -> dict[str, Any] | None:
    if state["step"] != "interests" or value not in INTERESTS:
        return None
    chosen = list(state.get("pending_interests", state["data"].get("interests", [])))
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    ordered = [i for i in INTERESTS if i in chosen]
    return {**state, "pending_interests": ordered, "updated_at": now.isoformat()}


def finish_interests(state: dict[str, Any], now: datetime) -> tuple[dict[str, Any], Invalid | None]:
    chosen = state.get("pending_interests", state["data"].get("interests", []))
    if state["step"] != "interests":
        return state, Invalid("use_buttons")
    if not chosen:
        return state, Invalid("choose_one")
    data = {**state["data"], "interests": list(chosen)}
    rest = {k: v for k, v in state.items() if k != "pending_interests"}
    return advance({**rest, "data": data}, now), None


def skip(state: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    field = current_field(state)
    if field is None or not field.optional:
        return None
    return advance({**state, "data": {**state["data"], field.key: None}}, now)


def edit(state: dict[str, Any], key: str, now: datetime) -> dict[str, Any] | None:
    """From the summary, go back to one field; answering it returns to the summary."""
    if state["step"] != SUMMARY or key not in EDITABLE:
        return None
    data = dict(state["data"])
    if key == "sector":
        data.pop(SECTOR_OTHER, None)
    return {**state, "data": data, "step": key, "editing": True, "updated_at": now.isoformat()}


def selected_interests(state: dict[str, Any]) -> list[str]:
    return list(state.get("pending_interests", state["data"].get("interests", [])))
