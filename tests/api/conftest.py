"""An API with its own read model, worker and task queue, for tests whose figures must count only their own cases."""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.read_model import ReadModel, create_engine
from tests.api.console_client import Browser, ensure_people
from tests.conftest import Api, serving, worker_on
from tests.service.conftest import POSTGRES_URL_VARIABLE


@dataclass
class OwnStack:
    api: Api
    read_model: ReadModel
    task_queue: str
    temporal: Any = None


# A complaint of normal priority must be answered within a second; a low one within a minute.
POLICY = {
    "warn_at": 0.5,
    "pause_in": [],
    "auto_escalate": [],
    "targets": {"complaint": {"normal": {"first_response": 1}, "low": {"first_response": 60}}},
}


@pytest.fixture
def own_stack(temporal_env, stack_settings, tmp_path):
    @asynccontextmanager
    async def start(**changes):
        """`changes`: settings of this stack's own (a service-level or targets policy)."""
        queue = f"own-{time.monotonic_ns()}"
        own = {"database_url": f"sqlite+aiosqlite:///{tmp_path}/own.db", "task_queue": queue, "sla_policy": POLICY, **changes}
        settings = dataclasses.replace(stack_settings, **own)
        read_model = ReadModel(create_engine(settings.read_model_url))
        await read_model.upgrade()
        try:
            async with worker_on(temporal_env.client, read_model, queue), serving(settings) as client:
                yield OwnStack(Api(client), read_model, queue)
        finally:
            await read_model.close()

    return start


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards: its URL, for an app that makes its own engine."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; set it to a postgresql+asyncpg:// URL to run the PostgreSQL variants")
    name = f"cw_test_{secrets.token_hex(6)}"
    admin = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except OSError as error:
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL at {POSTGRES_URL_VARIABLE} is not reachable ({error}); CI runs these")
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def stack_on(database: str, temporal_env, stack_settings, tmp_path, read_model_class=ReadModel) -> AsyncIterator[OwnStack]:
    """The whole stack on its own read model ("sqlite" or "postgresql") and task queue."""
    async with _database_url(database, tmp_path) as url:
        settings = dataclasses.replace(stack_settings, database_url=url, task_queue=f"{database}-{time.monotonic_ns()}")
        read_model = read_model_class(create_engine(url))
        await read_model.upgrade()
        try:
            async with worker_on(temporal_env.client, read_model, settings.task_queue), serving(settings) as client:
                yield OwnStack(Api(client), read_model, settings.task_queue, temporal_env.client)
        finally:
            await read_model.close()


@asynccontextmanager
async def _database_url(database: str, tmp_path) -> AsyncIterator[str]:
    if database == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/{secrets.token_hex(4)}.db"
        return
    async with postgres_database() as url:
        yield url


# Both read models a department may run on, for the tests that must hold on each.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


# The console over plain HTTP (tests/api/console_client.py): a signed-out browser per call.
@pytest.fixture
async def browser(http, read_model) -> AsyncIterator[Callable[..., Browser]]:
    await ensure_people(read_model)
    opened: list[Browser] = []

    def open_browser() -> Browser:
        opened.append(Browser(str(http.base_url)))
        return opened[-1]

    yield open_browser
    for each in opened:
        await each.close()
