"""Pure tests of the form's validators and state machine, and of lead qualification."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot import lead_form as form
from bot.config import QualificationConfig
from bot.qualification import lead_record, qualify

NOW = datetime(2025, 3, 1, 12, 0)


def some(state: dict[str, Any] | None) -> dict[str, Any]:
    """A state-machine result that must not be a refusal."""
    assert state is not None
    return state


# Validators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+962 79 123 4567", "+962791234567"),
        ("+٩٦٢ ٧٩ ١٢٣ ٤٥٦٧", "+962791234567"),
        ("۰۰۹۶۲۷۹۱۲۳۴۵۶۷", "+962791234567"),  # Persian digits and a 00 prefix
        ("962791234567", "+962791234567"),  # a shared Telegram contact has no plus
        ("(+44) 20-7946-0000", "+442079460000"),
        ("\u200e+962 79 123 4567\u200f", "+962791234567"),
        ("\u200f00962 79 123 4567", "+962791234567"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, expected: str) -> None:
    assert form.validate_phone(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["12", "0791234567", "+999 123 456 789", "phone", "+1" + "2" * 40])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    value, error = form.validate_phone(raw)
    assert value is None and error is not None
    assert error.error in ("phone_invalid", "too_long")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sam@acme-security.com", "sam@acme-security.com"),
        (" Sam@ACME-Security.com ", "Sam@acme-security.com"),
        ("\u200fsara@arab-bank.jo\u200e", "sara@arab-bank.jo"),  # typed in a right-to-left field
        ("user١@acme.com", "user1@acme.com"),
        ("sam@no-such-domain-partnerbot-test.com", "sam@no-such-domain-partnerbot-test.com"),
    ],
)
def test_emails_are_checked_by_syntax_only(raw: str, expected: str) -> None:
    assert form.validate_email_address(raw) == (expected, None)


@pytest.mark.parametrize(
    "raw", ["sam", "sam@", "@acme.com", "sam@acme", "sam@@acme.com", "a b@c.com"]
)
def test_bad_emails_are_refused(raw: str) -> None:
    assert form.validate_email_address(raw) == (None, form.Invalid("email_invalid"))


def test_email_over_254_characters_states_the_limit() -> None:
    assert form.validate_email_address("a" * 250 + "@x.com") == (
        None,
        form.Invalid("too_long", 254),
    )


def test_text_fields_collapse_spaces_and_check_length() -> None:
    organisation = form.BY_KEY["organisation"].validate
    assert organisation("  Acme   Security \n Ltd ") == ("Acme Security Ltd", None)
    assert organisation("3M") == ("3M", None)
    assert organisation("A" * 201) == (None, form.Invalid("too_long", 200))
    assert organisation("A" * 200) == ("A" * 200, None)
    assert organisation("x") == (None, form.Invalid("too_short", 2))
    assert organisation("١٢٣") == (None, form.Invalid("too_short", 2))
    assert form.BY_KEY["country"].validate("B" * 101) == (None, form.Invalid("too_long", 100))


def test_message_limit() -> None:
    message = form.BY_KEY["message"].validate
    assert message("m" * form.MESSAGE_LIMIT) == ("m" * form.MESSAGE_LIMIT, None)
    assert message("m" * (form.MESSAGE_LIMIT + 1)) == (None, form.Invalid("too_long", 1000))


@pytest.mark.parametrize(
    ("raw", "sector", "detail"),
    [
        ("bank", "banking", None),
        ("Cyber Security", "cybersecurity", None),
        ("الأمن السيبراني", "cybersecurity", None),
        ("مصرف", "banking", None),
        ("University", "academia", None),
        ("زراعة", "other", "زراعة"),
        ("Telecoms", "it", None),
        ("Shipping", "other", "Shipping"),
    ],
)
def test_typed_sector(raw: str, sector: str, detail: str | None) -> None:
    state = {**form.new_state(NOW), "step": "sector", "data": {"organisation": "Acme"}}
    state, error = form.answer(state, raw, NOW)
    assert error is None
    assert state["data"]["sector"] == sector
    assert state["data"][form.SECTOR_OTHER] == detail
    assert state["step"] == "country"


# State machine --------------------------------------------------------------------------------


def _filled(**data: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "organisation": "Acme",
        "sector": "it",
        form.SECTOR_OTHER: None,
        "country": "Jordan",
        "name": "Sam Smith",
        "role": "CTO",
        "email": "sam@acme.com",
        "phone": None,
        "interests": ["training"],
        "message": None,
        "consent": NOW.isoformat(),
    }
    values.update(data)
    return {**form.new_state(NOW), "step": form.SUMMARY, "data": values}


def test_steps_follow_the_field_order() -> None:
    state = form.new_state(NOW)
    assert state["step"] == "organisation"
    state, _ = form.answer(state, "Acme", NOW)
    assert state["step"] == "sector"
    state = some(form.choose(state, "other", NOW))
    assert state is not None and state["step"] == form.SECTOR_OTHER
    state, _ = form.answer(state, "Telecoms", NOW)
    assert state["step"] == "country"
    for value in ("Jordan", "Sam Smith", "CTO", "sam@acme.com"):
        state, error = form.answer(state, value, NOW)
        assert error is None
    assert state["step"] == "phone"
    state = some(form.skip(state, NOW))
    assert state is not None and state["step"] == "interests"
    assert form.skip(state, NOW) is None  # interests are required
    state = some(form.toggle_interest(state, "training", NOW))
    state = some(form.toggle_interest(state, "information-sharing", NOW))
    assert form.selected_interests(state) == ["information-sharing", "training"]
    state, error = form.finish_interests(state, NOW)
    assert error is None and state["step"] == "message"
    assert "pending_interests" not in state
    state = some(form.skip(state, NOW))
    assert state is not None and state["step"] == "consent"
    assert form.choose(state, "no", NOW) is None
    state = some(form.choose(state, "yes", NOW))
    assert state is not None and state["step"] == form.SUMMARY
    assert state["data"]["sector_detail"] == "Telecoms"
    assert state["data"]["consent"] == NOW.isoformat()


def test_buttons_for_another_step_are_refused() -> None:
    state = form.new_state(NOW)
    assert form.choose(state, "it", NOW) is None
    assert form.toggle_interest(state, "training", NOW) is None
    assert form.finish_interests(state, NOW)[1] == form.Invalid("use_buttons")
    state = {**state, "step": "sector"}
    assert form.choose(state, "farming", NOW) is None


def test_done_with_nothing_chosen() -> None:
    state = {**form.new_state(NOW), "step": "interests"}
    assert form.finish_interests(state, NOW) == (state, form.Invalid("choose_one"))
    toggled = some(form.toggle_interest(state, "training", NOW))
    untoggled = some(form.toggle_interest(toggled, "training", NOW))
    assert form.finish_interests(untoggled, NOW)[1] == form.Invalid("choose_one")


def test_edit_returns_to_the_summary() -> None:
    state = some(form.edit(_filled(), "email", NOW))
    assert state is not None and (state["step"], state["editing"]) == ("email", True)
    state, error = form.answer(state, "new@acme.com", NOW)
    assert error is None
    assert (state["step"], state["editing"]) == (form.SUMMARY, False)
    assert state["data"]["email"] == "new@acme.com"
    assert state["data"]["country"] == "Jordan"


def test_edit_sector_to_other_asks_for_detail_first() -> None:
    state = some(form.edit(_filled(), "sector", NOW))
    state = some(form.choose(state, "other", NOW))
    assert state is not None and state["step"] == form.SECTOR_OTHER
    state, _ = form.answer(state, "Telecoms", NOW)
    assert state["step"] == form.SUMMARY
    state = some(form.edit(state, "sector", NOW))
    state = some(form.choose(state, "banking", NOW))
    assert state is not None and state["step"] == form.SUMMARY
    assert state["data"][form.SECTOR_OTHER] is None


def test_edit_interests_starts_from_the_current_choice() -> None:
    state = some(form.edit(_filled(), "interests", NOW))
    assert state is not None and form.selected_interests(state) == ["training"]
    state = some(form.toggle_interest(state, "other", NOW))
    state, _ = form.finish_interests(state, NOW)
    assert state["step"] == form.SUMMARY
    assert state["data"]["interests"] == ["training", "other"]


def test_edit_only_from_the_summary_and_only_editable_fields() -> None:
    assert form.edit(form.new_state(NOW), "email", NOW) is None
    assert form.edit(_filled(), "consent", NOW) is None
    assert form.edit(_filled(), form.SECTOR_OTHER, NOW) is None


def test_idle_expiry() -> None:
    state = form.new_state(NOW)
    idle = timedelta(minutes=30)
    assert not form.is_expired(state, NOW + timedelta(minutes=30), idle)
    assert form.is_expired(state, NOW + timedelta(minutes=31), idle)


# Qualification ------------------------------------------------------------------------------------


RULES = QualificationConfig()


def test_qualifying_sector_and_company_mail_pass() -> None:
    verdict = qualify(_filled()["data"], RULES)
    assert (verdict.score, verdict.qualified) == (100, True)
    assert verdict.reasons == ({"code": "all_passed"},)


def test_other_sector_with_free_mail_is_unqualified() -> None:
    verdict = qualify(_filled(sector="other", email="sam@Gmail.com")["data"], RULES)
    assert verdict.score == 20 and not verdict.qualified
    assert verdict.reasons == (
        {"code": "sector", "sector": "other"},
        {"code": "free_mail", "domain": "gmail.com"},
        {"code": "below_minimum", "score": 20, "minimum": 60},
    )


def test_free_mail_alone_still_qualifies_with_a_reason() -> None:
    verdict = qualify(_filled(email="sam@outlook.com")["data"], RULES)
    assert (verdict.score, verdict.qualified) == (70, True)
    assert verdict.reasons == ({"code": "free_mail", "domain": "outlook.com"},)


def test_a_non_qualifying_sector_alone_is_below_the_minimum() -> None:
    verdict = qualify(_filled(sector="other")["data"], RULES)
    assert (verdict.score, verdict.qualified) == (50, False)
    assert verdict.reasons[-1] == {"code": "below_minimum", "score": 50, "minimum": 60}


def test_missing_required_field_disqualifies() -> None:
    data = _filled()["data"]
    del data["consent"]
    data["role"] = ""
    verdict = qualify(data, RULES)
    assert (verdict.score, verdict.qualified) == (0, False)
    assert verdict.reasons[0] == {"code": "missing_fields", "fields": ["role", "consent"]}


def test_lead_record_stores_reasons_as_a_list_of_dicts() -> None:
    state = {**_filled(sector="other"), "lang": "en"}
    record = lead_record(state, RULES, user_id=1, username=None, source=None)
    assert record["reasons"] == [
        {"code": "sector", "sector": "other"},
        {"code": "below_minimum", "score": 50, "minimum": 60},
    ]
    assert (record["qualified"], record["status"]) == (False, "unqualified")


def test_rules_come_from_config() -> None:
    rules = QualificationConfig(qualifying_sectors=("academia",), min_score=90)
    assert qualify(_filled(sector="academia")["data"], rules).qualified
    assert not qualify(_filled(sector="it")["data"], rules).qualified


@pytest.mark.parametrize(
    ("typed", "sector"),
    [("البنوك", "banking"), ("banks", "banking"), ("Information security", "cybersecurity"),
     ("IT", "it"), ("شركة برمجيات", "it"), ("University research", "academia"), ("زراعة", "other")],
)  # fmt: skip
def test_typed_sector_is_recognised_by_phrase_or_word(typed: str, sector: str) -> None:
    from bot.lead_form import sector_of

    assert sector_of(typed) == sector
