"""The read model's schema version: upgrade it, or refuse to run against an old one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from service import kpi_rollups

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    pass


def _config(connection=None, zone: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["timezone"] = zone
    return config


def head() -> str:
    current = ScriptDirectory.from_config(_config()).get_current_head()
    if current is None:
        raise RuntimeError(f"no migration in {MIGRATIONS}")
    return current


async def current(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def upgrade(engine: AsyncEngine, zone: str | None = None) -> None:
    """`zone`: the department's, where the KPI roll-ups' days begin (None: as they are, or UTC when new)."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_config(sync, zone), "head"))
        if zone is not None:
            await connection.run_sync(kpi_rollups.follow_zone, zone)


async def require_current(engine: AsyncEngine) -> None:
    found, wanted = await current(engine), head()
    if found != wanted:
        raise SchemaOutOfDate(f"the read model's schema is at {found or 'nothing'}, this version needs {wanted}: run `casework db upgrade` first")
