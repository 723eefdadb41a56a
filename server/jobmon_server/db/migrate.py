"""Alembic migrations, run programmatically (``jobmon db upgrade`` and server start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from jobmon_server.db.engine import normalize_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(db_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(db_url).replace("%", "%%"))
    return config


def upgrade(db_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(db_url), revision)
