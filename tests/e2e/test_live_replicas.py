"""Two `casework api` processes on one read model: a change through one reaches a live stream held
by the other; stopping a process ends its streams at once rather than at its shutdown bound."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from service.read_model import ReadModel, create_engine
from tests.api.conftest import postgres_database
from tests.conftest import TEST_USERS, Api, auth, free_port, worker_on
from tests.e2e.processes import wait_healthy
from tests.sse import live

CASEWORK = Path(sys.executable).parent / "casework"
# Long, so that a stream holding the server until uvicorn's graceful bound (half of it) would show.
SHUTDOWN_SECONDS = 120
STOPPED_WITHIN = 30  # the interpreter's own exit on a loaded 2-core machine, far below 60


@asynccontextmanager
async def database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/shared.db"
        return
    async with postgres_database() as url:
        yield url


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_a_change_through_one_replica_reaches_a_stream_on_the_other(kind, temporal_env, tmp_path):
    async with database(kind, tmp_path) as database_url:
        read_model = ReadModel(create_engine(database_url))
        await read_model.upgrade()
        queue = f"live-replicas-{time.monotonic_ns()}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")}
        env.update(
            CASEWORK_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
            CASEWORK_DATABASE_URL=database_url,
            CASEWORK_USERS=TEST_USERS,
            CASEWORK_TASK_QUEUE=queue,
            CASEWORK_SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
        )
        ports = [free_port(), free_port()]
        logs = [tmp_path / f"api-{port}.log" for port in ports]
        processes = [
            subprocess.Popen([str(CASEWORK), "api"], env={**env, "CASEWORK_HTTP_PORT": str(port)}, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
            for port, log in zip(ports, logs)
        ]
        try:
            async with worker_on(temporal_env.client, read_model, queue):
                for port, log in zip(ports, logs):
                    await wait_healthy(port, log.read_text)
                first, second = (httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) for port in ports)
                async with first, second, live(second, auth("auditor")) as stream:
                    case = await Api(first).open("complaint", title="跨副本")
                    await Api(first).act(case["id"], "acknowledge")
                    received = [message.json() for message in await stream.changes(2, case["id"])]
                    assert [(change["seq"], change["action"]) for change in received] == [(1, "report"), (2, "acknowledge")]

                    processes[1].send_signal(signal.SIGTERM)
                    while (message := await stream.next(STOPPED_WITHIN)) is not None:  # ended by the server, not cut off
                        assert message.comment == "heartbeat", message
                    exit_code = await asyncio.to_thread(processes[1].wait, STOPPED_WITHIN)
                    assert exit_code == 0, logs[1].read_text()
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=SHUTDOWN_SECONDS)
            await read_model.close()
