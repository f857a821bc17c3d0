"""The read model's schema comes from Alembic migrations that match the code, on SQLite and PostgreSQL."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service import schema
from service.read_model import ReadModel, create_engine
from service.tables import described_here, metadata

CASEWORK = Path(sys.executable).parent / "casework"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/schema.db")
        yield engine
        await engine.dispose()
        return
    url = os.environ.get("CASEWORK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CASEWORK_TEST_POSTGRES_URL is not set")
    name = f"cw_schema_{secrets.token_hex(4)}"
    admin = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PostgreSQL is not reachable")
    engine = create_engine(url.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    await engine.dispose()
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE "{name}"'))
    await admin.dispose()


async def test_the_migrations_build_exactly_the_tables_the_code_uses(engine):
    await ReadModel(engine).upgrade()
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"include_name": described_here}), metadata)
        )
    assert differences == []
    assert await schema.current(engine) == schema.head()


async def test_upgrading_twice_changes_nothing(engine):
    await ReadModel(engine).upgrade()
    await ReadModel(engine).upgrade()
    assert await schema.current(engine) == schema.head()


async def test_an_out_of_date_schema_is_refused_naming_the_command(engine):
    with pytest.raises(schema.SchemaOutOfDate, match="casework db upgrade"):
        await ReadModel(engine).require_current_schema()


def test_api_and_worker_refuse_an_old_schema_and_db_upgrade_fixes_it(tmp_path):
    env = {**os.environ, "CASEWORK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/rm.db", "CASEWORK_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    for command in ("api", "worker"):
        refused = subprocess.run([str(CASEWORK), command], env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "run `casework db upgrade` first" in refused.stderr, refused.stderr
    upgraded = subprocess.run([str(CASEWORK), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60)
    assert upgraded.returncode == 0 and f"read model schema: {schema.head()}" in upgraded.stdout
