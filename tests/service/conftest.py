"""The read model on real SQLite and on real PostgreSQL, for every test that asks for `read_model`.

PostgreSQL comes from `CASEWORK_TEST_POSTGRES_URL`, one fresh schema per test; without the variable
those variants are skipped; with it set but the server down they fail in CI (CI is set) and are
skipped with the reason elsewhere.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.read_model import ReadModel, create_engine

POSTGRES_URL_VARIABLE = "CASEWORK_TEST_POSTGRES_URL"


async def _sqlite_model(tmp_path) -> AsyncIterator[ReadModel]:
    model = ReadModel(create_engine(f"sqlite+aiosqlite:///{tmp_path}/rm.db"))
    await model.upgrade()
    try:
        yield model
    finally:
        await model.close()


async def _postgres_model() -> AsyncIterator[ReadModel]:
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; set it to a postgresql+asyncpg:// URL to run the PostgreSQL variants")
    schema = f"cw_test_{secrets.token_hex(6)}"
    admin = create_async_engine(url, poolclass=NullPool)
    try:
        try:
            async with admin.begin() as connection:
                await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OSError as error:
            # In CI the server must be there; on a developer's machine without one, say so and go on.
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL at {POSTGRES_URL_VARIABLE} is not reachable ({error}); CI runs these")
        model = ReadModel(create_async_engine(url, connect_args={"server_settings": {"search_path": schema}}))
        try:
            await model.upgrade()
            yield model
        finally:
            await model.close()
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def read_model(request, tmp_path) -> AsyncIterator[ReadModel]:
    models = _sqlite_model(tmp_path) if request.param == "sqlite" else _postgres_model()
    async for model in models:
        yield model
