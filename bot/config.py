"""Configuration: a commented YAML file, validated per section, plus environment secrets.

Loading takes an optional mapping so tests pass a dict instead of a file.
Secrets (the bot token) may come from the environment and are never printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.knowledge import default_path
from bot.matching import Thresholds

DEFAULT_CONFIG_FILE = "config.yaml"
ENV_TOKEN = "TELEGRAM_BOT_TOKEN"
ENV_API_BASE_URL = "PARTNERBOT_API_BASE_URL"
ENV_DATABASE_URL = "PARTNERBOT_DATABASE_URL"
ENV_WEBHOOK_SECRET = "PARTNERBOT_WEBHOOK_SECRET"
ENV_WEBHOOK_URL = "PARTNERBOT_WEBHOOK_URL"
ENV_WEBHOOK_PORT = "PARTNERBOT_WEBHOOK_PORT"
ENV_OPS_PORT = "PARTNERBOT_OPS_PORT"
ENV_WORKERS = "PARTNERBOT_WORKERS"


class ConfigError(Exception):
    """One line that names the failing key and says how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramConfig(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    staff_chat_id: int | None = None
    staff_topic_id: int | None = None
    staff_user_ids: tuple[int, ...] = ()
    staff_language: Literal["en", "ar"] = "en"
    staff_admin_cache_seconds: float = Field(300, ge=0)


class BotConfig(_Section):
    default_language: Literal["en", "ar"] = "en"
    knowledge_path: Path = Field(default_factory=default_path)
    rate_limit_messages: int = Field(20, ge=1)
    rate_limit_seconds: float = Field(60, gt=0)
    # Where the per-user counts live: this process ("memory"), or shared by every
    # worker process ("database", or "redis" with redis_url).
    rate_limit_store: Literal["memory", "database", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"


class MatchingConfig(_Section):
    answer_threshold: float = Field(55, ge=0, le=100)
    suggest_threshold: float = Field(35, ge=0, le=100)
    margin: float = Field(4, ge=0, le=100)
    long_message_margin: float = Field(8.0, ge=0, le=100)
    apply_intent_threshold: float = Field(80, ge=0, le=100)

    def thresholds(self) -> Thresholds:
        return Thresholds(
            answer=self.answer_threshold,
            suggest=self.suggest_threshold,
            margin=self.margin,
            long_margin=self.long_message_margin,
        )


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///partnerbot.sqlite3"


class FormConfig(_Section):
    idle_timeout_minutes: float = Field(24 * 60, gt=0)


class QualificationConfig(_Section):
    required_fields: tuple[str, ...] = (
        "organisation",
        "sector",
        "country",
        "name",
        "role",
        "email",
        "consent",
    )
    qualifying_sectors: tuple[str, ...] = ("cybersecurity", "it", "banking", "academia")
    sector_penalty: int = Field(50, ge=0)
    free_mail_domains: tuple[str, ...] = (
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "aol.com",
        "mail.ru",
        "yandex.ru",
        "proton.me",
        "protonmail.com",
        "gmx.com",
    )
    free_mail_penalty: int = Field(30, ge=0)
    min_score: int = Field(60, ge=0, le=100)
    repeat_window_days: float = Field(30, ge=0)


class DeliveryConfig(_Section):
    poll_seconds: float = Field(5, gt=0)
    backoff_base_seconds: float = Field(2, gt=0)
    backoff_max_seconds: float = Field(600, gt=0)
    max_attempts: int = Field(10, ge=1)
    batch_size: int = Field(20, ge=1)
    request_timeout_seconds: float = Field(10, gt=0)
    lease_seconds: float = Field(60, gt=0)

    @field_validator("lease_seconds")
    @classmethod
    def _lease_outlives_a_send(cls, value: float, info: ValidationInfo) -> float:
        """A lease that lapses mid-send lets a second worker post the same lead."""
        timeout = info.data.get("request_timeout_seconds")
        if timeout is not None and value < 2 * timeout:
            raise ValueError(
                "must be at least twice delivery.request_timeout_seconds, "
                "so a lease outlives the slowest send and the writes around it"
            )
        return value


class WebhookConfig(_Section):
    """Webhook mode: Telegram posts updates to ``url``; this process listens behind it."""

    enabled: bool = False
    url: str | None = None  # the public HTTPS URL Telegram posts to
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    path: str = "/telegram"
    secret_token: SecretStr | None = None


class ServingConfig(_Section):
    """How updates are handled: stored in the inbox first, then by a pool of workers."""

    concurrency: int = Field(16, ge=1, le=256)  # updates handled at once by one process
    lease_seconds: float = Field(120, gt=0)  # a killed worker's updates wait this long
    max_attempts: int = Field(5, ge=1)
    # An update postponed by an outage (database, Bot API, Telegram's "retry after") keeps
    # its attempts this long after it arrived; after that, postponements count too, so an
    # update whose every try looks like an outage is given up rather than retried forever.
    outage_patience_minutes: float = Field(60, gt=0)
    flood_control: bool = True  # Telegram's limits on every outgoing message
    # Processes sharing this bot token: each keeps 1/workers of Telegram's limits, so
    # together they stay within them.
    workers: int = Field(1, ge=1, le=64)
    max_lag_seconds: float = Field(60, gt=0)  # /readyz fails when the oldest update waits longer
    keep_done_hours: float = Field(24, gt=0)  # handled updates are kept (ids only) to drop repeats


class OpsConfig(_Section):
    """Health and metrics in polling mode (webhook mode serves them on its own listener)."""

    listen: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)


class PrivacyConfig(_Section):
    retention_days: float = Field(365, gt=0)
    purge_interval_hours: float = Field(24, gt=0)


class RelayConfig(_Section):
    """Talking to a person: partners' messages relayed to the staff chat and back."""

    reply_time_hours: int = Field(24, ge=1, le=24 * 14)  # told to the partner once
    sign_replies: bool = False  # add the staff member's first name under replies
    idle_close_hours: float = Field(72, gt=0)
    # A forum supergroup gives each partner a topic; "auto" asks Telegram (getChat).
    forum: Literal["auto"] | bool = "auto"
    digest_day: Literal["off", "mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    digest_hour: int = Field(8, ge=0, le=23)  # UTC


class Config(_Section):
    telegram: TelegramConfig = TelegramConfig()
    bot: BotConfig = BotConfig()
    matching: MatchingConfig = MatchingConfig()
    database: DatabaseConfig = DatabaseConfig()
    form: FormConfig = FormConfig()
    qualification: QualificationConfig = QualificationConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    webhook: WebhookConfig = WebhookConfig()
    serving: ServingConfig = ServingConfig()
    ops: OpsConfig = OpsConfig()
    relay: RelayConfig = RelayConfig()

    def webhook_secret(self) -> str:
        """The webhook's secret token, or a ConfigError saying where to put it."""
        secret = self.webhook.secret_token
        if secret is None or not secret.get_secret_value():
            raise ConfigError(
                f"webhook.secret_token: required in webhook mode; set {ENV_WEBHOOK_SECRET} "
                "or webhook.secret_token (1-256 characters: A-Z, a-z, 0-9, _ and -)"
            )
        return secret.get_secret_value()

    def token(self) -> str:
        """The bot token, or a ConfigError saying where to put it."""
        if self.telegram.token is None or not self.telegram.token.get_secret_value():
            raise ConfigError(
                f"telegram.token: no bot token; set {ENV_TOKEN} "
                "or telegram.token in the config file"
            )
        return self.telegram.token.get_secret_value()

    def is_staff_user(self, user_id: int) -> bool:
        return user_id in self.telegram.staff_user_ids


def load_config(
    path: Path | str | None = None,
    *,
    data: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read ``path`` (or ./config.yaml when present, else defaults) and apply the environment."""
    env = os.environ if env is None else env
    source = "config"
    if data is None:
        file = Path(path) if path else Path(DEFAULT_CONFIG_FILE)
        source = str(file)
        if file.exists():
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
        elif path:
            raise ConfigError(f"{file}: no such file; copy config.example.yaml to start one")
        else:
            data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: must be a mapping of sections (see config.example.yaml)")
    merged: dict[str, Any] = {
        key: dict(value) if isinstance(value, Mapping) else value for key, value in data.items()
    }
    overrides = {
        ENV_TOKEN: ("telegram", "token"),
        ENV_API_BASE_URL: ("telegram", "api_base_url"),
        ENV_DATABASE_URL: ("database", "url"),
        ENV_WEBHOOK_SECRET: ("webhook", "secret_token"),
        ENV_WEBHOOK_URL: ("webhook", "url"),
        ENV_WEBHOOK_PORT: ("webhook", "port"),
        ENV_OPS_PORT: ("ops", "port"),
        ENV_WORKERS: ("serving", "workers"),
    }
    for variable, (section, key) in overrides.items():
        if env.get(variable):
            merged.setdefault(section, {})
            if isinstance(merged[section], dict):
                merged[section][key] = env[variable]
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key; remove it or fix its spelling (see config.example.yaml)"
    # Never echo the input back: it may be a secret.
    return f"{key}: {error['msg'].lower()}; fix the value (see config.example.yaml)"
