"""The production topology: an external Temporal server, PostgreSQL as the read model, and two
`casework worker` and two `casework api` processes on one task queue.

Cases are opened and moved through both APIs in turn while one worker is killed -9 midway; every
walk still completes, and both APIs, the history verification and the PostgreSQL read model agree.

PostgreSQL comes from `CASEWORK_TEST_POSTGRES_URL` (a fresh database per run, dropped afterwards);
without it the test is skipped; with it set but the server down it fails in CI (CI is set) and is
skipped with the reason elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.read_model import cases as cases_table, events as events_table
from service.temporal import EmbeddedTemporal
from tests.api.walks import WALKS
from tests.conftest import TEST_USERS, auth, free_port

CASEWORK = Path(sys.executable).parent / "casework"
POSTGRES_URL_VARIABLE = "CASEWORK_TEST_POSTGRES_URL"
# Complaints are opened by an agent, incidents by a supervisor (see WALKS).
CASE_MIX = ["complaint", "incident", "complaint", "incident", "complaint", "incident"]
STARTUP_SECONDS = 60

pytestmark = pytest.mark.postgres


# --- PostgreSQL: a fresh database per run ---------------------------------------------------


@pytest.fixture
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the server at CASEWORK_TEST_POSTGRES_URL; its URL. Dropped afterwards."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; set it to a postgresql+asyncpg:// URL to run the topology test")
    name = f"cw_topology_{secrets.token_hex(6)}"
    admin = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        except OSError as error:
            # In CI the server must be there; on a developer's machine without one, say so and go on.
            if os.environ.get("CI"):
                raise
            pytest.skip(f"PostgreSQL at {POSTGRES_URL_VARIABLE} is not reachable ({error}); CI runs this test")
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                # The processes may have been killed, or still hold pooled connections: end them first.
                await connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                    {"name": name},
                )
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        await admin.dispose()


# --- the processes --------------------------------------------------------------------------


class Topology:
    """An external Temporal server, and `casework worker` and `casework api` processes using it."""

    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.database_url = database_url
        self.temporal = EmbeddedTemporal(folder / "temporal", free_port(), free_port())
        self.processes: dict[str, subprocess.Popen] = {}
        self.api_ports: dict[str, int] = {}
        self.base_env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")},
            "CASEWORK_TEMPORAL_ADDRESS": self.temporal.address,
            "CASEWORK_DATABASE_URL": database_url,
            "CASEWORK_DATA_DIR": str(folder / "data"),
            "CASEWORK_USERS": TEST_USERS,
            "CASEWORK_TASK_QUEUE": f"topology-{secrets.token_hex(4)}",
            "CASEWORK_HTTP_HOST": "127.0.0.1",
            # The test polls hard through two APIs; the rate limit has its own test.
            "CASEWORK_RATE_LIMIT_PER_MINUTE": "1000000",
        }

    def log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def logs(self) -> str:
        paths = sorted(self.folder.glob("*.log")) + [self.folder / "temporal" / "temporal.log"]
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}" for path in paths if path.exists())

    def upgrade_read_model(self) -> None:
        done = subprocess.run([str(CASEWORK), "db", "upgrade"], env=self.base_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"casework db upgrade failed:\n{done.stdout}\n{done.stderr}"

    def run(self, name: str, command: str, **env: str) -> None:
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(
                [str(CASEWORK), command], env={**self.base_env, **env}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def run_worker(self, name: str) -> None:
        self.run(name, "worker")

    def run_api(self, name: str) -> None:
        self.api_ports[name] = free_port()
        self.run(name, "api", CASEWORK_HTTP_PORT=str(self.api_ports[name]))

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def assert_running(self, name: str) -> None:
        code = self.processes[name].poll()
        assert code is None, f"{name} exited with status {code}\n{self.logs()}"

    async def worker_polling(self, name: str) -> None:
        deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
        while "worker polling task queue" not in self.log_path(name).read_text(errors="replace"):
            self.assert_running(name)
            assert asyncio.get_running_loop().time() < deadline, f"{name} never started polling\n{self.logs()}"
            await asyncio.sleep(0.1)

    async def api_healthy(self, name: str) -> None:
        deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                self.assert_running(name)
                try:
                    if (await client.get(f"http://127.0.0.1:{self.api_ports[name]}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, f"{name} never became healthy\n{self.logs()}"
                await asyncio.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.temporal.stop()


@pytest.fixture
async def topology(tmp_path, postgres_database: str) -> AsyncIterator[Topology]:
    topology = Topology(tmp_path, postgres_database)
    try:
        await topology.temporal.start()
        topology.upgrade_read_model()
        for name in ("worker-1", "worker-2"):
            topology.run_worker(name)
        for name in ("api-1", "api-2"):
            topology.run_api(name)
        await asyncio.gather(*(topology.worker_polling(name) for name in ("worker-1", "worker-2")))
        await asyncio.gather(*(topology.api_healthy(name) for name in ("api-1", "api-2")))
        yield topology
    finally:
        topology.stop()


# --- the scenario ---------------------------------------------------------------------------


class Walker:
    """Walks cases through their kind's walk, alternating between the APIs on every request."""

    def __init__(self, topology: Topology, clients: list[httpx.AsyncClient]):
        self.topology = topology
        self.clients = clients
        self.acknowledged = 0  # transitions answered 2xx so far, over all cases
        self.total = sum(len(WALKS[kind][1]) for kind in CASE_MIX)

    def client(self, turn: int) -> httpx.AsyncClient:
        return self.clients[turn % len(self.clients)]

    def check(self, response: httpx.Response, expected: int, what: str) -> dict:
        assert response.status_code == expected, (
            f"{what} via {response.request.url.host}:{response.request.url.port}: {response.status_code} {response.text}\n{self.topology.logs()}"
        )
        return response.json()

    async def walk(self, number: int, kind: str) -> str:
        opener, steps, states = WALKS[kind]
        response = await self.client(number).post("/cases", json={"kind": kind, "title": f"topology {kind} {number}", "description": "two of everything"}, headers=auth(opener))
        case = self.check(response, 201, f"opening {kind} {number}")
        assert (case["state"], case["version"]) == ("report", 1)
        case_id = case["id"]
        for step, ((role, action, data), state) in enumerate(zip(steps, states), start=1):
            body = {"action": action, **({"data": data} if data is not None else {})}
            response = await self.client(number + step).post(f"/cases/{case_id}/transitions", json=body, headers=auth(role))
            case = self.check(response, 200, f"{kind} {case_id} step {step} {action}")
            assert (case["state"], case["version"]) == (state, step + 1), f"{kind} {case_id} after {action}: {case}"
            self.acknowledged += 1
        return case_id

    async def kill_a_worker_midway(self) -> int:
        """Once about half of all transitions are acknowledged, kill -9 a worker while the others are in flight."""
        while self.acknowledged < self.total // 2:
            await asyncio.sleep(0.02)
        self.topology.kill("worker-1")
        return self.acknowledged


async def test_cases_complete_through_two_apis_and_two_workers_when_a_worker_is_killed_midway(topology: Topology):
    ports = topology.api_ports
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['api-1']}", timeout=90) as first,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports['api-2']}", timeout=90) as second,
    ):
        clients = [first, second]
        walker = Walker(topology, clients)
        killer = asyncio.create_task(walker.kill_a_worker_midway())
        try:
            case_ids = await asyncio.gather(*(walker.walk(number, kind) for number, kind in enumerate(CASE_MIX)))
        finally:
            if not killer.done():
                killer.cancel()
        killed_at = await killer
        assert 0 < killed_at < walker.total, f"the worker was killed after {killed_at} of {walker.total} transitions"
        assert topology.processes["worker-1"].returncode == -signal.SIGKILL
        topology.assert_running("worker-2")
        logs = topology.logs()

        expected = {case_id: kind for case_id, kind in zip(case_ids, CASE_MIX)}
        for case_id, kind in expected.items():
            _, steps, states = WALKS[kind]
            for client in clients:
                where = f"{kind} {case_id} via {client.base_url}"
                case = (await client.get(f"/cases/{case_id}", headers=auth("auditor"))).json()
                assert (case["kind"], case["state"], case["version"]) == (kind, states[-1], len(steps) + 1), f"{where}: {case}\n{logs}"

                history = (await client.get(f"/cases/{case_id}/history", headers=auth("auditor"))).json()["items"]
                assert [event["seq"] for event in history] == list(range(1, len(steps) + 2)), f"{where}: {history}\n{logs}"
                assert [event["action"] for event in history] == ["report"] + [action for _, action, _ in steps], f"{where}\n{logs}"
                assert [event["to_state"] for event in history] == ["report"] + states, f"{where}\n{logs}"
                assert [event["from_state"] for event in history[1:]] == ["report"] + states[:-1], f"{where}\n{logs}"
                assert [event["actor"]["role"] for event in history] == [WALKS[kind][0]] + [role for role, _, _ in steps], f"{where}\n{logs}"

                verified = await client.get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))
                assert verified.status_code == 200 and verified.json()["ok"] is True, f"{where}: {verified.text}\n{logs}"

        for client in clients:
            listed = (await client.get("/cases", params={"state": "closed", "limit": 500}, headers=auth("auditor"))).json()
            versions = {item["id"]: (item["state"], item["version"]) for item in listed["items"]}
            for case_id, kind in expected.items():
                assert versions.get(case_id) == ("closed", len(WALKS[kind][1]) + 1), f"{case_id} in the list via {client.base_url}: {listed}\n{logs}"

    # The read model the processes wrote is this PostgreSQL database, and it holds exactly the walks.
    engine = create_async_engine(topology.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(cases_table.c.id, cases_table.c.state, cases_table.c.version))).all()
            counts = dict((await connection.execute(select(events_table.c.case_id, func.count()).group_by(events_table.c.case_id))).all())
    finally:
        await engine.dispose()
    assert {row.id: (row.state, row.version) for row in rows} == {case_id: ("closed", len(WALKS[kind][1]) + 1) for case_id, kind in expected.items()}
    assert counts == {case_id: len(WALKS[kind][1]) + 1 for case_id, kind in expected.items()}
