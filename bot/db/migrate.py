"""Alembic, driven from code: ``partnerbot db upgrade`` and the upgrade on start."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(str(resources.files("bot.db") / "migrations"))


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    """Bring the schema to the newest revision. Synchronous: call it outside a running loop
    (or through ``asyncio.to_thread``), since Alembic's env runs its own loop."""
    command.upgrade(alembic_config(url), "head")
