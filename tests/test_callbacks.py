"""Callback data codecs: what is packed is unpacked the same, and anything else is refused."""

from __future__ import annotations

import pytest

from bot.callbacks import (
    Button,
    ForgetButton,
    FormButton,
    LanguageButton,
    LeadButton,
    MenuButton,
    TopicButton,
)


@pytest.mark.parametrize(
    "button",
    [
        TopicButton("ar", "information-sharing"),
        MenuButton("en"),
        LanguageButton("ar"),
        FormButton("start", "ar"),
        FormButton("confirm"),
        FormButton("interest", "intelligence-analysis"),
        FormButton("edit", "sector_detail"),
        LeadButton("not_fit", 123456789),
        ForgetButton("yes"),
    ],
)
def test_packed_buttons_unpack_to_themselves(button: Button) -> None:
    data = button.pack()
    assert len(data.encode()) <= 64
    assert type(button).unpack(data) == button
    assert type(button).pattern().match(data)


@pytest.mark.parametrize(
    ("family", "data"),
    [
        (LeadButton, "lead:delete:1"),
        (LeadButton, "lead:claim:1; DROP"),
        (LeadButton, "lead:claim:"),
        (TopicButton, "kb:fr:information-sharing"),
        (TopicButton, "kb:en:../../etc"),
        (FormButton, "form:hack"),
        (ForgetButton, "forget:maybe"),
        (MenuButton, "kb:en:x"),
        (MenuButton, None),
    ],
)
def test_foreign_or_malformed_data_is_refused(family: type[Button], data: str | None) -> None:
    assert family.unpack(data) is None


def test_lead_ids_come_back_as_numbers() -> None:
    button = LeadButton.unpack("lead:claim:42")
    assert button is not None and button.lead_id == 42


def test_data_over_telegrams_limit_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        TopicButton("en", "x" * 70).pack()
