"""The production topology on one machine: Temporal as an external service, PostgreSQL as the read
model, two `casework api` and two `casework worker` processes. Cases move through either API while
one worker is killed midway; everything completes and the read model is right."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service.temporal import EmbeddedTemporal
from tests.conftest import TEST_USERS, auth, free_port
from tests.e2e.private_postgres import PrivatePostgres, binaries
from tests.e2e.processes import wait_healthy
from tests.support import OPENERS, WALKS, phases

CASEWORK = Path(sys.executable).parent / "casework"
pytestmark = pytest.mark.skipif(binaries() is None and not os.environ.get("CI"), reason="no PostgreSQL server binaries here")


async def test_two_apis_and_two_workers_on_postgresql_survive_losing_a_worker(tmp_path):
    temporal = EmbeddedTemporal(tmp_path / "temporal", free_port(), free_port())
    postgres = PrivatePostgres(free_port())
    postgres.init()
    postgres.start()
    await temporal.start()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")},
        "CASEWORK_TEMPORAL_ADDRESS": temporal.address,
        "CASEWORK_DATABASE_URL": postgres.url,
        "CASEWORK_USERS": TEST_USERS,
        "CASEWORK_TASK_QUEUE": "topology",
        "CASEWORK_RATE_LIMIT_PER_MINUTE": "100000",
    }
    processes: dict[str, subprocess.Popen] = {}

    def run(name: str, *command: str, **extra: str) -> None:
        log = open(tmp_path / f"{name}.log", "ab")
        processes[name] = subprocess.Popen([str(CASEWORK), *command], env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT)

    try:
        subprocess.run([str(CASEWORK), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports):
            run(f"api-{number}", "api", CASEWORK_HTTP_PORT=str(port))
            run(f"worker-{number}", "worker")
        for port in ports:
            await wait_healthy(port)
        apis = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) for port in ports]
        alternate = itertools.cycle(apis)
        try:
            cases = {}
            for kind in ("complaint", "incident", "complaint", "improvement_plan", "feedback"):
                opener = OPENERS[kind].role
                assert opener is not None
                response = await next(alternate).post("/cases", json={"kind": kind, "title": f"{kind} 拓扑"}, headers=auth(opener))
                assert response.status_code == 201, response.text
                cases[response.json()["id"]] = kind
            longest = max(len(WALKS[kind]) for kind in cases.values())
            for step in range(longest):
                if step == longest // 2:
                    processes["worker-0"].send_signal(signal.SIGKILL)
                for case_id, kind in cases.items():
                    walk = WALKS[kind]
                    if step < len(walk):
                        walked = walk[step]
                        assert walked.actor.role is not None
                        response = await next(alternate).post(f"/cases/{case_id}/transitions", json=walked.body(), headers=auth(walked.actor.role))
                        assert response.status_code == 200, response.text
            for case_id, kind in cases.items():
                walk, states = WALKS[kind], phases(WALKS[kind])
                for api in apis:
                    case = (await api.get(f"/cases/{case_id}", headers=auth("auditor"))).json()
                    assert (case["state"], case["version"]) == (states[-1], len(walk) + 1)
                history = (await apis[0].get(f"/cases/{case_id}/history", headers=auth("auditor"))).json()["items"]
                assert [event["action"] for event in history] == ["report"] + [walked.action for walked in walk]
                verified = (await apis[1].get(f"/cases/{case_id}/history/verify", headers=auth("auditor"))).json()
                assert verified["ok"], verified
            closed = (await apis[1].get("/cases", params={"state": "closed"}, headers=auth("auditor"))).json()["items"]
            assert set(cases) <= {case["id"] for case in closed}
        finally:
            for api in apis:
                await api.aclose()
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        temporal.stop()
        postgres.remove()
