"""Templates and labels: both languages everywhere, escaping, right-to-left, long messages."""

from __future__ import annotations

import pytest

from bot.texts import LRM, MESSAGE_LIMIT, RLM, Texts, right_to_left, split_message

texts = Texts()


def test_every_template_exists_in_both_languages() -> None:
    assert texts.template_names("en") == texts.template_names("ar")
    assert len(texts.template_names("en")) > 30


def test_every_label_has_both_languages() -> None:
    for key, value in texts.labels.items():
        assert set(value) == {"en", "ar"}, key
        assert all(v.strip() for v in value.values()), key


def test_button_labels_are_short() -> None:
    alerts = {"staff.not_allowed", "staff.updated", "staff.unknown_lead"}
    for key, value in texts.labels.items():
        if key in alerts:
            continue
        # Interests are shown one button a row, so they may take the page's full terms.
        limit = 32 if key.startswith("interest.") else 24
        assert len(value["ar"]) <= limit and len(value["en"]) <= limit, key


def test_user_values_are_escaped() -> None:
    html = texts.render("answer", "en", title="<b>ACME</b> & Co", answer="a < b")
    assert html.startswith("<b>&lt;b&gt;ACME&lt;/b&gt; &amp; Co</b>")
    assert "a &lt; b" in html


def test_arabic_lines_start_right_to_left_and_commands_keep_their_slash() -> None:
    html = texts.render("fallback", "ar", victim_hint=True)
    lines = [line for line in html.split("\n") if line.strip()]
    assert all(line.startswith(RLM) for line in lines)
    assert LRM + "/topics" in html
    assert "<" + LRM not in right_to_left("<b>x</b> /apply")


def test_undefined_variable_is_an_error_not_a_blank() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        texts.render("answer", "en", title="x")


def test_long_text_is_split_at_line_boundaries_under_the_limit() -> None:
    paragraph = "• " + "word " * 150
    text = "\n\n".join(paragraph for _ in range(20))
    parts = list(split_message(text))
    assert len(parts) > 1
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )
