"""SIGTERM ends `casework api` and `casework worker` within CASEWORK_SHUTDOWN_SECONDS; a request still
waiting on Temporal is answered 503 with Retry-After rather than left to run out its 60 s."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import TEST_USERS, auth, free_port
from tests.e2e.processes import wait_healthy

CASEWORK = Path(sys.executable).parent / "casework"
BOUND = 6
# Beyond the bound: the interpreter's own exit, on a loaded 2-core machine.
EXIT_SLACK = 5


def environment(temporal_env, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("CASEWORK_")},
        "CASEWORK_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "CASEWORK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/casework.db",
        "CASEWORK_USERS": TEST_USERS,
        # No worker polls this queue: every change waits on Temporal until its caller gives up.
        "CASEWORK_TASK_QUEUE": f"unpolled-{time.monotonic_ns()}",
        "CASEWORK_SHUTDOWN_SECONDS": str(BOUND),
        **extra,
    }


async def test_sigterm_answers_a_request_hung_on_temporal_503_and_the_api_exits_within_the_bound(temporal_env, tmp_path):
    env = environment(temporal_env, tmp_path, CASEWORK_HTTP_PORT=str(port := free_port()))
    subprocess.run([str(CASEWORK), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "api.log"
    process = subprocess.Popen([str(CASEWORK), "api"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        await wait_healthy(port, log.read_text)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=90) as client:
            hung = asyncio.create_task(client.post("/cases", json={"kind": "feedback", "title": "t", "description": "d"}, headers=auth("agent")))
            await _until_a_case_waits_on_temporal(temporal_env.client, env["CASEWORK_TASK_QUEUE"])
            assert not hung.done()
            process.send_signal(signal.SIGTERM)
            response = await hung
            exit_code = await asyncio.to_thread(process.wait, BOUND + EXIT_SLACK)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "stopping" in response.json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
        assert exit_code == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()


async def test_sigterm_ends_a_worker_within_the_bound(temporal_env, tmp_path):
    env = environment(temporal_env, tmp_path)
    subprocess.run([str(CASEWORK), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "worker.log"
    process = subprocess.Popen([str(CASEWORK), "worker"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            if "worker polling" in log.read_text():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the worker never started\n{log.read_text()}")
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, BOUND + EXIT_SLACK)
    finally:
        if process.poll() is None:
            process.kill()
            raise AssertionError(f"the worker did not stop within {BOUND + EXIT_SLACK}s\n{log.read_text()}")


async def _until_a_case_waits_on_temporal(client, task_queue: str) -> None:
    for _ in range(300):
        async for _execution in client.list_workflows(f"TaskQueue = '{task_queue}'"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no case workflow was started")
