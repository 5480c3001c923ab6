"""Run Alembic migrations programmatically (used by `oo dev`, `oo migrate` and tests)."""

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = url
    return cfg


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url`; Alembic's async env runs its own loop in a thread."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
