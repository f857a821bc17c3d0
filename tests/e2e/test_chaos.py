"""Faults while clients work: kill -9 the worker, the Temporal server and the API, stop PostgreSQL.

Four clients each walk complaints to closed over HTTP, retrying every request with its
Idempotency-Key until it gets an answer. Afterwards every acknowledged change is in the history
exactly once, no case is stuck, every history verifies, and the read model equals the workflows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from service.temporal import EmbeddedTemporal
from tests.conftest import TEST_USERS, auth, free_port
from tests.e2e.private_postgres import PrivatePostgres, binaries
from tests.e2e.processes import wait_healthy
from tests.support import COMPLAINT_WALK

CASEWORK = Path(sys.executable).parent / "casework"
CLIENTS, CASES_PER_CLIENT = 4, 3
pytestmark = pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="no PostgreSQL server binaries here")


class Chaos:
    def __init__(self, folder: Path):
        self.folder = folder
        self.temporal = EmbeddedTemporal(folder / "temporal", free_port(), free_port())
        self.postgres = PrivatePostgres(free_port())
        self.api_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")},
            "CASEWORK_TEMPORAL_ADDRESS": self.temporal.address,
            "CASEWORK_DATABASE_URL": self.postgres.url,
            "CASEWORK_USERS": TEST_USERS,
            "CASEWORK_HTTP_PORT": str(self.api_port),
            "CASEWORK_RATE_LIMIT_PER_MINUTE": "100000",
            "CASEWORK_TASK_QUEUE": "chaos",
        }

    def run(self, name: str, *command: str) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen([str(CASEWORK), *command], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in self.folder.glob("*.log"))


async def insist(client: httpx.AsyncClient, path: str, body: dict, role: str, deadline: float) -> dict:
    """Send until answered: the same Idempotency-Key makes every retry safe."""
    headers = {**auth(role), "Idempotency-Key": uuid.uuid4().hex}
    while True:
        assert time.monotonic() < deadline, f"no answer for {path} {body}"
        try:
            response = await client.post(path, json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.3)
            continue
        if response.status_code in (429, 500, 502, 503, 504):
            await asyncio.sleep(0.3)
            continue
        assert response.is_success, response.text
        return response.json()


async def walk(client: httpx.AsyncClient, deadline: float, acknowledged: dict[str, list[str]]) -> None:
    for _ in range(CASES_PER_CLIENT):
        case = await insist(client, "/cases", {"kind": "complaint", "title": "混沌"}, "agent", deadline)
        acknowledged[case["id"]] = ["report"]
        for step in COMPLAINT_WALK:
            assert step.actor.role is not None
            case = await insist(client, f"/cases/{case['id']}/transitions", step.body(), step.actor.role, deadline)
            acknowledged[case["id"]].append(step.action)


async def faults(chaos: Chaos) -> None:
    await asyncio.sleep(2)
    chaos.kill("worker")
    await asyncio.sleep(2)
    chaos.run("worker", "worker")
    await asyncio.sleep(2)
    chaos.kill("api")
    chaos.run("api", "api")
    await asyncio.sleep(3)
    temporal = chaos.temporal._process
    assert temporal is not None
    temporal.send_signal(signal.SIGKILL)  # a crash, not a shutdown
    temporal.wait()
    await asyncio.sleep(1)
    await chaos.temporal.start()
    await asyncio.sleep(3)
    chaos.postgres.stop()
    await asyncio.sleep(2)
    chaos.postgres.start()


async def test_acknowledged_changes_survive_crashes_of_every_part_exactly_once(tmp_path):
    chaos = Chaos(tmp_path)
    chaos.postgres.init()
    chaos.postgres.start()
    await chaos.temporal.start()
    try:
        subprocess.run([str(CASEWORK), "db", "upgrade"], env=chaos.env, check=True, capture_output=True, timeout=120)
        chaos.run("worker", "worker")
        chaos.run("api", "api")
        await wait_healthy(chaos.api_port, chaos.logs)
        acknowledged: dict[str, list[str]] = {}
        deadline = time.monotonic() + 240
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{chaos.api_port}", timeout=90) as client:
            await asyncio.gather(*(walk(client, deadline, acknowledged) for _ in range(CLIENTS)), faults(chaos))
            expected = ["report"] + [step.action for step in COMPLAINT_WALK]
            assert len(acknowledged) == CLIENTS * CASES_PER_CLIENT
            for case_id, actions in acknowledged.items():
                assert actions == expected
                history = (await client.get(f"/cases/{case_id}/history", headers=auth("auditor"))).json()["items"]
                assert [event["seq"] for event in history] == list(range(1, len(expected) + 1)), chaos.logs()
                assert [event["action"] for event in history] == expected
                stored = (await client.get(f"/cases/{case_id}", headers=auth("auditor"))).json()
                assert (stored["state"], stored["version"]) == ("closed", len(expected))
                verified = (await client.get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))).json()
                assert verified["ok"], verified
        reconcile = subprocess.run([str(CASEWORK), "reconcile"], env=chaos.env, capture_output=True, text=True, timeout=300)
        assert "reconciled all cases: 0 repaired, 0 with problems" in reconcile.stdout, reconcile.stdout + reconcile.stderr
    finally:
        for process in chaos.processes.values():
            if process.poll() is None:
                process.kill()
        chaos.temporal.stop()
        chaos.postgres.remove()
