"""The relay's pure rules and its button codecs, on plain values."""

from __future__ import annotations

from datetime import datetime

from bot.callbacks import RelayButton, TalkButton
from bot.config import load_config
from bot.relay import digest_key, fits, kind_of, telegram_length, topic_name


def test_only_text_photos_documents_and_voice_are_relayed() -> None:
    assert kind_of({"text": True}) == "text"
    assert kind_of({"photo": True, "document": False}) == "photo"
    assert kind_of({"sticker": True}) is None
    assert kind_of({}) is None


def test_topic_names_fit_telegrams_limit_and_keep_the_language() -> None:
    assert topic_name("Sam  Smith", "Acme\nSecurity", "EN") == "Sam Smith · Acme Security · EN"
    long = topic_name("N" * 100, "O" * 100, "AR")
    assert len(long) == 128 and long.endswith(" · AR")
    assert topic_name("", None, "EN") == "? · EN"


def test_a_header_fits_only_when_telegram_would_take_the_whole_message() -> None:
    assert telegram_length("😀") == 2  # counted in UTF-16 code units, as Telegram does
    assert fits("x" * 10, 4085, media=False)
    assert not fits("x" * 10, 4086, media=False)
    assert not fits("x" * 10, 1014, media=True)


def test_one_digest_key_per_iso_week() -> None:
    assert digest_key(datetime(2026, 12, 28)) == digest_key(datetime(2027, 1, 3))
    assert digest_key(datetime(2026, 12, 28)) != digest_key(datetime(2027, 1, 4))


def test_relay_buttons_pack_and_refuse_forgeries() -> None:
    assert TalkButton("open", "ar").pack() == "talk:open:ar"
    assert TalkButton.unpack("talk:back:en") == TalkButton("back", "en")
    assert RelayButton.unpack("relay:ban:101") == RelayButton("ban", 101)
    assert RelayButton.unpack("relay:ban:-5") is None
    assert RelayButton.unpack("relay:delete:101") is None


def test_the_relay_config_validates_its_keys() -> None:
    relay = load_config(data={"relay": {"forum": False, "digest_day": "off"}}, env={}).relay
    assert (relay.forum, relay.digest_day, relay.sign_replies) == (False, "off", False)
    assert load_config(data={}, env={}).relay.forum == "auto"
