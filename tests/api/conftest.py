"""An API with its own read model, worker and task queue, for tests whose figures must count only their own cases."""

from __future__ import annotations

import dataclasses
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from service.read_model import ReadModel, create_engine
from tests.conftest import Api, serving, worker_on


@dataclass
class OwnStack:
    api: Api
    read_model: ReadModel
    task_queue: str


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
    async def start():
        queue = f"own-{time.monotonic_ns()}"
        settings = dataclasses.replace(
            stack_settings, database_url=f"sqlite+aiosqlite:///{tmp_path}/own.db", task_queue=queue, sla_policy=POLICY
        )
        read_model = ReadModel(create_engine(settings.read_model_url))
        await read_model.upgrade()
        try:
            async with worker_on(temporal_env.client, read_model, queue):
                async with serving(settings) as client:
                    yield OwnStack(Api(client), read_model, queue)
        finally:
            await read_model.close()

    return start
