"""Config loading: defaults, environment overrides, one-line errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.yaml"


def test_example_config_loads_and_matches_defaults() -> None:
    assert load_config(EXAMPLE, env={}) == load_config(data={}, env={})


def test_environment_overrides_token_api_url_and_database() -> None:
    config = load_config(
        data={"telegram": {"staff_chat_id": -1}},
        env={
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "PARTNERBOT_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "PARTNERBOT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
        },
    )
    assert config.token() == "123:abc"
    assert config.telegram.api_base_url == "http://127.0.0.1:8081/bot"
    assert config.database.url == "sqlite+aiosqlite:///x.db"
    assert "123:abc" not in repr(config)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"telegram\.staf_chat_id: unknown key"):
        load_config(data={"telegram": {"staf_chat_id": 1}}, env={})


def test_wrong_type_is_named_without_echoing_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(data={"telegram": {"staff_chat_id": "secret-ish"}}, env={})
    message = str(info.value)
    assert "telegram.staff_chat_id" in message and "secret-ish" not in message
    assert "\n" not in message


def test_missing_token_says_how_to_fix() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_config(data={}, env={}).token()


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml", env={})


def test_bot_api_base_url_reaches_the_bot(tmp_path: Path) -> None:
    """Operators of a self-hosted Bot API server point the bot at it by config or env."""
    from bot.app import build_application, build_services
    from bot.local_api import LocalBotApi

    config = load_config(
        data={"database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"}},
        env={"PARTNERBOT_API_BASE_URL": "http://127.0.0.1:8081/bot", "TELEGRAM_BOT_TOKEN": "1:x"},
    )
    app = build_application(config, services=build_services(config), request=LocalBotApi())
    assert app.bot.base_url == "http://127.0.0.1:8081/bot1:x"


def test_workers_sharing_a_token_share_telegrams_limits(tmp_path: Path) -> None:
    """Two processes with one token each keep half of Telegram's limits (30 messages a
    second overall, 20 a minute into a group), so together they keep them."""
    from telegram.ext import AIORateLimiter

    from bot.app import build_application, build_services
    from bot.local_api import LocalBotApi

    def limiter(env: dict[str, str]) -> AIORateLimiter:
        config = load_config(
            data={"database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"}},
            env={"TELEGRAM_BOT_TOKEN": "1:x", **env},
        )
        app = build_application(
            config, services=build_services(config), request=LocalBotApi(), serving=True
        )
        assert isinstance(app.bot.rate_limiter, AIORateLimiter)
        return app.bot.rate_limiter

    alone, shared = limiter({}), limiter({"PARTNERBOT_WORKERS": "2"})
    assert alone._base_limiter is not None and shared._base_limiter is not None
    assert alone._base_limiter.max_rate == 30
    assert shared._base_limiter.max_rate == 15
    # One message per group every 3.1 s alone (at most 20 a minute), every 6.2 s with two.
    assert shared._group_time_period == 2 * alone._group_time_period
